# Copyright (c) off_plugin authors. All rights reserved.
"""Speed (and GPU memory) of TSN vs. TSN + OFF, measured side by side.

    python tools/benchmark_off.py                        # UCF-101 RGB configs
    python tools/benchmark_off.py --device cuda --segments 25 --repeats 50

Builds the stage-1 (TSN) and stage-2 (TSN + OFF) models of the given configs
with random weights, runs the test-time forward on one video of
``--segments`` segments, alternating the two models so that both see the
same machine load, and prints the median time per video, frames per second
(the paper's Table 1 unit) and the ratio. Machines are noisy: compare the
medians of one run, not figures of different runs.
"""
import argparse
import statistics
import time

import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.registry import DefaultScope

CONFIGS = 'configs/recognition/off/ucf101/'
DEFAULT_TSN = CONFIGS + 'tsn_bninception_8xb32-1x1x3-4500iter_ucf101-split1-rgb.py'
DEFAULT_OFF = CONFIGS + 'off_bninception_4xb32-7of25seg-20kiter_ucf101-split1-rgb.py'


def build(path, device):
    cfg = Config.fromfile(path)
    cfg.model.backbone.pretrained = None
    cfg.model.pop('feature_checkpoint', None)
    with DefaultScope.overwrite_default_scope('mmaction'):
        model = MODELS.build(cfg.model)
    return model.to(device).eval(), cfg.model.backbone.get('in_channels', 3)


def timed(model, data, device):
    """Seconds of one test-time forward: features, heads, fusion."""
    if device.startswith('cuda'):
        torch.cuda.synchronize()
    start = time.perf_counter()
    with torch.no_grad():
        model(**data, mode='predict')
    if device.startswith('cuda'):
        torch.cuda.synchronize()
    return time.perf_counter() - start


def peak_memory(model, data, device):
    if not device.startswith('cuda'):
        return None
    torch.cuda.reset_peak_memory_stats()
    with torch.no_grad():
        model(**data, mode='predict')
    return torch.cuda.max_memory_allocated() / 2**20


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--tsn-config', default=DEFAULT_TSN)
    parser.add_argument('--off-config', default=DEFAULT_OFF)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--segments', type=int, default=25)
    parser.add_argument('--size', type=int, default=224)
    parser.add_argument('--repeats', type=int, default=7)
    parser.add_argument('--warmup', type=int, default=2)
    args = parser.parse_args()

    models = {}
    for name, path in (('TSN', args.tsn_config),
                       ('TSN + OFF', args.off_config)):
        models[name] = build(path, args.device)
    if models['TSN + OFF'][0].test_cfg.get('num_segments') != args.segments:
        models['TSN + OFF'][0].test_cfg['num_segments'] = args.segments
    times = {name: [] for name in models}
    memory = {}
    for i in range(args.warmup + args.repeats):
        for name, (model, channels) in models.items():
            inputs = torch.rand(1, args.segments, channels, args.size,
                                args.size, device=args.device) * 255
            data = model.data_preprocessor(
                dict(inputs=list(inputs),
                     data_samples=[ActionDataSample()]), False)
            spent = timed(model, data, args.device)
            if i >= args.warmup:
                times[name].append(spent)
            if i == 0:
                memory[name] = peak_memory(model, data, args.device)

    print(f'device {args.device}, 1 video x {args.segments} segments of '
          f'{args.size}x{args.size}, median of {args.repeats} runs')
    base = statistics.median(times['TSN'])
    for name, spent in times.items():
        med = statistics.median(spent)
        params = sum(p.numel() for p in models[name][0].parameters()) / 1e6
        mem = '' if memory[name] is None else \
            f', peak GPU memory {memory[name]:.0f} MiB'
        print(f'{name:>10}: {med * 1e3:8.1f} ms/video, '
              f'{args.segments / med:7.1f} frames/s, {params:5.1f} M params, '
              f'x{med / base:.2f} of TSN{mem}')


if __name__ == '__main__':
    main()
