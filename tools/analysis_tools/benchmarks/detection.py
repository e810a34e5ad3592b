# Copyright (c) off_plugin authors. All rights reserved.
"""``benchmark.py detection``: R-FCN against R-FCN + OFF, per frame of a
video."""
import os.path as osp
from typing import List, Tuple

import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from .timing import (CONFIGS, TensorMode, Verdict, count, flops, report,
                     side_by_side, target)

DETECTION = osp.join(
    CONFIGS, 'detection/off/{}rfcn_r101-dc5_4xb1-220k_imagenet-vid.py')


def video_frame(i: int, size: Tuple[int, int]) -> list:
    """The data samples of the i-th frame of one video, as the test loop
    gives them to ``OFFVideoDetector.predict``."""
    from mmdet.structures import DetDataSample, TrackDataSample
    track = TrackDataSample()
    track.video_data_samples = [
        DetDataSample(
            metainfo=dict(
                img_shape=size,
                ori_shape=size,
                scale_factor=(1., 1.),
                batch_input_shape=size,
                pad_shape=size,
                video_id=0,
                frame_id=i))
    ]
    return [track]


def run(args) -> List[Verdict]:
    """Per frame, online with feature reuse (as ``mim test`` runs a video):
    R-FCN R101 vs R-FCN + OFF SS / MS (the paper: 1.59x and 1.71x)."""
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    size = tuple(args.frame_size)
    torch.manual_seed(0)
    models = {}
    for name, prefix in (('R-FCN', ''), ('R-FCN + OFF (SS)', 'off-ss_'),
                         ('R-FCN + OFF (MS)', 'off-ms_')):
        cfg = Config.fromfile(DETECTION.format(prefix))
        cfg.model.detector.backbone.init_cfg = None
        with DefaultScope.overwrite_default_scope('mmdet'):
            models[name] = MODELS.build(cfg.model).to(args.device).eval()
    frames = torch.randn(
        args.warmup + args.repeats, 1, 1, 3, *size, device=args.device)

    def samples(i):
        return video_frame(i, size)

    results = side_by_side(
        {
            name: (lambda i, m=model: m.predict(frames[i], samples(i)))
            for name, model in models.items()
        }, args.device, args.warmup, args.repeats)
    # a frame after the last: its reference is kept, as in the timed calls
    last = args.warmup + args.repeats
    complexity = {
        name: flops(TensorMode(model, samples(last)), frames[-1])
        for name, model in models.items()
    }
    report(
        f'detection: {args.device}, {size[0]}x{size[1]} frames, online, '
        f'median of {args.repeats} frames', results, 'R-FCN', 'frames', 1, {
            name: count(m)
            for name, m in models.items()
        }, complexity)
    base = results['R-FCN']['seconds']
    return [
        target(
            'detection OFF MS / R-FCN per frame (paper: 1.71)',
            results['R-FCN + OFF (MS)']['seconds'] / base,
            1.25,
            at_most=True)
    ]
