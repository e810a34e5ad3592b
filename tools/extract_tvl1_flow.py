# Copyright (c) off_plugin authors. All rights reserved.
"""Extract TV-L1 optical flow (OpenCV) into MMAction2's rawframe layout.

    python tools/extract_tvl1_flow.py data/ucf101/videos data/ucf101/rawframes \
        --ann-files data/ucf101/ucf101_train_split_1_videos.txt \
                    data/ucf101/ucf101_val_split_1_videos.txt \
        --size 340 256 --nproc 16

Every video of the annotation files (``path label`` lines, paths relative
to the video root) gets ``<out>/<path without extension>/x_00001.jpg,
y_00001.jpg, ...``; next to each annotation file a rawframe list
(``..._rawframes.txt``: ``dir num_flow_frames label``) is written for
``RawframeDataset(modality='Flow', filename_tmpl='{}_{:05d}.jpg')``.
Interrupted runs resume: finished videos are skipped. Videos that fail are
listed at the end (exit status 1); nothing else is lost.
"""
import argparse
import os.path as osp
import sys
from functools import partial

from mmengine.utils import track_parallel_progress, track_progress

from off_plugin.datasets.optical_flow import (extract_video_flow,
                                              rawframe_annotations)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('video_root', help='root of the videos')
    parser.add_argument('out_root', help='root of the rawframe directories')
    parser.add_argument('--ann-files', nargs='+', required=True,
                        help='MMAction2 video lists (path label)')
    parser.add_argument('--bound', type=float, default=20.,
                        help='flow clipped to [-bound, bound] pixels')
    parser.add_argument('--size', type=int, nargs=2, metavar=('W', 'H'),
                        help='resize frames first (TSN: 340 256)')
    parser.add_argument('--with-rgb', action='store_true',
                        help='also write img_00001.jpg, ... (RGB frames)')
    parser.add_argument('--nproc', type=int, default=1)
    return parser.parse_args()


def extract(item, args):
    path, out_dir = item
    try:
        return extract_video_flow(
            path, out_dir, args.bound,
            tuple(args.size) if args.size else None, args.with_rgb)
    except Exception as err:  # reported at the end, the others go on
        return f'{path}: {err}'


def main():
    args = parse_args()
    lists = {}
    for ann in args.ann_files:
        with open(ann) as f:
            lists[ann] = [line.strip() for line in f if line.strip()]
    videos = sorted({line.split()[0] for lines in lists.values()
                     for line in lines})
    items = [(osp.join(args.video_root, v),
              osp.join(args.out_root, osp.splitext(v)[0])) for v in videos]
    work = partial(extract, args=args)
    if args.nproc > 1:
        results = track_parallel_progress(work, items, args.nproc)
    else:
        results = track_progress(work, items)
    counts = dict(zip(videos, results))
    failed = [r for r in results if isinstance(r, str)]
    for ann, lines in lists.items():
        ok = [line for line in lines
              if not isinstance(counts[line.split()[0]], str)]
        out = ann.replace('_videos.txt', '_rawframes.txt')
        if out == ann:
            out = osp.splitext(ann)[0] + '_rawframes.txt'
        with open(out, 'w') as f:
            f.writelines(
                line + '\n' for line in rawframe_annotations(
                    ok, [counts[line.split()[0]] for line in ok]))
        print(f'{out}: {len(ok)} of {len(lines)} videos')
    if failed:
        print(f'{len(failed)} videos failed (left out of the lists):',
              *failed, sep='\n  ', file=sys.stderr)
        sys.exit(1)


if __name__ == '__main__':
    main()
