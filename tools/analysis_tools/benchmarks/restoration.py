# Copyright (c) off_plugin authors. All rights reserved.
"""``benchmark.py restoration``: DnCNN against DnCNN_OFF(2) / (3), on one
window and streaming a video."""
import os.path as osp
from typing import Dict, List

import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from .timing import (CONFIGS, Verdict, count, flops, report, side_by_side,
                     target)

RESTORATION = osp.join(
    CONFIGS, 'restoration/off/{}_4xb7-50e_vimeo90k-'
    'jpeg2000-q40.py')
#: the models compared, by what the report calls them: their configs
RESTORERS = {
    'DnCNN': 'dncnn',
    'DnCNN_OFF(2)': 'dncnn-off2',
    'DnCNN_OFF(3)': 'dncnn-off3'
}


def build_restorers(device: str) -> Dict[str, torch.nn.Module]:
    """The models compared, with random weights (seed 0)."""
    from mmagic.registry import MODELS
    torch.manual_seed(0)
    models = {}
    for name, prefix in RESTORERS.items():
        cfg = Config.fromfile(RESTORATION.format(prefix))
        with DefaultScope.overwrite_default_scope('mmagic'):
            models[name] = MODELS.build(cfg.model).to(device).eval()
    return models


def run(args) -> List[Verdict]:
    """DnCNN vs DnCNN_OFF(2) / (3), the paper's Vimeo-90K q40 configs (Sec.
    7; the paper gives no timing): one forward of the generator on one
    window (DnCNN: one frame, DnCNN_OFF(k): k frames), and, per frame,
    ``restore_frames`` over a video, which computes DnCNN_OFF's per-frame
    features once per frame and reuses them in every window."""
    from off_plugin.restoration import restore_frames
    size, num_frames = tuple(args.restore_size), args.video_frames
    models = build_restorers(args.device)
    params = {name: count(m) for name, m in models.items()}
    windows = {}
    for name, model in models.items():
        num = getattr(model.generator, 'num_frames', 1)
        shape = (1, num, 3, *size) if num > 1 else (1, 3, *size)
        windows[name] = torch.rand(shape, device=args.device)
    rng = np.random.default_rng(0)
    video = [
        rng.integers(0, 256, (*size, 3), dtype=np.uint8)
        for _ in range(num_frames)
    ]

    def stream(model):
        restored = sum(1 for _ in restore_frames(model, video))
        assert restored == num_frames, (restored, num_frames)

    per_window = side_by_side(
        {
            name: (lambda i, m=model, x=windows[name]: m.generator(x))
            for name, model in models.items()
        }, args.device, args.warmup, args.repeats)
    streaming = side_by_side(
        {
            name: (lambda i, m=model: stream(m))
            for name, model in models.items()
        }, args.device, args.warmup, args.repeats)
    for result in streaming.values():
        result['seconds'] /= num_frames
    where = f'{args.device}, {size[0]}x{size[1]} frames'
    report(
        f'restoration, one window: {where}, generator forward, median of '
        f'{args.repeats}', per_window, 'DnCNN', 'frames', 1, params, {
            name: flops(model.generator, windows[name])
            for name, model in models.items()
        })
    report(
        f'restoration, streaming: {where}, restore_frames over '
        f'{num_frames} frames, per frame, median of {args.repeats} videos',
        streaming, 'DnCNN', 'frames', 1, params)
    return [
        target(
            'DnCNN_OFF(3) streaming / DnCNN per frame (the paper gives '
            'no timing)',
            streaming['DnCNN_OFF(3)']['seconds'] /
            streaming['DnCNN']['seconds'],
            1.25,
            at_most=True)
    ]
