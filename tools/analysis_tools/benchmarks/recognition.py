# Copyright (c) off_plugin authors. All rights reserved.
"""``benchmark.py recognition``: TSN against TSN + OFF, and the two-stream
pipeline with its TV-L1 flow, from decoded frames to scores."""
import os.path as osp
import runpy
from typing import Callable, Dict, List

import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from .timing import (CONFIGS, TensorMode, Verdict, count, flops, report,
                     side_by_side, target)

RECOGNITION = osp.join(CONFIGS, 'recognition/off/ucf101/')
#: the networks compared, by what the report calls them
RECOGNIZERS = {
    'TSN (RGB)':
    'tsn_bninception_8xb32-1x1x3-4500iter_ucf101-split1-rgb.py',
    'RGB + OFF(RGB)':
    'off_bninception_4xb32-7of25seg-20kiter_ucf101-split1-rgb.py',
    'RGB Diff + OFF(RGB Diff)':
    'off_bninception_4xb32-7of25seg-20kiter_ucf101-split1-rgbdiff.py',
    'TSN (flow) network':
    'tsn_bninception_8xb32-5x1x3-20kiter_ucf101-split1-flow.py',
}
COMPILED = 'RGB + OFF(RGB), compile=True'
#: TV-L1 flow as tools/data/optical_flow.py writes it for the flow networks
#: (a module of a script folder, loaded by its path)
tvl1_flow = runpy.run_path(
    osp.join(
        osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'data',
        'optical_flow.py'))['tvl1_flow']


def build_recognizer(path: str, args, compile: bool = False):
    from mmaction.registry import MODELS
    cfg = Config.fromfile(path)
    cfg.model.backbone.pretrained = None
    cfg.model.pop('feature_checkpoint', None)
    if compile:  # the config's opt-in
        cfg.model.off_head.off_sub_network.off_unit.compile = True
    with DefaultScope.overwrite_default_scope('mmaction'):
        model = MODELS.build(cfg.model)
    if args.channels_last:  # the convolutions then run in NHWC
        model.to(memory_format=torch.channels_last)
    return model.to(args.device).eval()


def build_recognizers(args) -> Dict[str, torch.nn.Module]:
    """The networks compared, with ``--compile`` RGB + OFF(RGB) with
    compile=True too; OFF scores ``--segments`` segments."""
    models = {
        name: build_recognizer(RECOGNITION + path, args)
        for name, path in RECOGNIZERS.items()
    }
    if args.compile:
        models[COMPILED] = build_recognizer(
            RECOGNITION + RECOGNIZERS['RGB + OFF(RGB)'], args, compile=True)
    for model in models.values():
        if 'num_segments' in (model.test_cfg or {}):  # OFF recognizers
            model.test_cfg['num_segments'] = args.segments
    return models


def moving_texture(segments: int, frames: int, size: int) -> np.ndarray:
    """(segments, frames, size, size, 3) uint8 BGR: a smooth random texture
    moving 1 px left and 2 px up per frame, so that TV-L1 works as on a
    video (its iterations stop on convergence)."""
    rng = np.random.default_rng(0)
    span = size + 2 * frames
    texture = cv2.GaussianBlur(
        rng.integers(0, 256, (span, span, 3), dtype=np.uint8), (0, 0), 3)
    clip = np.stack(
        [texture[2 * i:2 * i + size, i:i + size] for i in range(frames)])
    return np.stack([np.roll(clip, s, axis=2) for s in range(segments)])


def tvl1(clips: np.ndarray) -> torch.Tensor:
    """The TV-L1 flow of each clip."""
    return torch.from_numpy(np.stack([tvl1_flow(clip) for clip in clips]))


def network_frames(video: np.ndarray,
                   args) -> Dict[str, Callable[[], torch.Tensor]]:
    """What each network reads, from the decoded ``video`` (segments,
    frames, H, W, 3): RGB the first frame of each segment, RGB Diff their
    differences (computed in the call), the flow network the TV-L1 flow of
    ``--flow-segments`` segments, repeated (the time of a network does not
    depend on the values)."""
    from off_plugin.recognition import FormatRGBDiff
    segments = args.segments
    rgb = torch.from_numpy(video[:, 0]).permute(0, 3, 1, 2)
    flow = tvl1(video[:args.flow_segments])
    flow = flow.repeat(-(-segments // len(flow)), 1, 1, 1, 1)[:segments]
    flow = flow.permute(0, 1, 4, 2, 3).flatten(1, 2)  # (S, x1 y1 x2 ..)

    def rgb_diff():
        diffs = FormatRGBDiff().transform(
            dict(
                imgs=list(video.reshape(-1, *video.shape[2:])),
                clip_len=video.shape[1]))['imgs']
        return torch.from_numpy(diffs)

    return {
        'TSN (RGB)': lambda: rgb,
        'RGB + OFF(RGB)': lambda: rgb,
        'RGB Diff + OFF(RGB Diff)': rgb_diff,
        'TSN (flow) network': lambda: flow,
        COMPILED: lambda: rgb,
    }


def report_pipelines(results: Dict[str, dict], segments: int) -> dict:
    """Print and return the pipelines' times: sums of the networks' (and
    TV-L1's)."""

    def total(*names):
        return dict(
            seconds=sum(results[n]['seconds'] for n in names), memory=None)

    pipelines = {
        'TSN (RGB)':
        total('TSN (RGB)'),
        'RGB-only OFF':
        total('RGB + OFF(RGB)', 'RGB Diff + OFF(RGB Diff)'),
        'two-stream TSN (TV-L1)':
        total('TSN (RGB)', 'TSN (flow) network', 'TV-L1 flow (OpenCV)'),
    }
    report('pipelines (sums of the medians above)', pipelines, 'TSN (RGB)',
           'frames', segments)
    return pipelines


def verdicts(results: Dict[str, dict], pipelines: Dict[str, dict],
             compiled: bool) -> List[Verdict]:
    """The throughput targets of OFF against TSN and two-stream TSN."""
    verdicts = [
        target(
            'RGB + OFF(RGB) throughput / TSN RGB (paper: 450/680 = 0.66)',
            results['TSN (RGB)']['seconds'] /
            results['RGB + OFF(RGB)']['seconds'],
            0.85,
            at_most=False),
        target(
            'RGB-only OFF throughput / two-stream TSN with TV-L1 '
            '(paper, GPU: 206/14 = 14.7)',
            pipelines['two-stream TSN (TV-L1)']['seconds'] /
            pipelines['RGB-only OFF']['seconds'],
            30.,
            at_most=False),
    ]
    if compiled:
        verdicts.append(
            target(
                f'{COMPILED} throughput / TSN RGB',
                results['TSN (RGB)']['seconds'] / results[COMPILED]['seconds'],
                0.85,
                at_most=False))
    return verdicts


def run(args) -> List[Verdict]:
    """The paper's Table 1 setting (BN-Inception, ``--size`` px, one video
    of ``--segments`` segments), from decoded frames to scores: TSN RGB; RGB
    + OFF(RGB); RGB Diff + OFF(RGB Diff) (with the RGB differences); the flow
    network of two-stream TSN and the TV-L1 flow it needs (OpenCV, on the
    fly for ``--flow-segments`` of the segments each round, scaled to the
    video: every segment's flow is the same computation)."""
    from mmaction.structures import ActionDataSample
    segments = args.segments
    models = build_recognizers(args)
    # six frames per segment: RGB uses the first, RGB Diff and flow all
    video = moving_texture(segments, 6, args.size)
    frames = network_frames(video, args)

    def inputs(name):
        return models[name].data_preprocessor(
            dict(
                inputs=[frames[name]().to(args.device)],
                data_samples=[ActionDataSample()]), False)

    calls = {
        name: (lambda i, m=model, n=name: m(**inputs(n), mode='predict'))
        for name, model in models.items()
    }
    flow = f'TV-L1 flow, {args.flow_segments} segments'
    calls[flow] = lambda i: tvl1(
        np.roll(video, i, axis=0)[:args.flow_segments])
    results = side_by_side(calls, args.device, args.warmup, args.repeats)
    results['TV-L1 flow (OpenCV)'] = dict(
        seconds=results.pop(flow)['seconds'] * segments / args.flow_segments,
        memory=None)
    complexity = {  # compile=True changes no FLOP
        name: flops(TensorMode(model),
                    inputs(name)['inputs'])
        for name, model in models.items() if name != COMPILED
    }
    report(
        f'recognition: {args.device}'
        f'{", channels_last" if args.channels_last else ""}'
        f', 1 video x {segments} segments of {args.size}x{args.size}, median '
        f'of {args.repeats} (TV-L1 timed on {args.flow_segments} segments a '
        f'round, x{segments / args.flow_segments:g})', results, 'TSN (RGB)',
        'frames', segments, {
            name: count(m)
            for name, m in models.items()
        }, complexity)
    return verdicts(results, report_pipelines(results, segments), args.compile)
