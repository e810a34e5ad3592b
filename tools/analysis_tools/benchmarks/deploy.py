# Copyright (c) off_plugin authors. All rights reserved.
"""``benchmark.py deploy``: the graphs of ``tools/deployment/export_onnx.py``
on ONNX Runtime and OpenVINO, float32 and static int8, against eager
PyTorch float32, random weights.

Each family's rows, side by side in one run: ``PyTorch (eager) float32``,
``ONNX Runtime float32``, ``ONNX Runtime int8`` and, where ``openvino``
imports (on the cpu), ``OpenVINO float32`` and ``OpenVINO int8``. The int8
files are made here from the float32 ones by
:func:`~off_plugin.deployment.quantization.quantize`, calibrated on
:data:`CALIBRATION` random inputs of each graph's example shape, the
graph's ``float_modules`` left float: their figures are speed only (the
accuracy cost is in docs/user_guides/deployment.md)."""
import os.path as osp
import tempfile
from typing import Callable, List, Optional, Tuple

import numpy as np
import torch

from off_plugin.utils import load_config
from .detection import video_frame
from .restoration import RESTORATION
from .timing import Verdict, name, report, side_by_side, target

#: the reference row of every family
EAGER = 'PyTorch (eager) float32'
#: the runtimes' rows: (name, ``load_runtime``'s backend)
RUNTIMES = (('ONNX Runtime', 'onnxruntime'), ('OpenVINO', 'openvino'))
PRECISIONS = ('float32', 'int8')
#: the throughput targets against :data:`EAGER`, of the families that have
#: them (the recognizer, the restorer); the other rows print their ratio
TARGETS = {
    'ONNX Runtime float32': 1.5,
    'ONNX Runtime int8': 2.0,
    'OpenVINO int8': 2.0,
}
#: random calibration inputs of each graph's int8 file
CALIBRATION = 4


def where(args) -> str:
    return f'{args.device}, {args.threads} threads'


def backends(args) -> List[Tuple[str, str]]:
    """The :data:`RUNTIMES` this run times: OpenVINO where it imports and
    the device is the cpu, else one line saying why not."""
    try:
        from off_plugin.deployment.openvino import OVModel  # noqa: F401
    except ImportError as err:
        why = (f'openvino does not import ({err}); pip install '
               '"off_plugin[openvino]"')
    else:
        if args.device == 'cpu':
            return list(RUNTIMES)
        why = f'OpenVINO runs on the cpu, not --device {args.device}'
    print(f'\ndeploy, OpenVINO rows: skipped ({why})')
    return list(RUNTIMES[:1])


def random_inputs(graph, num: int, seed: int = 0) -> list:
    """``num`` calibration samples: each of the graph's inputs drawn
    uniformly between its example's minimum and maximum, at its shape."""
    rng = np.random.default_rng(seed)
    arrays = [x.cpu().numpy() for x in graph.inputs]
    return [
        tuple(
            rng.uniform(x.min(), x.max(), x.shape).astype(np.float32)
            for x in arrays) for _ in range(num)
    ]


def kept(graphs) -> str:
    """What the int8 files of ``graphs`` keep float, for the titles."""
    modules = dict.fromkeys(m for graph in graphs for m in graph.float_modules)
    return f'int8 keeps {", ".join(modules) or "nothing"} float'


def runtimes(graphs,
             folder: str,
             args,
             load: Optional[Callable[[str, str], object]] = None) -> dict:
    """Export ``graphs`` (a family's files, the first the one it is loaded
    by) to ``folder`` in float32, quantize each to int8 from its float32
    file (:data:`CALIBRATION` random inputs, its ``float_modules`` float),
    and load both on each of ``args.runtimes`` with ``args.threads``
    threads: ``{'ONNX Runtime float32': runner, ...}``, each
    ``load(path, backend)`` (default: ``load_runtime``)."""
    from off_plugin.deployment.backend import int8_path, load_runtime
    from off_plugin.deployment.quantization import quantize
    out = osp.join(folder, 'model.onnx')
    for graph in graphs:
        graph.export(out)
        quantize(
            graph.path(out), graph.path(int8_path(out)),
            random_inputs(graph, CALIBRATION), graph.float_modules)
    if load is None:

        def load(path: str, backend: str):
            return load_runtime(path, backend, args.device, args.threads)

    files = dict(float32=out, int8=int8_path(out))
    return {
        f'{runtime} {precision}': load(files[precision], backend)
        for runtime, backend in args.runtimes
        for precision in PRECISIONS
    }


def ratios(family: str, results: dict, targets: bool) -> List[Verdict]:
    """Each runtime's throughput against :data:`EAGER`: a verdict for the
    rows of :data:`TARGETS` (``targets``), a line for the others."""
    verdicts = []
    for row, result in results.items():
        if row == EAGER:
            continue
        ratio = results[EAGER]['seconds'] / result['seconds']
        if targets and row in TARGETS:
            verdicts.append(
                target(
                    f'deploy {family}: {row} / {EAGER} throughput',
                    ratio,
                    TARGETS[row],
                    at_most=False))
        else:
            print(f'{family}: {row} gives x{ratio:.2f} of {EAGER}\'s '
                  'throughput (no target)')
    return verdicts


def recognizer(args) -> List[Verdict]:
    """The ``--recognizer`` config, ``--segments`` segments at ``--size``
    px, one crop; the graph on one video."""
    from off_plugin.deployment import recognition as rec
    cfg = load_config(args.recognizer, args.recognizer_cfg_options)
    model = rec.init_model(cfg, None, args.device).eval()
    # the task's graph (its float_modules), on one crop of the video
    graph, = rec.graphs(
        model, (args.size, args.size), args.segments, dynamic=False)
    clips = torch.rand(1, args.segments, 3, args.size, args.size) * 255
    graph = graph._replace(
        inputs=(clips.to(args.device), ),
        metadata=dict(graph.metadata, views=[1, args.segments]))
    arrays = [x.cpu().numpy() for x in graph.inputs]
    with tempfile.TemporaryDirectory() as folder:
        runners = runtimes([graph], folder, args)
        results = side_by_side(
            {
                EAGER: lambda i: graph.module(*graph.inputs),
                **{
                    row: lambda i, m=m: m(*arrays)
                    for row, m in runners.items()
                }
            }, args.device, args.warmup, args.repeats)
    report(
        f'deploy, recognizer: {where(args)}, {name(args.recognizer)}, '
        f'{args.segments} segments at {args.size} px, median of '
        f'{args.repeats}; {kept([graph])}', results, EAGER, 'videos', 1)
    return ratios('recognizer', results, targets=True)


def restorer(args) -> List[Verdict]:
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
    graphs = res.graphs(model, shape=size)
    with tempfile.TemporaryDirectory() as folder:
        runners = runtimes(
            graphs, folder, args, lambda path, backend: res.ONNXRestorer(
                path, args.device, args.threads, backend=backend))
        results = side_by_side(
            {
                row: lambda i, m=m: sum(1 for _ in restore_frames(m, video))
                for row, m in {
                    EAGER: model,
                    **runners
                }.items()
            }, args.device, args.warmup, args.repeats)
    for result in results.values():
        result['seconds'] /= args.video_frames
    report(
        f'deploy, DnCNN_OFF(3) streaming: {where(args)}, {size[0]}x'
        f'{size[1]} frames, restore_frames over {args.video_frames} '
        f'frames, per frame, median of {args.repeats} videos; '
        f'{kept(graphs)}', results, EAGER, 'frames', 1)
    return ratios('DnCNN_OFF(3) streaming', results, targets=True)


def detector(args, det) -> None:
    """The ``--detector`` config, online: one frame of ``--frame-size``
    with the previous frame's features; no target."""
    cfg = load_config(args.detector, args.detector_cfg_options)
    model = det.init_model(cfg, None, args.device)
    size = tuple(args.frame_size)
    graph, = det.graphs(model, shape=size)
    frame = graph.module.preprocess(graph.inputs[0])
    arrays = [x.cpu().numpy() for x in graph.inputs]
    with tempfile.TemporaryDirectory() as folder:
        runners = runtimes([graph], folder, args)
        # PyTorch: the model's own online predict (the export graph
        # re-writes its post-processing with static shapes)
        results = side_by_side(
            {
                EAGER:
                lambda i: model.predict(frame[None], video_frame(i, size)),
                **{
                    row: lambda i, m=m: m(*arrays)
                    for row, m in runners.items()
                }
            }, args.device, args.warmup, args.repeats)
    report(
        f'deploy, detector: {where(args)}, {name(args.detector)}, '
        f'online, {size[0]}x{size[1]} frames, median of {args.repeats}; '
        f'{kept([graph])}', results, EAGER, 'frames', 1)
    ratios('detector', results, targets=False)


def run(args) -> List[Verdict]:
    """Eager PyTorch float32 against ONNX Runtime and OpenVINO (where it
    imports), float32 and static int8, all with ``--threads`` threads, on
    the graphs of ``tools/deployment/export_onnx.py`` (random weights):
    the ``--recognizer`` config (by default the UCF-101 OFF BN-Inception
    RGB; ``--segments`` segments at ``--size`` px, one crop; the graph on
    one video), DnCNN_OFF(3) streaming (``restore_frames`` over
    ``--video-frames`` frames at ``--restore-size``, per frame) and, where
    the detection task is installed, the ``--detector`` config (by default
    R-FCN R101 + OFF MS; online, one frame of ``--frame-size`` with the
    previous frame's features). The int8 files are quantized here from
    the float32 ones, calibrated on a few random inputs, the graphs'
    ``float_modules`` float: speed only, the accuracy cost is in
    docs/user_guides/deployment.md. Targets, throughput against eager
    PyTorch float32: ONNX Runtime float32 >= x1.5, ONNX Runtime int8 and
    OpenVINO int8 each >= x2.0, for the recognizer and the restorer; the
    detector's ratios are printed without one."""
    torch.set_num_threads(args.threads)
    args.runtimes = backends(args)
    print(f'\ndeploy: int8 = static QDQ (ONNX Runtime\'s quantizer) of the '
          f'float32 file, calibrated on {CALIBRATION} random inputs of the '
          'example shape, each graph\'s float_modules float: speed only '
          '(random weights); the accuracy cost is in '
          'docs/user_guides/deployment.md')
    verdicts = recognizer(args) + restorer(args)
    try:
        from off_plugin.deployment import detection as det
    except ImportError as err:  # the detection task is not installed
        print(f'\ndeploy, detector: skipped ({err})')
        return verdicts
    detector(args, det)
    return verdicts
