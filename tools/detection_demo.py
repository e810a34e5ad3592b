# Copyright (c) off_plugin authors. All rights reserved.
"""Video object detection demo: R-FCN vs R-FCN + OFF on embedded data.

1. writes the embedded moving-objects set (``data/moving_objects``: photo
   crops over real video backgrounds, classes ``static`` / ``moving_left`` /
   ``moving_right``, decided by motion alone) unless ``--data-root`` names a
   set of your own in the same layout (``DIR/annotations/{train,val}.json``
   in COCO-VID, ``file_name`` relative to ``DIR/Data/``; classes read from
   the json's ``categories``);
2. ``mim train mmdet`` / ``mim test mmdet`` the single-frame R-FCN baseline;
3. the same for R-FCN + multi-scale OFF (each frame paired online with the
   frame before it);
4. prints both held-out ImageNet-VID mAP@0.5 side by side.

Everything goes through MMDetection's runner, datasets and samplers; the
configs are in ``configs/detection/off/``.
"""
import argparse
import glob
import json
import os
import os.path as osp
import sys
import time
from typing import List

from off_plugin.datasets.moving_objects import make_moving_objects
from off_plugin.mim import run_mim

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = osp.join(ROOT, 'configs', 'detection', 'off')
BASELINE = osp.join(CONFIGS, 'rfcn_r18-tiny_1xb8-5e_moving-objects.py')
OFF = osp.join(CONFIGS, 'off-ms_rfcn_r18-tiny_1xb8-5e_moving-objects.py')
EPOCHS = 5


def data_options(data_root: str) -> List[str]:
    """``--cfg-options`` that point the configs at ``data_root``, with the
    classes of its json."""
    ann = osp.join(data_root, 'annotations')
    classes = []
    for split in ('train', 'val'):
        path = osp.join(ann, f'{split}.json')
        if not osp.isfile(path):
            sys.exit(f'detection_demo: {path} is missing; --data-root needs '
                     'annotations/train.json and annotations/val.json '
                     '(COCO-VID).')
        with open(path) as f:
            names = [c['name'] for c in sorted(
                json.load(f)['categories'], key=lambda c: c['id'])]
        if classes and names != classes:
            sys.exit(f'detection_demo: {path} has the categories {names}, '
                     f'train.json has {classes}; both need the same.')
        classes = names
    options = [f'model.detector.roi_head.bbox_head.num_classes={len(classes)}']
    for loader, split in (('train', 'train'), ('val', 'val'),
                          ('test', 'val')):
        dataset = f'{loader}_dataloader.dataset'
        options += [
            f'{dataset}.data_root={data_root}',
            f'{dataset}.ann_file=annotations/{split}.json',
            f'{dataset}.metainfo.classes={tuple(classes)!r}'.replace(' ', ''),
        ]
    for evaluator in ('val_evaluator', 'test_evaluator'):
        options.append(
            f'{evaluator}.ann_file={osp.join(ann, "val.json")}')
    return options


def train_and_test(config: str, work_dir: str, options: List[str]) -> dict:
    """``mim train`` then ``mim test`` the last checkpoint; the test
    metrics."""
    cfg_options = ['--cfg-options', *options]
    run_mim('train', 'mmdet', config, '--work-dir', work_dir, *cfg_options,
            cwd=ROOT)
    run_mim('test', 'mmdet', config, '--checkpoint',
            osp.join(work_dir, f'epoch_{EPOCHS}.pth'), '--work-dir',
            work_dir, *cfg_options, cwd=ROOT)
    # mmengine's logger writes the test metrics to <timestamp>/<timestamp>.json
    logs = sorted(glob.glob(osp.join(work_dir, '*', '*.json')),
                  key=osp.getmtime)
    with open(logs[-1]) as f:
        return json.loads(f.readlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--data-root', default='data/moving_objects',
        help='set in the demo layout; written there if missing (default)')
    parser.add_argument('--work-dir', default='work_dirs/detection_demo')
    args = parser.parse_args()
    os.chdir(ROOT)

    start = time.time()
    if args.data_root == parser.get_default('data_root') and not osp.isfile(
            osp.join(args.data_root, 'annotations', 'val.json')):
        print(f'writing the embedded moving-objects set to {args.data_root}')
        make_moving_objects(args.data_root)
    options = data_options(args.data_root)
    results = {
        name: train_and_test(config, osp.join(args.work_dir, name), options)
        for name, config in (('rfcn', BASELINE), ('rfcn_off', OFF))
    }
    print(f'\nHeld-out ImageNet-VID mAP@0.5 on {args.data_root}, '
          f'{time.time() - start:.0f} s in all:')
    for name, label in (('rfcn', 'R-FCN (single frame)'),
                        ('rfcn_off', 'R-FCN + OFF (MS)    ')):
        print(f'  {label} {results[name]["vid/mAP"]:.3f}')


if __name__ == '__main__':
    main()
