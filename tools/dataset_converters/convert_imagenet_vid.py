# Copyright (c) off_plugin authors. All rights reserved.
"""Convert ImageNet VID / DET (ILSVRC2015) to COCO-VID json files.

    python tools/dataset_converters/convert_imagenet_vid.py data/ILSVRC2015 \
        [-o data/ILSVRC2015/annotations] [--splits train val det]

Reads ``<root>/Data``, ``<root>/Annotations`` and FGFA's lists in
``<root>/ImageSets`` (``VID_train_15frames.txt``, ``VID_val_videos.txt``,
``DET_train_30classes.txt``) and writes ``imagenet_vid_train.json``,
``imagenet_vid_val.json`` and ``imagenet_det_30cls.json`` for mmdet's
``BaseVideoDataset`` (``data_prefix=dict(img_path='<root>/Data/')``); see
:mod:`ilsvrc`.

Writes only the json files of ``--splits`` into ``-o`` / ``--out-dir``
(``--out`` too; default ``<root>/annotations``, made if missing), each
through ``.<json>.tmp-<pid>`` beside it, renamed once complete (a killed run
may leave that file; the next run deletes it). Everything under ``<root>``
is only read. A damaged input stops the conversion with a one-line error
naming the file and the fix (exit status 1) before any json is written or
any folder made.
"""
import argparse

from ilsvrc import SPLITS, convert_imagenet_vid

from off_plugin.utils.cli import run_tool


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('root', help='the ILSVRC2015 directory')
    parser.add_argument(
        '-o',
        '--out-dir',
        '--out',
        dest='out',
        help='output directory (default: <root>/annotations)')
    parser.add_argument(
        '--splits',
        nargs='+',
        choices=list(SPLITS),
        default=list(SPLITS),
        help='what to convert')
    args = parser.parse_args(argv)
    summary = convert_imagenet_vid(args.root, args.out, args.splits)
    for path, counts in summary.items():
        line = (f'{path}: {counts["videos"]} videos, {counts["images"]} '
                f'images, {counts["boxes"]} boxes')
        if counts['other_classes']:
            line += (' (boxes of the other DET classes dropped: '
                     f'{counts["other_classes"]})')
        print(line)


if __name__ == '__main__':
    run_tool(main)
