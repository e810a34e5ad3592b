# Copyright (c) off_plugin authors. All rights reserved.
"""``benchmark.py deploy``: ONNX Runtime against eager PyTorch on the graphs
of ``tools/deployment/export_onnx.py``, random weights."""
import os.path as osp
import tempfile
from typing import List

import numpy as np
import torch

from off_plugin.utils import load_config
from .detection import video_frame
from .restoration import RESTORATION
from .timing import Verdict, name, report, side_by_side, target


def where(args) -> str:
    return f'{args.device}, {args.threads} threads'


def onnx_against_eager(graph, folder: str, args) -> dict:
    """Eager PyTorch and ONNX Runtime on the graph's example inputs."""
    from off_plugin.deployment.backend import ORTModel
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


def verdict(label: str, results: dict) -> Verdict:
    return target(
        label,
        results['PyTorch (eager)']['seconds'] /
        results['ONNX Runtime']['seconds'],
        1.5,
        at_most=False)


def recognizer(args) -> Verdict:
    """The ``--recognizer`` config, ``--segments`` segments at ``--size``
    px, one crop; the graph on one video."""
    from off_plugin.deployment import recognition as rec
    from off_plugin.deployment.backend import Graph
    cfg = load_config(args.recognizer, args.recognizer_cfg_options)
    model = rec.init_model(cfg, None).eval()
    model.test_cfg['num_segments'] = args.segments
    clips = torch.rand(1, args.segments, 3, args.size, args.size) * 255
    graph = Graph('', rec.RecognizerGraph(model), (clips, ), ['clips'],
                  ['scores'])
    with tempfile.TemporaryDirectory() as folder:
        results = onnx_against_eager(graph, folder, args)
    report(
        f'deploy, recognizer: {where(args)}, {name(args.recognizer)}, '
        f'{args.segments} segments at {args.size} px, median of '
        f'{args.repeats}', results, 'PyTorch (eager)', 'videos', 1)
    return verdict('deploy recognizer: ONNX Runtime / PyTorch throughput',
                   results)


def restorer(args) -> Verdict:
    """DnCNN_OFF(3) streaming: ``restore_frames`` over ``--video-frames``
    frames at ``--restore-size``, per frame."""
    from off_plugin.deployment import restoration as res
    from off_plugin.restoration import restore_frames
    cfg = load_config(RESTORATION.format('dncnn-off3'))
    model = res.init_model(cfg, None, args.device)
    size = tuple(args.restore_size)
    rng = np.random.default_rng(0)
    video = [
        rng.integers(0, 256, (*size, 3), dtype=np.uint8)
        for _ in range(args.video_frames)
    ]
    with tempfile.TemporaryDirectory() as folder:
        for graph in res.graphs(model, shape=size):
            graph.export(osp.join(folder, 'model.onnx'))
        ort = res.ONNXRestorer(
            osp.join(folder, 'model.onnx'), args.device, args.threads)
        results = side_by_side(
            {
                name: lambda i, m=m: sum(1 for _ in restore_frames(m, video))
                for name, m in (('PyTorch (eager)', model),
                                ('ONNX Runtime', ort))
            }, args.device, args.warmup, args.repeats)
    for result in results.values():
        result['seconds'] /= args.video_frames
    report(
        f'deploy, DnCNN_OFF(3) streaming: {where(args)}, {size[0]}x'
        f'{size[1]} frames, restore_frames over {args.video_frames} '
        f'frames, per frame, median of {args.repeats} videos', results,
        'PyTorch (eager)', 'frames', 1)
    return verdict(
        'deploy DnCNN_OFF(3) streaming: ONNX Runtime / PyTorch '
        'throughput', results)


def detector(args, det) -> None:
    """The ``--detector`` config, online: one frame of ``--frame-size``
    with the previous frame's features; no target."""
    from off_plugin.deployment.backend import ORTModel
    cfg = load_config(args.detector, args.detector_cfg_options)
    model = det.init_model(cfg, None, args.device)
    size = tuple(args.frame_size)
    graph, = det.graphs(model, shape=size)
    frame = graph.module.preprocess(graph.inputs[0])
    with tempfile.TemporaryDirectory() as folder:
        ort = ORTModel(
            graph.export(osp.join(folder, 'model.onnx')), args.device,
            args.threads)
        arrays = [x.cpu().numpy() for x in graph.inputs]
        # PyTorch: the model's own online predict (the export graph
        # re-writes its post-processing with static shapes)
        results = side_by_side(
            {
                'PyTorch (eager)':
                lambda i: model.predict(frame[None], video_frame(i, size)),
                'ONNX Runtime':
                lambda i: ort(*arrays)
            }, args.device, args.warmup, args.repeats)
    report(
        f'deploy, detector: {where(args)}, {name(args.detector)}, '
        f'online, {size[0]}x{size[1]} frames, median of {args.repeats}',
        results, 'PyTorch (eager)', 'frames', 1)
    print(
        'detector: ONNX Runtime gives x{:.2f} of eager PyTorch\'s '
        'throughput (no target)'.format(results['PyTorch (eager)']['seconds'] /
                                        results['ONNX Runtime']['seconds']))


def run(args) -> List[Verdict]:
    """ONNX Runtime against eager PyTorch, both with ``--threads`` threads,
    on the graphs of ``tools/deployment/export_onnx.py`` (random weights):
    the ``--recognizer`` config (by default the UCF-101 OFF BN-Inception
    RGB; ``--segments`` segments at ``--size`` px, one crop; the graph on
    one video), DnCNN_OFF(3) streaming (``restore_frames`` over
    ``--video-frames`` frames at ``--restore-size``, per frame) and, where
    the detection task is installed, the ``--detector`` config (by default
    R-FCN R101 + OFF MS; online, one frame of ``--frame-size`` with the
    previous frame's features)."""
    torch.set_num_threads(args.threads)
    verdicts = [recognizer(args), restorer(args)]
    try:
        from off_plugin.deployment import detection as det
    except ImportError as err:  # the detection task is not installed
        print(f'\ndeploy, detector: skipped ({err})')
        return verdicts
    detector(args, det)
    return verdicts
