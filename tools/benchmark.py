# Copyright (c) off_plugin authors. All rights reserved.
"""Speed of OFF against what it is compared with, measured side by side.

    python tools/benchmark.py recognition   # TSN vs TSN + OFF (BN-Inception)
    python tools/benchmark.py unit          # OFFUnit vs its memory floor
    python tools/benchmark.py detection     # R-FCN vs R-FCN + OFF SS / MS
    python tools/benchmark.py all --device cuda

Every subcommand builds its models with random weights and times them in
one run, taking turns call by call so that all see the same machine load:
``--warmup`` untimed rounds, then the median of ``--repeats``. It prints
time, throughput, parameters, the ratio to the reference and, on CUDA, the
peak memory, then a ``PASS`` / ``FAIL`` line per target. Machines are noisy:
compare ratios of one run, not figures of different runs.
"""
import argparse
import statistics
import time
from typing import Callable, Dict, List, Optional

import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

import off_plugin  # noqa: F401
from off_plugin.models import OFFUnit

RECOGNITION = 'configs/recognition/off/ucf101/'
DETECTION = 'configs/detection/off/{}rfcn_r101-dc5_4xb1-220k_imagenet-vid.py'
# The OFF units of the paper's RGB network at 224 px, 25 segments: the
# concatenated inception maps of each level and the lower level's output.
UNIT_LEVELS = {
    '28 px (3a, 3b)': dict(in_channels=576, lower_channels=0, size=28),
    '14 px (3c, 4a-4d)': dict(in_channels=2944, lower_channels=256, size=14),
    '7 px (5a, 5b)': dict(in_channels=2048, lower_channels=512, size=7),
}


def sync(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def side_by_side(calls: Dict[str, Callable[[int], None]], device: str,
                 warmup: int, repeats: int) -> Dict[str, dict]:
    """Time every ``call(round)`` once per round, in turn; the median
    seconds of the timed rounds and, on CUDA, the peak memory (MiB) of the
    first round."""
    times = {name: [] for name in calls}
    memory = {}
    for i in range(warmup + repeats):
        for name, call in calls.items():
            if i == 0 and device.startswith('cuda'):
                torch.cuda.reset_peak_memory_stats()
            sync(device)
            start = time.perf_counter()
            with torch.no_grad():
                call(i)
            sync(device)
            if i >= warmup:
                times[name].append(time.perf_counter() - start)
            if i == 0 and device.startswith('cuda'):
                memory[name] = torch.cuda.max_memory_allocated() / 2**20
    return {
        name: dict(seconds=statistics.median(spent), memory=memory.get(name))
        for name, spent in times.items()
    }


def report(title: str, results: Dict[str, dict], reference: str, unit: str,
           per_call: int, params: Optional[Dict[str, int]] = None) -> None:
    """One line per model: time per call, ``unit``/s (``per_call`` of them
    a call), parameters, ratio to ``reference``, peak memory."""
    print(f'\n{title}')
    base = results[reference]['seconds']
    for name, result in results.items():
        seconds = result['seconds']
        line = (f'  {name:>28}: {seconds * 1e3:9.2f} ms, '
                f'{per_call / seconds:8.1f} {unit}/s, '
                f'x{seconds / base:.2f} of {reference}')
        if params and name in params:
            line += f', {params[name] / 1e6:.1f} M params'
        if result['memory'] is not None:
            line += f', peak memory {result["memory"]:.0f} MiB'
        print(line)


def target(label: str, ratio: float, bound: float, at_most: bool) -> bool:
    """Print a ``PASS`` / ``FAIL`` line for ``ratio`` against ``bound``."""
    ok = ratio <= bound if at_most else ratio >= bound
    sign = '<=' if at_most else '>='
    print(f'{"PASS" if ok else "FAIL"}: {label}: x{ratio:.2f} '
          f'(target {sign} x{bound:.2f})')
    return ok


def count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def build_recognizer(path: str, device: str):
    from mmaction.registry import MODELS
    cfg = Config.fromfile(path)
    cfg.model.backbone.pretrained = None
    cfg.model.pop('feature_checkpoint', None)
    with DefaultScope.overwrite_default_scope('mmaction'):
        model = MODELS.build(cfg.model)
    return model.to(device).eval(), cfg.model.backbone.get('in_channels', 3)


def recognition(args) -> List[bool]:
    """TSN RGB vs RGB + OFF(RGB), one video of ``--segments`` segments (the
    paper's Table 1 setting: BN-Inception, 224 px, 25 segments)."""
    from mmaction.structures import ActionDataSample
    models = {
        'TSN (RGB)': build_recognizer(
            RECOGNITION +
            'tsn_bninception_8xb32-1x1x3-4500iter_ucf101-split1-rgb.py',
            args.device),
        'RGB + OFF(RGB)': build_recognizer(
            RECOGNITION +
            'off_bninception_4xb32-7of25seg-20kiter_ucf101-split1-rgb.py',
            args.device),
    }
    models['RGB + OFF(RGB)'][0].test_cfg['num_segments'] = args.segments
    inputs = {}
    for name, (model, channels) in models.items():
        video = torch.rand(1, args.segments, channels, args.size, args.size,
                           device=args.device) * 255
        inputs[name] = model.data_preprocessor(
            dict(inputs=list(video), data_samples=[ActionDataSample()]),
            False)
    calls = {
        name: (lambda i, m=model, d=inputs[name]: m(**d, mode='predict'))
        for name, (model, _) in models.items()
    }
    results = side_by_side(calls, args.device, args.warmup, args.repeats)
    report(
        f'recognition: {args.device}, 1 video x {args.segments} segments of '
        f'{args.size}x{args.size}, median of {args.repeats}', results,
        'TSN (RGB)', 'frames', args.segments,
        {name: count(m) for name, (m, _) in models.items()})
    ratio = (results['TSN (RGB)']['seconds'] /
             results['RGB + OFF(RGB)']['seconds'])
    return [
        target('RGB + OFF(RGB) throughput / TSN RGB (paper: 450/680 = 0.66)',
               ratio, 0.85, at_most=False)
    ]


def memory_floor(inputs: torch.Tensor, out_numel: int) -> torch.Tensor:
    """What any unit must at least do: read its input and write an output
    of ``out_numel`` elements (copies of the input, concatenated)."""
    flat = inputs.flatten()
    copies = -(-out_numel // flat.numel())
    return torch.cat([flat] * copies)[:out_numel]


def unit(args) -> List[bool]:
    """The OFF unit of each level of the paper's network (1 video, 25
    segments) against its memory floor: the whole unit (with its 1x1
    reduction, a learned convolution) and the OFF itself (gradients,
    difference and concatenation on the reduced features)."""
    verdicts = []
    for level, shape in UNIT_LEVELS.items():
        size = shape['size']
        off = OFFUnit(shape['in_channels'],
                      lower_channels=shape['lower_channels']).to(
                          args.device).eval()
        feats = torch.randn(1, args.segments, shape['in_channels'], size,
                            size, device=args.device)
        lower = torch.randn(1, args.segments - 1, shape['lower_channels'],
                            size, size, device=args.device) \
            if shape['lower_channels'] else None
        # the OFF alone: the same unit on already reduced features
        bare = OFFUnit(128, lower_channels=shape['lower_channels']).to(
            args.device).eval()
        bare.reduce = torch.nn.Identity()
        reduced = torch.relu(torch.randn(1, args.segments, 128, size, size,
                                         device=args.device))
        out_numel = off(feats, lower).numel()
        results = side_by_side(
            {
                'memory floor': lambda i: memory_floor(reduced, out_numel),
                'OFF (reduced features)': lambda i: bare(reduced, lower),
                'OFF unit (with 1x1 conv)': lambda i: off(feats, lower),
            }, args.device, args.warmup, args.repeats)
        report(
            f'unit, level {level}: in ({args.segments}, '
            f'{shape["in_channels"]}, {size}, {size}), out '
            f'{out_numel * 4 / 2**20:.1f} MiB, median of {args.repeats}',
            results, 'memory floor', 'videos', 1)
        verdicts.append(
            target(
                f'OFF at {level} / its memory floor',
                results['OFF (reduced features)']['seconds'] /
                results['memory floor']['seconds'], 2., at_most=True))
    return verdicts


def detection(args) -> List[bool]:
    """Per frame, online with feature reuse (as ``mim test`` runs a video):
    R-FCN R101 vs R-FCN + OFF SS / MS (the paper: 1.59x and 1.71x)."""
    from mmdet.registry import MODELS
    from mmdet.structures import DetDataSample, TrackDataSample
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
    frames = torch.randn(args.warmup + args.repeats, 1, 1, 3, *size,
                         device=args.device)

    def step(model, i):
        sample = DetDataSample(metainfo=dict(
            img_shape=size, ori_shape=size, scale_factor=(1., 1.),
            batch_input_shape=size, pad_shape=size, video_id=0,
            frame_id=i))
        track = TrackDataSample()
        track.video_data_samples = [sample]
        model.predict(frames[i], [track])

    results = side_by_side(
        {name: (lambda i, m=model: step(m, i))
         for name, model in models.items()}, args.device, args.warmup,
        args.repeats)
    report(
        f'detection: {args.device}, {size[0]}x{size[1]} frames, online, '
        f'median of {args.repeats} frames', results, 'R-FCN', 'frames', 1,
        {name: count(m) for name, m in models.items()})
    base = results['R-FCN']['seconds']
    return [
        target('detection OFF MS / R-FCN per frame (paper: 1.71)',
               results['R-FCN + OFF (MS)']['seconds'] / base, 1.25,
               at_most=True)
    ]


TASKS = dict(recognition=recognition, unit=unit, detection=detection)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('task', choices=[*TASKS, 'all'])
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--segments', type=int, default=25,
                        help='recognition and unit: segments of a video')
    parser.add_argument('--size', type=int, default=224,
                        help='recognition: frame size')
    parser.add_argument('--frame-size', type=int, nargs=2, default=(300, 500),
                        metavar=('H', 'W'),
                        help='detection: frame size (the paper: 600 1000)')
    args = parser.parse_args(argv)
    tasks = list(TASKS) if args.task == 'all' else [args.task]
    verdicts = [ok for task in tasks for ok in TASKS[task](args)]
    print(f'\n{sum(verdicts)} of {len(verdicts)} targets met')
    return 0


if __name__ == '__main__':
    main()
