# Copyright (c) off_plugin authors. All rights reserved.
"""Convert ImageNet VID / DET (ILSVRC2015) to COCO-VID json files.

    python tools/convert_imagenet_vid.py data/ILSVRC2015 \
        [--out data/ILSVRC2015/annotations] [--splits train val det]

Reads ``<root>/Data``, ``<root>/Annotations`` and FGFA's lists in
``<root>/ImageSets`` (``VID_train_15frames.txt``, ``VID_val_videos.txt``,
``DET_train_30classes.txt``) and writes ``imagenet_vid_train.json``,
``imagenet_vid_val.json`` and ``imagenet_det_30cls.json`` for mmdet's
``BaseVideoDataset`` (``data_prefix=dict(img_path='<root>/Data/')``); see
:mod:`off_plugin.datasets.ilsvrc`. A damaged input stops the conversion
with a one-line error naming the file and the fix (exit status 1) before
any json is written; each json is written whole or not at all.
"""
import argparse
import sys

from off_plugin.datasets.ilsvrc import SPLITS, convert_imagenet_vid


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('root', help='the ILSVRC2015 directory')
    parser.add_argument('--out', help='output directory '
                        '(default: <root>/annotations)')
    parser.add_argument('--splits', nargs='+', choices=list(SPLITS),
                        default=list(SPLITS), help='what to convert')
    args = parser.parse_args(argv)
    try:
        summary = convert_imagenet_vid(args.root, args.out, args.splits)
    except (OSError, ValueError) as err:
        sys.exit(f'error: {err}')
    for path, counts in summary.items():
        line = (f'{path}: {counts["videos"]} videos, {counts["images"]} '
                f'images, {counts["boxes"]} boxes')
        if counts['other_classes']:
            line += (' (boxes of the other DET classes dropped: '
                     f'{counts["other_classes"]})')
        print(line)


if __name__ == '__main__':
    main()
