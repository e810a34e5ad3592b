# Copyright (c) off_plugin authors. All rights reserved.
"""Video object detection demo: R-FCN vs R-FCN + OFF, on embedded data or
on a set of your own.

    python demo/detection_demo.py [--data-root DIR] [--work-dir DIR]
        [--epochs N] [--cfg-options KEY=VALUE ...]

1. the data: without ``--data-root``, the embedded moving-objects set in
   ``data/moving_objects`` (photo crops over real video backgrounds,
   classes ``static`` / ``moving_left`` / ``moving_right``, decided by
   motion alone), written there if it is not there yet; with
   ``--data-root DIR``, a set of your own in the same layout
   (``DIR/annotations/{train,val}.json`` in COCO-VID, ``file_name``
   relative to ``DIR/Data/``, classes from the json's ``categories``);
2. fits what depends on the data to the training json and prints what it
   chose and why (:func:`fit_recipe`): the input scale, the anchors, the
   detections per frame and the number of epochs (``--epochs`` and
   ``--cfg-options`` override it);
3. ``mim train mmdet`` / ``mim test mmdet`` the single-frame R-FCN
   baseline, then R-FCN + multi-scale OFF (each frame paired online with
   the frame before it), both from the demo's configs in
   ``configs/detection/off/`` with the fitted settings, then
   ``--cfg-options``;
4. prints both held-out ImageNet-VID mAP@0.5 side by side.

Writes only into the work directory (``--work-dir``, default
``work_dirs/detection_demo``): the two configs run (``rfcn.py``,
``rfcn_off.py``) and their runs (``rfcn/``, ``rfcn_off/``: logs,
checkpoints); and, without ``--data-root``, the embedded set into
``data/moving_objects``. ``--data-root DIR`` is only read (a work
directory inside it is refused). A set without ``annotations/train.json``
or ``val.json`` is a one-line error before anything is written.
"""
import argparse
import json
import math
import os
import os.path as osp
import time
from collections import defaultdict
from typing import Dict, List, Optional, Tuple

import numpy as np
from mim_runner import mim_config, run_mim
from mmengine.config import Config
from moving_objects import make_moving_objects

from off_plugin.utils.cli import (ToolError, add_cfg_options, load_config,
                                  run_tool)

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = osp.join(ROOT, 'configs', 'detection', 'off')
# (work sub-folder, name printed, config)
MODELS = (
    ('rfcn', 'R-FCN (single frame)',
     osp.join(CONFIGS, 'rfcn_r18-tiny_1xb8-5e_moving-objects.py')),
    ('rfcn_off', 'R-FCN + OFF (MS)',
     osp.join(CONFIGS, 'off-ms_rfcn_r18-tiny_1xb8-5e_moving-objects.py')),
)
EMBEDDED = osp.join(ROOT, 'data', 'moving_objects')
STRIDE = 8  # the tiny R-FCN's feature stride (RPN and RoI head)
OBJECT_PX = (24, 48)  # median object wanted between 3 and 6 strides
MAX_ZOOM = 2.
ITERATIONS = 500  # the embedded recipe: 5 epochs of 800 key frames by 8
MAX_EPOCHS = 50


def read_split(data_root: str, split: str) -> dict:
    """``DIR/annotations/<split>.json``; a one-line error if it is missing
    or not COCO-VID."""
    path = osp.join(data_root, 'annotations', f'{split}.json')
    if not osp.isfile(path):
        raise ToolError(
            f'{path}: no such file; --data-root needs annotations/train.json '
            'and annotations/val.json (COCO-VID, file_name relative to '
            'Data/): write them, or leave --data-root out for the embedded '
            'set.')
    try:
        with open(path) as f:
            coco = json.load(f)
    except ValueError as err:
        raise ValueError(f'{path}: not a valid json file ({err}); write it '
                         'again.') from None
    for key in ('images', 'annotations', 'categories'):
        if not isinstance(coco, dict) or not isinstance(coco.get(key), list):
            raise ToolError(f'{path}: no {key!r} list, not a COCO-VID json; '
                            'write images, annotations and categories.')
    return coco


def key_frames(coco: dict) -> Tuple[np.ndarray, List[np.ndarray]]:
    """The (width, height) of the training key frames (``is_vid_train_frame``
    if the json has it, with boxes, as ``ImagenetVIDDataset`` trains) and the
    (w, h) of each one's boxes."""
    boxes = defaultdict(list)
    for ann in coco['annotations']:
        w, h = ann['bbox'][2:]
        if w >= 1 and h >= 1:
            boxes[ann['image_id']].append((w, h))
    frames = [
        image for image in coco['images']
        if image.get('is_vid_train_frame', True) and boxes[image['id']]
    ]
    return (np.array([(f['width'], f['height']) for f in frames],
                     float), [np.array(boxes[f['id']], float) for f in frames])


def octaves(value: float, step: float) -> float:
    """``value`` rounded to a power of 2 in steps of ``step`` octaves."""
    return 2**(round(math.log2(value) / step) * step)


def training_key_frames(coco: dict,
                        path: str) -> Tuple[np.ndarray, List[np.ndarray]]:
    """:func:`key_frames`; a one-line error naming ``path`` if a field is
    missing or no key frame has boxes."""
    try:
        frames, boxes = key_frames(coco)
    except (KeyError, TypeError, IndexError) as err:
        raise ToolError(f'{path}: an image or annotation without the '
                        f'COCO-VID fields ({err!r}); give images id, width, '
                        'height and annotations image_id, bbox.') from None
    if not len(frames):
        raise ToolError(f'{path}: no training key frame with boxes; give '
                        'frames with boxes is_vid_train_frame true.')
    return frames, boxes


def fit_input_scale(frames: np.ndarray,
                    sizes: np.ndarray) -> Tuple[float, Tuple[int, int], str]:
    """The zoom and the input scale for frames of (w, h) ``frames`` with
    objects of ``sizes`` px, and the line that says why."""
    median = float(np.median(sizes))
    zoom = min(float(np.clip(median, *OBJECT_PX)) / median, MAX_ZOOM)
    fw, fh = np.median(frames, 0)
    width, height = int(round(fw * zoom)), int(round(fh * zoom))
    kept = 'kept' if zoom == 1 else f'zoomed x{zoom:.2f}'
    return zoom, (width, height), (
        f'input scale {width}x{height}: frames {fw:.0f}x{fh:.0f}, median '
        f'object {median:.0f} px, wanted {OBJECT_PX[0]}-{OBJECT_PX[1]} px '
        f'(3-6 strides of {STRIDE} px): {kept}')


def fit_anchors(wh: np.ndarray, zoom: float) -> Tuple[dict, str]:
    """The anchor scales and ratios for boxes of (w, h) ``wh`` zoomed by
    ``zoom``, and the line that says why."""
    size = np.sqrt(wh.prod(1)) * zoom
    lo, hi = np.percentile(size, (10, 90))
    num_scales = max(1, math.ceil(math.log2(hi / lo) / .5 - 1e-6))
    scales = sorted({
        octaves(lo * (hi / lo)**((i + .5) / num_scales) / STRIDE, .25)
        for i in range(num_scales)
    })
    aspect = np.percentile(wh[:, 1] / wh[:, 0], (10, 90))
    ratios = [
        2.**k for k in range(
            min(-1, round(math.log2(aspect[0]))),
            max(1, round(math.log2(aspect[1]))) + 1)
    ]
    return {
        'model.detector.rpn_head.anchor_generator.scales': scales,
        'model.detector.rpn_head.anchor_generator.ratios': ratios,
    }, (f'anchors: scales {[round(s, 2) for s in scales]} (x{STRIDE} px = '
        f'{", ".join(f"{s * STRIDE:.0f}" for s in scales)} px) for objects '
        f'of {lo:.0f}-{hi:.0f} px at that scale (10th-90th percentile); '
        f'ratios {ratios} for h/w {aspect[0]:.2f}-{aspect[1]:.2f}')


def fit_detections(cfg: Config, boxes: List[np.ndarray]) -> Tuple[dict, str]:
    """Detections and proposals per frame for key frames of ``boxes``, and
    the line that says why."""
    crowd = max(len(b) for b in boxes)
    test_cfg = cfg.model.detector.test_cfg
    detections = max(test_cfg.rcnn.max_per_img, 4 * crowd)
    proposals = max(test_cfg.rpn.max_per_img, 10 * crowd)
    return {
        'model.detector.test_cfg.rcnn.max_per_img': detections,
        'model.detector.test_cfg.rpn.max_per_img': proposals,
    }, (f'detections per frame: {detections} (proposals {proposals}), up '
        f'to {crowd} objects in a key frame')


def fit_epochs(cfg: Config, num_frames: int,
               epochs: Optional[int]) -> Tuple[dict, str]:
    """The schedule of ``epochs`` (by default fitted to ``num_frames`` key
    frames), and the line that says why."""
    batch = cfg.train_dataloader.batch_size
    fitted = epochs is None
    if fitted:
        epochs = min(math.ceil(ITERATIONS * batch / num_frames), MAX_EPOCHS)
    options = {
        'train_cfg.max_epochs': epochs,
        'default_hooks.checkpoint.interval': epochs,
    }
    options.update({
        f'param_scheduler.{i}.end': epochs
        for i, s in enumerate(cfg.param_scheduler) if s.get('by_epoch', True)
    })
    return options, (
        f'training: {epochs} epochs of {math.ceil(num_frames / batch)} '
        f'iterations ({num_frames} key frames, batch {batch})' +
        (f', about {ITERATIONS} iterations' if fitted else ' (--epochs)'))


def fit_recipe(coco: dict,
               cfg: Config,
               epochs: Optional[int] = None,
               path: str = 'train.json') -> Tuple[dict, List[str]]:
    """The settings of ``cfg`` that depend on the training json ``coco``
    (dotted keys, for ``Config.merge_from_dict``) and the lines that say
    what was chosen and why:

    - input scale: the frames' median size, zoomed so that the median
      object (``sqrt(w * h)``) is within ``OBJECT_PX`` (3 to 6 strides), at
      most ``MAX_ZOOM``; kept if it already is;
    - anchor scales: one per half octave of the spread of the object sizes
      at the input scale (10th to 90th percentile), at the centres of equal
      log steps, in strides, rounded to a quarter octave; anchor ratios
      (h / w): the config's 0.5, 1, 2, widened by octaves to the 10th and
      90th percentile of the boxes' h / w;
    - detections per frame: the config's, or 4 (proposals 10) per object of
      the most crowded key frame if more;
    - epochs: ``ITERATIONS`` iterations of the config's batch over the key
      frames (at most ``MAX_EPOCHS``), or ``epochs``.

    The input scale is returned as ``scale`` (see :func:`set_input_scale`).
    """
    frames, boxes = training_key_frames(coco, path)
    wh = np.concatenate(boxes)
    zoom, scale, scale_line = fit_input_scale(frames, np.sqrt(wh.prod(1)))
    anchors, anchor_line = fit_anchors(wh, zoom)
    detections, detection_line = fit_detections(cfg, boxes)
    schedule, schedule_line = fit_epochs(cfg, len(frames), epochs)
    return {
        **anchors,
        **detections,
        **schedule, 'scale': scale
    }, [scale_line, anchor_line, detection_line, schedule_line]


def set_input_scale(cfg: Config, scale: Tuple[int, int]) -> None:
    """Resize every frame of the config's pipelines to ``scale``."""
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        for step in cfg[loader].dataset.pipeline if cfg[loader] else ():
            for transform in [step, *step.get('transforms', [])]:
                if transform['type'] == 'Resize':
                    transform['scale'] = scale


def data_options(data_root: str, classes: List[str]) -> dict:
    """Settings that point a demo config at ``data_root`` and its
    classes."""
    options = {'model.detector.roi_head.bbox_head.num_classes': len(classes)}
    for loader, split in (('train', 'train'), ('val', 'val'), ('test', 'val')):
        dataset = f'{loader}_dataloader.dataset'
        options.update({
            f'{dataset}.data_root': data_root,
            f'{dataset}.ann_file': f'annotations/{split}.json',
            f'{dataset}.metainfo.classes': tuple(classes),
        })
    for evaluator in ('val_evaluator', 'test_evaluator'):
        options[f'{evaluator}.ann_file'] = osp.join(data_root, 'annotations',
                                                    'val.json')
    return options


def read_classes(train: dict, val: dict, data_root: str) -> List[str]:
    """The class names of both jsons, which must agree."""
    names = [[
        c['name'] for c in sorted(coco['categories'], key=lambda c: c['id'])
    ] for coco in (train, val)]
    if names[0] != names[1]:
        raise ToolError(
            f'{osp.join(data_root, "annotations", "val.json")}: categories '
            f'{names[1]}, train.json has {names[0]}; give both the same.')
    return names[0]


def train_and_test(config: str, work_dir: str) -> dict:
    """``mim train`` then ``mim test`` the last checkpoint; the test
    metrics."""
    run_mim('train', 'mmdet', config, '--work-dir', work_dir, cwd=ROOT)
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        checkpoint = f.read().strip()
    run_mim(
        'test',
        'mmdet',
        config,
        '--checkpoint',
        checkpoint,
        '--work-dir',
        work_dir,
        cwd=ROOT)
    # mmengine's logger writes the test metrics to <timestamp>/<timestamp>.json
    logs = [osp.join(work_dir, d, f'{d}.json') for d in os.listdir(work_dir)]
    with open(max((p for p in logs if osp.isfile(p)), key=osp.getmtime)) as f:
        return json.loads(f.readlines()[-1])


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--data-root',
        help='a set of your own in the demo layout (only '
        'read); default: the embedded set in data/moving_objects')
    parser.add_argument(
        '--work-dir',
        default=osp.join(ROOT, 'work_dirs', 'detection_demo'),
        help='where the configs, logs and checkpoints go')
    parser.add_argument(
        '--epochs',
        type=int,
        help='training epochs (default: fitted to the data)')
    add_cfg_options(parser)
    args = parser.parse_args(argv)
    if args.epochs is not None and args.epochs < 1:
        parser.error(f'--epochs {args.epochs}: give 1 or more')
    return args


def fit_configs(data_root: str, epochs: Optional[int],
                cfg_options: dict) -> Dict[str, Tuple[Config, dict]]:
    """Each model's config pointed at the data, with ``cfg_options`` and
    the input scale fitted to its training json, and the other settings
    fitted (for ``cfg_options`` to override); prints what was fitted."""
    train, val = (read_split(data_root, split) for split in ('train', 'val'))
    classes = read_classes(train, val, data_root)
    train_json = osp.join(data_root, 'annotations', 'train.json')
    configs = {}
    for name, _, path in MODELS:
        # fitted to the config as --cfg-options leave it (e.g. the batch),
        # which then override what was fitted
        cfg = load_config(path, data_options(data_root, classes))
        cfg.merge_from_dict(cfg_options)
        options, lines = fit_recipe(train, cfg, epochs, train_json)
        set_input_scale(cfg, options.pop('scale'))
        configs[name] = cfg, options
    print(f'fitted to {train_json}:')
    print('\n'.join(f'  {line}' for line in lines))
    if cfg_options:
        print(f'  then --cfg-options {cfg_options}')
    return configs


def main(argv=None) -> None:
    args = parse_args(argv)
    start = time.time()
    data_root = osp.abspath(args.data_root or EMBEDDED)
    work_dir = osp.abspath(args.work_dir)
    if osp.commonpath([osp.realpath(data_root),
                       osp.realpath(work_dir)]) == osp.realpath(data_root):
        raise ToolError(f'{work_dir}: the work directory is inside the data '
                        f'root {data_root}, which the demo only reads; give '
                        '--work-dir outside it.')
    if args.data_root is None and not osp.isfile(
            osp.join(data_root, 'annotations', 'val.json')):
        print(f'writing the embedded moving-objects set to {data_root}')
        make_moving_objects(data_root)
    configs = fit_configs(data_root, args.epochs, args.cfg_options)
    results = {}
    for name, (cfg, options) in configs.items():
        config = mim_config(cfg, osp.join(work_dir, f'{name}.py'), options,
                            args.cfg_options)
        tic = time.time()
        results[name] = train_and_test(config, osp.join(work_dir, name))
        results[name]['seconds'] = time.time() - tic
    print(f'\nHeld-out ImageNet-VID mAP@0.5 on {data_root}, '
          f'{time.time() - start:.0f} s in all:')
    for name, label, _ in MODELS:
        print(f'  {label:<21} {results[name]["vid/mAP"]:.3f}  (train and '
              f'test {results[name]["seconds"]:.0f} s)')


if __name__ == '__main__':
    run_tool(main)
