# Copyright (c) off_plugin authors. All rights reserved.
"""Speed of OFF against what it is compared with, measured side by side.

    cd tools/analysis_tools
    python benchmark.py recognition   # TSN vs TSN + OFF (BN-Inception)
    python benchmark.py unit          # OFFUnit vs its memory floor
    python benchmark.py detection     # R-FCN vs R-FCN + OFF SS / MS
    python benchmark.py restoration   # DnCNN vs DnCNN_OFF(2) / (3)
    python benchmark.py all --device cuda   # the four above
    python benchmark.py import        # off_plugin.<task> vs its host
    python benchmark.py deploy        # ONNX Runtime vs eager PyTorch

Every subcommand builds its models with random weights and times them in
one run, taking turns call by call so that all see the same machine load:
``--warmup`` untimed rounds, then the median of ``--repeats``. It prints
time, throughput, parameters, the ratio to the reference and, on CUDA, the
peak memory, then a ``PASS`` / ``FAIL`` line per target. Machines are noisy:
compare ratios of one run, not figures of different runs.
"""
import argparse
import os
import os.path as osp
import platform
import statistics
import subprocess
import sys
import time
from typing import Callable, Dict, List, NamedTuple, Optional, Tuple

import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

import off_plugin.all_tasks  # noqa: F401
from off_plugin.core import OFFUnit
from off_plugin.utils import run_tool

#: the configs, wherever the benchmark is run from
CONFIGS = osp.join(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))), 'configs')
RECOGNITION = osp.join(CONFIGS, 'recognition/off/ucf101/')
DETECTION = osp.join(CONFIGS,
                     'detection/off/{}rfcn_r101-dc5_4xb1-220k_imagenet-vid.py')
RESTORATION = osp.join(CONFIGS, 'restoration/off/{}_4xb7-50e_vimeo90k-'
                       'jpeg2000-q40.py')
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


def name(config: str) -> str:
    """A config's file name without ``.py``: what the report calls it."""
    return osp.splitext(osp.basename(config))[0]


def report(title: str,
           results: Dict[str, dict],
           reference: str,
           unit: str,
           per_call: int,
           params: Optional[Dict[str, int]] = None,
           flops: Optional[Dict[str, float]] = None) -> None:
    """One line per model: time per call, ``unit``/s (``per_call`` of them
    a call), ratio to ``reference``, parameters, multiply-adds (G) a call,
    peak memory."""
    print(f'\n{title}')
    base = results[reference]['seconds']
    for name, result in results.items():
        seconds = result['seconds']
        line = (f'  {name:>28}: {seconds * 1e3:9.2f} ms, '
                f'{per_call / seconds:8.1f} {unit}/s, '
                f'x{seconds / base:.2f} of {reference}')
        if params and name in params:
            line += f', {params[name] / 1e6:.1f} M params'
        if flops and name in flops:
            line += f', {flops[name] / 1e9:.2f} GFLOPs'
        if result['memory'] is not None:
            line += f', peak memory {result["memory"]:.0f} MiB'
        print(line)


class Verdict(NamedTuple):
    """A ratio against its target; true when the target is met."""
    label: str
    ratio: float
    bound: str
    ok: bool

    def __bool__(self) -> bool:
        return self.ok


def target(label: str, ratio: float, bound: float,
           at_most: bool) -> Verdict:
    """Print a ``PASS`` / ``FAIL`` line for ``ratio`` against ``bound``."""
    ok = ratio <= bound if at_most else ratio >= bound
    verdict = Verdict(label, ratio, f'{"<=" if at_most else ">="} '
                      f'x{bound:.2f}', ok)
    print(f'{"PASS" if ok else "FAIL"}: {label}: x{ratio:.2f} '
          f'(target {verdict.bound})')
    return verdict


def machine(device: str) -> str:
    """The device the figures are for: CPU model, cores and threads."""
    if device.startswith('cuda'):
        return torch.cuda.get_device_name(device)
    name = platform.processor() or platform.machine()
    if osp.exists('/proc/cpuinfo'):
        with open('/proc/cpuinfo') as f:
            models = [line.split(':', 1)[1].strip() for line in f
                      if line.startswith('model name')]
        name = models[0] if models else name
    return (f'CPU {name}, {os.cpu_count()} cores, torch '
            f'{torch.__version__} with {torch.get_num_threads()} threads')


def summary(verdicts: List[Verdict], device: str) -> None:
    """The targets as a Markdown table (the README's), then the count."""
    print(f'\nTargets on {machine(device)}:\n')
    print('| ratio | measured | target | |\n|---|---|---|---|')
    for v in verdicts:
        print(f'| {v.label} | x{v.ratio:.2f} | {v.bound} | '
              f'{"PASS" if v.ok else "FAIL"} |')
    print(f'\n{sum(v.ok for v in verdicts)} of {len(verdicts)} targets met')


def count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


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


def moving_texture(segments: int, frames: int, size: int) -> np.ndarray:
    """(segments, frames, size, size, 3) uint8 BGR: a smooth random texture
    moving 1 px left and 2 px up per frame, so that TV-L1 works as on a
    video (its iterations stop on convergence)."""
    rng = np.random.default_rng(0)
    span = size + 2 * frames
    texture = cv2.GaussianBlur(
        rng.integers(0, 256, (span, span, 3), dtype=np.uint8), (0, 0), 3)
    clip = np.stack([texture[2 * i:2 * i + size, i:i + size]
                     for i in range(frames)])
    return np.stack([np.roll(clip, s, axis=2) for s in range(segments)])


class TensorMode(torch.nn.Module):
    """``model`` in its tensor mode on ``inputs`` alone, for MMEngine's
    FLOP analysis (it traces a module called on tensors)."""

    def __init__(self, model: torch.nn.Module, data_samples=None) -> None:
        super().__init__()
        self.model = model
        self.data_samples = data_samples

    def forward(self, inputs: torch.Tensor):
        return self.model(inputs, self.data_samples, mode='tensor')


def flops(module: torch.nn.Module, inputs: torch.Tensor) -> float:
    """FLOPs of ``module(inputs)``, by MMEngine's analysis tools (which
    count a multiply-add as one FLOP)."""
    from mmengine.analysis import FlopAnalyzer
    analyzer = FlopAnalyzer(module, (inputs, ))
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    return analyzer.total()


def recognition(args) -> List[Verdict]:
    """The paper's Table 1 setting (BN-Inception, ``--size`` px, one video
    of ``--segments`` segments), from decoded frames to scores: TSN RGB; RGB
    + OFF(RGB); RGB Diff + OFF(RGB Diff) (with the RGB differences); the flow
    network of two-stream TSN and the TV-L1 flow it needs (OpenCV, on the
    fly for ``--flow-segments`` of the segments each round, scaled to the
    video: every segment's flow is the same computation)."""
    from mmaction.structures import ActionDataSample

    sys.path.append(osp.join(osp.dirname(__file__), '..', 'data'))
    from optical_flow import tvl1_flow  # tools/data/optical_flow.py

    from off_plugin.recognition import FormatRGBDiff
    segments = args.segments
    paths = {
        'TSN (RGB)':
        'tsn_bninception_8xb32-1x1x3-4500iter_ucf101-split1-rgb.py',
        'RGB + OFF(RGB)':
        'off_bninception_4xb32-7of25seg-20kiter_ucf101-split1-rgb.py',
        'RGB Diff + OFF(RGB Diff)':
        'off_bninception_4xb32-7of25seg-20kiter_ucf101-split1-rgbdiff.py',
        'TSN (flow) network':
        'tsn_bninception_8xb32-5x1x3-20kiter_ucf101-split1-flow.py',
    }
    models = {
        name: build_recognizer(RECOGNITION + path, args)
        for name, path in paths.items()
    }
    compiled = 'RGB + OFF(RGB), compile=True'
    if args.compile:
        models[compiled] = build_recognizer(
            RECOGNITION + paths['RGB + OFF(RGB)'], args, compile=True)
    for model in models.values():
        if 'num_segments' in (model.test_cfg or {}):  # OFF recognizers
            model.test_cfg['num_segments'] = segments
    # six frames per segment: RGB uses the first, RGB Diff and flow all
    video = moving_texture(segments, 6, args.size)
    rgb = torch.from_numpy(video[:, 0]).permute(0, 3, 1, 2)
    flow_of = (lambda clips: torch.from_numpy(
        np.stack([tvl1_flow(clip) for clip in clips])))
    # the flow network's input: TV-L1 of a few segments, repeated (the time
    # of a network does not depend on the values)
    flow = flow_of(video[:args.flow_segments])
    flow = flow.repeat(-(-segments // len(flow)), 1, 1, 1, 1)[:segments]
    flow = flow.permute(0, 1, 4, 2, 3).flatten(1, 2)  # (S, x1 y1 x2 ..)

    def inputs(name, frames):
        return models[name].data_preprocessor(
            dict(inputs=[frames.to(args.device)],
                 data_samples=[ActionDataSample()]), False)

    def rgb_diff():
        diffs = FormatRGBDiff().transform(
            dict(imgs=list(video.reshape(-1, *video.shape[2:])),
                 clip_len=video.shape[1]))['imgs']
        return torch.from_numpy(diffs)

    # what each network reads, from the decoded frames
    frames = {
        'TSN (RGB)': lambda: rgb,
        'RGB + OFF(RGB)': lambda: rgb,
        'RGB Diff + OFF(RGB Diff)': rgb_diff,
        'TSN (flow) network': lambda: flow,
        compiled: lambda: rgb,
    }
    calls = {
        name: (lambda i, m=model, n=name: m(
            **inputs(n, frames[n]()), mode='predict'))
        for name, model in models.items()
    }
    calls[f'TV-L1 flow, {args.flow_segments} segments'] = (
        lambda i: flow_of(np.roll(video, i, axis=0)[:args.flow_segments]))
    results = side_by_side(calls, args.device, args.warmup, args.repeats)
    tvl1 = results.pop(f'TV-L1 flow, {args.flow_segments} segments')
    results['TV-L1 flow (OpenCV)'] = dict(
        seconds=tvl1['seconds'] * segments / args.flow_segments,
        memory=None)
    complexity = {  # compile=True changes no FLOP
        name: flops(TensorMode(model), inputs(name, frames[name]())['inputs'])
        for name, model in models.items() if name != compiled
    }
    report(
        f'recognition: {args.device}'
        f'{", channels_last" if args.channels_last else ""}'
        f', 1 video x '
        f'{segments} segments of {args.size}x{args.size}, median of '
        f'{args.repeats} (TV-L1 timed on '
        f'{args.flow_segments} segments a round, '
        f'x{segments / args.flow_segments:g})',
        results, 'TSN (RGB)', 'frames', segments,
        {name: count(m) for name, m in models.items()}, complexity)

    def total(*names):
        return dict(seconds=sum(results[n]['seconds'] for n in names),
                    memory=None)
    pipelines = {
        'TSN (RGB)': total('TSN (RGB)'),
        'RGB-only OFF': total('RGB + OFF(RGB)', 'RGB Diff + OFF(RGB Diff)'),
        'two-stream TSN (TV-L1)': total('TSN (RGB)', 'TSN (flow) network',
                                        'TV-L1 flow (OpenCV)'),
    }
    report('pipelines (sums of the medians above)', pipelines, 'TSN (RGB)',
           'frames', segments)
    verdicts = [
        target('RGB + OFF(RGB) throughput / TSN RGB (paper: 450/680 = 0.66)',
               results['TSN (RGB)']['seconds'] /
               results['RGB + OFF(RGB)']['seconds'], 0.85, at_most=False),
        target('RGB-only OFF throughput / two-stream TSN with TV-L1 '
               '(paper, GPU: 206/14 = 14.7)',
               pipelines['two-stream TSN (TV-L1)']['seconds'] /
               pipelines['RGB-only OFF']['seconds'], 30., at_most=False),
    ]
    if args.compile:
        verdicts.append(
            target(f'{compiled} throughput / TSN RGB',
                   results['TSN (RGB)']['seconds'] /
                   results[compiled]['seconds'], 0.85, at_most=False))
    return verdicts


def memory_floor(inputs: torch.Tensor, out_numel: int) -> torch.Tensor:
    """What any unit must at least do: read its input and write an output
    of ``out_numel`` elements (copies of the input, concatenated)."""
    flat = inputs.flatten()
    copies = -(-out_numel // flat.numel())
    return torch.cat([flat] * copies)[:out_numel]


def unit(args) -> List[Verdict]:
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
        calls = {
            'memory floor': lambda i: memory_floor(reduced, out_numel),
            'OFF (reduced features)': lambda i: bare(reduced, lower),
            'OFF unit (with 1x1 conv)': lambda i: off(feats, lower),
        }
        if args.compile:  # the config's opt-in: OFFUnit(compile=True)
            compiled = OFFUnit(128, lower_channels=shape['lower_channels'],
                               compile=True).to(args.device).eval()
            compiled.reduce = torch.nn.Identity()
            with torch.no_grad():  # compiles, out of the timed calls
                compiled(reduced, lower)
            calls['OFF, compile=True'] = lambda i: compiled(reduced, lower)
        results = side_by_side(calls, args.device, args.warmup,
                               args.repeats)
        report(
            f'unit, level {level}: in ({args.segments}, '
            f'{shape["in_channels"]}, {size}, {size}), out '
            f'{out_numel * 4 / 2**20:.1f} MiB, median of {args.repeats}',
            results, 'memory floor', 'videos', 1)
        floor = results['memory floor']['seconds']
        verdicts.append(
            target(f'OFF at {level} / its memory floor',
                   results['OFF (reduced features)']['seconds'] / floor, 2.,
                   at_most=True))
        if args.compile:
            verdicts.append(
                target(f'OFF at {level}, compile=True / its memory floor',
                       results['OFF, compile=True']['seconds'] / floor, 2.,
                       at_most=True))
    return verdicts


def video_frame(i: int, size: Tuple[int, int]) -> list:
    """The data samples of the i-th frame of one video, as the test loop
    gives them to ``OFFVideoDetector.predict``."""
    from mmdet.structures import DetDataSample, TrackDataSample
    track = TrackDataSample()
    track.video_data_samples = [DetDataSample(metainfo=dict(
        img_shape=size, ori_shape=size, scale_factor=(1., 1.),
        batch_input_shape=size, pad_shape=size, video_id=0, frame_id=i))]
    return [track]


def detection(args) -> List[Verdict]:
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
    frames = torch.randn(args.warmup + args.repeats, 1, 1, 3, *size,
                         device=args.device)

    def samples(i):
        return video_frame(i, size)

    results = side_by_side(
        {name: (lambda i, m=model: m.predict(frames[i], samples(i)))
         for name, model in models.items()}, args.device, args.warmup,
        args.repeats)
    # a frame after the last: its reference is kept, as in the timed calls
    last = args.warmup + args.repeats
    complexity = {
        name: flops(TensorMode(model, samples(last)), frames[-1])
        for name, model in models.items()
    }
    report(
        f'detection: {args.device}, {size[0]}x{size[1]} frames, online, '
        f'median of {args.repeats} frames', results, 'R-FCN', 'frames', 1,
        {name: count(m) for name, m in models.items()}, complexity)
    base = results['R-FCN']['seconds']
    return [
        target('detection OFF MS / R-FCN per frame (paper: 1.71)',
               results['R-FCN + OFF (MS)']['seconds'] / base, 1.25,
               at_most=True)
    ]


def restoration(args) -> List[Verdict]:
    """DnCNN vs DnCNN_OFF(2) / (3), the paper's Vimeo-90K q40 configs (Sec.
    7; the paper gives no timing): one forward of the generator on one
    window (DnCNN: one frame, DnCNN_OFF(k): k frames), and, per frame,
    ``restore_frames`` over a video, which computes DnCNN_OFF's per-frame
    features once per frame and reuses them in every window."""
    from mmagic.registry import MODELS

    from off_plugin.restoration import restore_frames
    path = RESTORATION
    size, num_frames = tuple(args.restore_size), args.video_frames
    torch.manual_seed(0)
    models = {}
    for name, prefix in (('DnCNN', 'dncnn'), ('DnCNN_OFF(2)', 'dncnn-off2'),
                         ('DnCNN_OFF(3)', 'dncnn-off3')):
        cfg = Config.fromfile(path.format(prefix))
        with DefaultScope.overwrite_default_scope('mmagic'):
            models[name] = MODELS.build(cfg.model).to(args.device).eval()
    params = {name: count(m) for name, m in models.items()}
    windows = {}
    for name, model in models.items():
        num = getattr(model.generator, 'num_frames', 1)
        shape = (1, num, 3, *size) if num > 1 else (1, 3, *size)
        windows[name] = torch.rand(shape, device=args.device)
    rng = np.random.default_rng(0)
    video = [rng.integers(0, 256, (*size, 3), dtype=np.uint8)
             for _ in range(num_frames)]

    def stream(model):
        restored = sum(1 for _ in restore_frames(model, video))
        assert restored == num_frames, (restored, num_frames)

    per_window = side_by_side(
        {name: (lambda i, m=model, x=windows[name]: m.generator(x))
         for name, model in models.items()}, args.device, args.warmup,
        args.repeats)
    streaming = side_by_side(
        {name: (lambda i, m=model: stream(m))
         for name, model in models.items()}, args.device, args.warmup,
        args.repeats)
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
        target('DnCNN_OFF(3) streaming / DnCNN per frame (the paper gives '
               'no timing)', streaming['DnCNN_OFF(3)']['seconds'] /
               streaming['DnCNN']['seconds'], 1.25, at_most=True)
    ]


def deploy(args) -> List[Verdict]:
    """ONNX Runtime against eager PyTorch, both with ``--threads`` threads,
    on the graphs of ``tools/deployment/export_onnx.py`` (random weights):
    the ``--recognizer`` config (by default the UCF-101 OFF BN-Inception
    RGB; ``--segments`` segments at ``--size`` px, one crop; the graph on
    one video), DnCNN_OFF(3) streaming (``restore_frames`` over
    ``--video-frames`` frames at ``--restore-size``, per frame) and, where
    the detection task is installed, the ``--detector`` config (by default
    R-FCN R101 + OFF MS; online, one frame of ``--frame-size`` with the
    previous frame's features)."""
    import tempfile

    from off_plugin.deployment.backend import Graph, ORTModel
    torch.set_num_threads(args.threads)
    verdicts = []
    where = f'{args.device}, {args.threads} threads'

    def onnx_against_eager(graph, folder):
        """Eager PyTorch and ONNX Runtime on the graph's example inputs."""
        path = graph.export(osp.join(folder, 'model.onnx'))
        ort = ORTModel(path, args.device, args.threads)
        inputs = [x.to(args.device) for x in graph.inputs]
        arrays = [x.cpu().numpy() for x in graph.inputs]
        module = graph.module.to(args.device)
        return side_by_side(
            {
                'PyTorch (eager)': lambda i: module(*inputs),
                'ONNX Runtime': lambda i: ort(*arrays)
            }, args.device, args.warmup, args.repeats)

    def verdict(label, results):
        return target(label, results['PyTorch (eager)']['seconds'] /
                      results['ONNX Runtime']['seconds'], 1.5, at_most=False)

    from off_plugin.deployment import recognition as rec
    model = rec.init_model(Config.fromfile(args.recognizer), None).eval()
    model.test_cfg['num_segments'] = args.segments
    clips = torch.rand(1, args.segments, 3, args.size, args.size) * 255
    graph = Graph('', rec.RecognizerGraph(model), (clips, ), ['clips'],
                  ['scores'])
    with tempfile.TemporaryDirectory() as folder:
        results = onnx_against_eager(graph, folder)
    report(f'deploy, recognizer: {where}, {name(args.recognizer)}, '
           f'{args.segments} segments at {args.size} px, median of '
           f'{args.repeats}', results, 'PyTorch (eager)', 'videos', 1)
    verdicts.append(verdict('deploy recognizer: ONNX Runtime / PyTorch '
                            'throughput', results))

    from off_plugin.deployment import restoration as res
    from off_plugin.restoration import restore_frames
    cfg = Config.fromfile(RESTORATION.format('dncnn-off3'))
    model = res.init_model(cfg, None, args.device)
    size = tuple(args.restore_size)
    rng = np.random.default_rng(0)
    video = [rng.integers(0, 256, (*size, 3), dtype=np.uint8)
             for _ in range(args.video_frames)]
    with tempfile.TemporaryDirectory() as folder:
        for graph in res.graphs(model, shape=size):
            graph.export(osp.join(folder, 'model.onnx'))
        ort = res.ORTRestorer(osp.join(folder, 'model.onnx'), args.device,
                              args.threads)
        results = side_by_side(
            {
                name: lambda i, m=m: sum(1 for _ in restore_frames(m, video))
                for name, m in (('PyTorch (eager)', model),
                                ('ONNX Runtime', ort))
            }, args.device, args.warmup, args.repeats)
    for result in results.values():
        result['seconds'] /= args.video_frames
    report(f'deploy, DnCNN_OFF(3) streaming: {where}, {size[0]}x{size[1]} '
           f'frames, restore_frames over {args.video_frames} frames, per '
           f'frame, median of {args.repeats} videos', results,
           'PyTorch (eager)', 'frames', 1)
    verdicts.append(verdict('deploy DnCNN_OFF(3) streaming: ONNX Runtime / '
                            'PyTorch throughput', results))

    try:
        from off_plugin.deployment import detection as det
    except ImportError as err:  # the detection task is not installed
        print(f'\ndeploy, detector: skipped ({err})')
        return verdicts
    model = det.init_model(Config.fromfile(args.detector), None, args.device)
    size = tuple(args.frame_size)
    graph, = det.graphs(model, shape=size)
    frame = graph.module.preprocess(graph.inputs[0])
    with tempfile.TemporaryDirectory() as folder:
        ort = ORTModel(graph.export(osp.join(folder, 'model.onnx')),
                       args.device, args.threads)
        arrays = [x.cpu().numpy() for x in graph.inputs]
        # PyTorch: the model's own online predict (the export graph
        # re-writes its post-processing with static shapes)
        results = side_by_side(
            {
                'PyTorch (eager)':
                lambda i: model.predict(frame[None], video_frame(i, size)),
                'ONNX Runtime': lambda i: ort(*arrays)
            }, args.device, args.warmup, args.repeats)
    report(f'deploy, detector: {where}, {name(args.detector)}, online, '
           f'{size[0]}x{size[1]} frames, median of {args.repeats}', results,
           'PyTorch (eager)', 'frames', 1)
    print('detector: ONNX Runtime gives x{:.2f} of eager PyTorch\'s '
          'throughput (no target)'.format(
              results['PyTorch (eager)']['seconds'] /
              results['ONNX Runtime']['seconds']))
    return verdicts


#: task -> (the host's models package, what it needs first): for
#: MMAction2, the plugin's fix of its missing DRN package (without it
#: ``import mmaction.models`` fails). The fix is timed with the import:
#: run untimed, it would load numpy and part of mmengine outside the clock
#: and flatter the baseline by about 10%.
HOST_MODELS = {
    'recognition': ('mmaction.models', 'from off_plugin.compat.mmaction '
                    'import fill_mmaction_drn_hole; fill_mmaction_drn_hole()'),
    'detection': ('mmdet.models', ''),
    'restoration': ('mmagic.models', ''),
}
#: what a fresh interpreter prints after importing a module: the seconds the
#: import (with its set-up) took and the modules then loaded
IMPORT_PROBE = """
import sys, time
start = time.perf_counter()
{setup}
import {module}
print(time.perf_counter() - start, len(sys.modules))
"""


def time_import(module: str, setup: str = '') -> tuple:
    """Seconds of ``setup`` and ``import <module>`` in a fresh interpreter
    and the number of modules loaded then."""
    done = subprocess.run(
        [sys.executable, '-c', IMPORT_PROBE.format(setup=setup,
                                                   module=module)],
        capture_output=True, text=True, env=dict(os.environ,
                                                 PYTHONWARNINGS='ignore'))
    if done.returncode:
        raise RuntimeError(f'import {module} failed in a fresh '
                           f'interpreter:\n{done.stderr}')
    seconds, modules = done.stdout.split()[-2:]
    return float(seconds), int(modules)


def imports(args) -> List[Verdict]:
    """Import cost of each task's entry point against its host's models
    package alone: fresh interpreters, taking turns, median of
    ``--repeats`` after ``--warmup`` rounds (which fill the OS's file
    cache)."""
    verdicts = []
    for task, (host, setup) in HOST_MODELS.items():
        probes = {f'import {host}': (host, setup),
                  f'import off_plugin.{task}': (f'off_plugin.{task}', '')}
        times = {name: [] for name in probes}
        modules = {}
        for i in range(args.warmup + args.repeats):
            for name, (module, before) in probes.items():
                seconds, modules[name] = time_import(module, before)
                if i >= args.warmup:
                    times[name].append(seconds)
        results = {name: dict(seconds=statistics.median(spent), memory=None)
                   for name, spent in times.items()}
        report(f'{task}: a fresh interpreter, median of {args.repeats}',
               results, f'import {host}', 'imports', 1)
        for name, loaded in modules.items():
            print(f'  {name:>28}: {loaded} modules loaded')
        plugin, base = (results[name]['seconds'] for name in
                        (f'import off_plugin.{task}', f'import {host}'))
        verdicts.append(target(f'import off_plugin.{task} / import {host}',
                               plugin / base, 1.05, at_most=True))
    return verdicts


#: the model subcommands, which ``all`` runs
TASKS = dict(recognition=recognition, unit=unit, detection=detection,
             restoration=restoration)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('task', choices=[*TASKS, 'all', 'import', 'deploy'],
                        help='all: the model subcommands (not import, '
                        'deploy)')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--segments', type=int, default=25,
                        help='recognition and unit: segments of a video')
    parser.add_argument('--compile', action='store_true',
                        help='unit and recognition: also time the OFF units '
                        'with compile=True (torch.compile; compiling takes '
                        'seconds a shape, in the warm-up round)')
    parser.add_argument('--channels-last', action='store_true',
                        help='recognition: every network in channels_last '
                        '(NHWC) memory format')
    parser.add_argument('--size', type=int, default=224,
                        help='recognition: frame size')
    parser.add_argument('--flow-segments', type=int, default=2,
                        help='recognition: segments whose TV-L1 flow is '
                        'computed each round (5 frame pairs each)')
    parser.add_argument('--frame-size', type=int, nargs=2, default=(300, 500),
                        metavar=('H', 'W'),
                        help='detection: frame size (the paper: 600 1000)')
    parser.add_argument('--restore-size', type=int, nargs=2,
                        default=(64, 112), metavar=('H', 'W'),
                        help='restoration: frame size (the paper\'s '
                        'Vimeo-90K: 256 448; 1/16 of its area by default, '
                        'to finish in about 2 minutes on 2 CPU cores)')
    parser.add_argument('--threads', type=int, default=2,
                        help='deploy: threads of PyTorch and ONNX Runtime')
    parser.add_argument('--video-frames', type=int, default=64,
                        help='restoration: frames of the streamed video')
    parser.add_argument('--recognizer',
                        default=RECOGNITION + 'off_bninception_4xb32-7of25seg'
                        '-20kiter_ucf101-split1-rgb.py',
                        help='deploy: the recognizer\'s config (default: '
                        'the UCF-101 OFF BN-Inception RGB)')
    parser.add_argument('--detector', default=DETECTION.format('off-ms_'),
                        help='deploy: the video detector\'s config '
                        '(default: R-FCN R101 + OFF MS)')
    args = parser.parse_args(argv)
    if args.task == 'import':
        verdicts = imports(args)
    elif args.task == 'deploy':
        verdicts = deploy(args)
    else:
        tasks = list(TASKS) if args.task == 'all' else [args.task]
        verdicts = [v for task in tasks for v in TASKS[task](args)]
    summary(verdicts, args.device)
    return 0


if __name__ == '__main__':
    run_tool(main)
