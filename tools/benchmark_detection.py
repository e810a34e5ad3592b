# Copyright (c) off_plugin authors. All rights reserved.
"""Per-frame speed of the R-FCN baseline vs. R-FCN + OFF (SS, MS), measured
side by side, online with feature reuse.

    python tools/benchmark_detection.py                   # CPU, 300x500
    python tools/benchmark_detection.py --device cuda --size 600 1000

Builds the three ImageNet VID configs with random weights and streams the
same ``--frames`` frames through each, one frame per call as ``mim test``
does (every frame's backbone features computed once, the OFF models pairing
them with the previous frame's kept features). The models take turns frame
by frame so that all see the same machine load; the first ``--warmup``
frames are not timed. Prints the median ms per frame, frames/s, parameters,
the ratio to the baseline and, on CUDA, peak memory. The paper's ratios
(Table 6, Titan X): SS 1.59x, MS 1.71x of the baseline.
"""
import argparse
import statistics
import time

import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample, TrackDataSample
from mmdet.utils import register_all_modules
from mmengine.config import Config

import off_plugin  # noqa: F401

CONFIGS = 'configs/detection/off/{}rfcn_r101-dc5_4xb1-220k_imagenet-vid.py'
MODELS_TO_TIME = {
    'R-FCN': CONFIGS.format(''),
    'R-FCN + OFF (SS)': CONFIGS.format('off-ss_'),
    'R-FCN + OFF (MS)': CONFIGS.format('off-ms_'),
}


def build(path, device):
    cfg = Config.fromfile(path)
    cfg.model.detector.backbone.init_cfg = None
    return MODELS.build(cfg.model).to(device).eval()


def frame_step(frame_id, size):
    sample = DetDataSample(metainfo=dict(
        img_shape=size, ori_shape=size, scale_factor=(1., 1.),
        batch_input_shape=size, pad_shape=size, video_id=0,
        frame_id=frame_id))
    track = TrackDataSample()
    track.video_data_samples = [sample]
    return [track]


def timed(model, frame, samples, device):
    if device.startswith('cuda'):
        torch.cuda.synchronize()
    start = time.perf_counter()
    with torch.no_grad():
        model.predict(frame, samples)
    if device.startswith('cuda'):
        torch.cuda.synchronize()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--size', type=int, nargs=2, default=(300, 500),
                        metavar=('H', 'W'),
                        help='frame size (the paper: 600 1000)')
    parser.add_argument('--frames', type=int, default=8)
    parser.add_argument('--warmup', type=int, default=2)
    args = parser.parse_args()
    register_all_modules(init_default_scope=True)
    size = tuple(args.size)

    torch.manual_seed(0)
    models = {name: build(path, args.device)
              for name, path in MODELS_TO_TIME.items()}
    video = torch.randn(args.frames, 1, 1, 3, *size, device=args.device)
    times = {name: [] for name in models}
    memory = {}
    for t, frame in enumerate(video):
        for name, model in models.items():
            if t == 0 and args.device.startswith('cuda'):
                torch.cuda.reset_peak_memory_stats()
            spent = timed(model, frame, frame_step(t, size), args.device)
            if t >= args.warmup:
                times[name].append(spent)
            if t == 0 and args.device.startswith('cuda'):
                memory[name] = torch.cuda.max_memory_allocated() / 2**20

    print(f'device {args.device}, {size[0]}x{size[1]} frames, online, '
          f'median of {args.frames - args.warmup} frames')
    base = statistics.median(times['R-FCN'])
    for name, spent in times.items():
        med = statistics.median(spent)
        params = sum(p.numel() for p in models[name].parameters()) / 1e6
        mem = f', peak GPU memory {memory[name]:.0f} MiB' \
            if name in memory else ''
        print(f'{name:>17}: {med * 1e3:8.1f} ms/frame, {1 / med:6.2f} '
              f'frames/s, {params:5.1f} M params, x{med / base:.2f} of '
              f'R-FCN{mem}')


if __name__ == '__main__':
    main()
