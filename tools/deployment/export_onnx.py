# Copyright (c) off_plugin authors. All rights reserved.
"""Export a model of a config to ONNX and check it against PyTorch.

    python tools/deployment/export_onnx.py \\
        configs/recognition/off/off_r18_1xb8-5of8seg-10e_motion-demo-rgb.py \\
        off_demo.onnx --checkpoint work_dirs/.../epoch_10.pth --verify

Every model family of the plugin, by the config's scope:

- recognizers (``mmaction``): clips of the test pipeline's views in
  (N, crops * segments, 3, H, W), pixel values 0-255), the class scores of
  the config's test protocol out (TSN + OFF fusion, crop aggregation,
  ``average_clips``); a fixed number of segments (``--segments``), any
  batch size;
- restorers (``mmagic``): a window of frames in (N, T, 3, H, W), its
  restored target frame out, any batch size, height and width; for
  DnCNN_OFF also the streaming pair ``OUT.frame.onnx`` (a frame's
  features, once per frame) and ``OUT.fusion.onnx`` (a window's features
  to its restored frame);
- video detectors (``mmdet``): online, one frame (and the previous frame's
  features) in, its detections (and its features) out, at a fixed size.

Without ``--checkpoint`` the weights are random, with everything that
would make a layer an identity re-drawn (a warning says so). The exporter
is torch's ``torch.export``-based one (``dynamo=True``, the default since
torch 2.9); each file must pass ``onnx.checker``.

``--int8`` also writes each graph's static int8 version (QDQ, ONNX
Runtime's quantizer) beside it, ``OUT.int8.onnx`` (and
``OUT.int8.<graph>.onnx``), its activation ranges calibrated on
``--calib-samples`` samples of the config's ``--split`` dataloader
(``val`` by default), what ``--keep-float`` names left in float (by
default nothing: each task's measurement, docs/user_guides/deployment.md).

With ``--verify`` each file runs on the ``--backend`` runtimes (ONNX
Runtime by default; OpenVINO) and its model on PyTorch with the same
input (random; an int8 file: the first calibration sample); the tool ends
with ``max abs difference: <value> (<pass|fail> at <tolerance>)``, the
worst of them, and exits with status 1 on fail. ``--eval`` computes the
config's own metric on its ``--split`` for PyTorch and each backend and
precision (top-1, PSNR of the streaming restorer, online mAP@0.5) and
prints them side by side with their difference to float32.

Writes only OUT (and ``OUT.<graph>.onnx`` beside it for models of several
graphs, and their ``.int8`` versions), each through ``.<file>.tmp-<pid>``
beside it, renamed once it passes ``onnx.checker``; reads the config,
checkpoint and data. ``--eval`` runs the config's own evaluator, which
writes what the config tells it to (the restoration demo's ``test``
evaluator, ``ClipPSNR``, its per-clip json).
"""
import argparse
import importlib
import os.path as osp
import sys
from typing import Dict, Optional, Sequence

import torch

from off_plugin.deployment.backend import BACKENDS, int8_path, parity_line
from off_plugin.utils import ToolError, add_cfg_options, load_config, run_tool

#: the config's default_scope -> the task whose deployment module exports it
TASKS = dict(mmaction='recognition', mmdet='detection', mmagic='restoration')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='model config file')
    parser.add_argument('out', help='ONNX file to write (.onnx)')
    parser.add_argument(
        '--checkpoint',
        help='its checkpoint (.pth); '
        'without: random weights')
    parser.add_argument(
        '--shape',
        type=int,
        nargs=2,
        metavar=('H', 'W'),
        help='input height and width (default: the test '
        "pipeline's crop for recognizers, 64 x 64 for "
        "restorers, the test scale for detectors)")
    parser.add_argument(
        '--segments',
        type=int,
        help="recognizers: segments per video (default: the "
        "test pipeline's)")
    parser.add_argument(
        '--batch-size',
        type=int,
        default=1,
        help='videos (recognizers) or windows (restorers) '
        'of the example input')
    parser.add_argument(
        '--static',
        action='store_true',
        help='fix every axis to the example input (default: '
        'any batch size; restorers also any height and '
        'width)')
    parser.add_argument('--opset', type=int, default=18)
    parser.add_argument(
        '--max-topk',
        type=int,
        metavar='K',
        help="video detectors: cap the k of the graph's TopK (the RPN's "
        "nms_pre) to K; TensorRT's TopK takes k <= 3840")
    parser.add_argument(
        '--int8',
        action='store_true',
        help='also write the static int8 (QDQ) files, OUT.int8.onnx')
    parser.add_argument(
        '--calib-samples',
        type=int,
        default=8,
        metavar='N',
        help='--int8: samples of the --split dataloader that calibrate '
        'the activation ranges (default 8)')
    parser.add_argument(
        '--split',
        choices=('val', 'test'),
        default='val',
        help="the config's dataloader (and evaluator) of the calibration "
        'and --eval (default val)')
    parser.add_argument(
        '--keep-float',
        nargs='*',
        metavar='MODULE',
        help='--int8: module paths (generator.off_unit) or classes '
        "(OFFUnit) that stay float (default: the task's own)")
    parser.add_argument(
        '--verify',
        action='store_true',
        help='compare each file on the --backend runtimes with PyTorch')
    parser.add_argument(
        '--eval',
        action='store_true',
        help="the config's metric on its --split: PyTorch and every "
        'file on the --backend runtimes')
    parser.add_argument(
        '--backend',
        nargs='+',
        choices=BACKENDS,
        default=['onnxruntime'],
        help='runtimes of --verify and --eval (default onnxruntime)')
    parser.add_argument(
        '--device',
        default='cpu',
        help='device of the PyTorch model and of ONNX '
        'Runtime when verifying (cpu, cuda, cuda:N)')
    add_cfg_options(parser)
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> bool:
    """Export (and verify); returns whether every file passed (True
    without ``--verify``)."""
    args = parse_args(argv)
    if not args.out.endswith('.onnx'):
        raise ToolError(f'{args.out}: the output file (out) must end with '
                        '.onnx.')
    if osp.dirname(args.out) and not osp.isdir(osp.dirname(args.out)):
        raise ToolError(f'{args.out}: no folder {osp.dirname(args.out)}; '
                        'make it first or write elsewhere.')
    if args.checkpoint and '://' not in args.checkpoint and not osp.isfile(
            args.checkpoint):
        raise ToolError(f'{args.checkpoint}: no such checkpoint file '
                        '(--checkpoint); pass a .pth of a run of this '
                        'config, or leave it out for random weights.')
    cfg = load_config(args.config, args.cfg_options)
    scope = cfg.get('default_scope')
    if scope not in TASKS:
        raise ToolError(
            f'{args.config}: default_scope={scope!r}; the export takes '
            f'configs of {", ".join(TASKS)} (the plugin\'s recognizers, '
            'detectors and restorers).')
    task = importlib.import_module(f'off_plugin.deployment.{TASKS[scope]}')
    model = task.init_model(cfg, args.checkpoint, args.device)
    if args.max_topk and scope != 'mmdet':
        raise ToolError(f'--max-topk {args.max_topk}: only the video '
                        'detector has TopK; leave it out.')
    graphs = task.graphs(
        model,
        shape=args.shape,
        num_segments=args.segments,
        batch_size=args.batch_size,
        dynamic=not args.static,
        **(dict(max_topk=args.max_topk) if args.max_topk else {}))
    verdicts = []
    for graph in graphs:
        path = graph.export(args.out, args.opset)
        print(f'{path}: exported ({", ".join(graph.input_names)} -> '
              f'{", ".join(graph.output_names)}), onnx.checker passed')
        if args.verify:
            verdicts += verify(graph, args.out, args)
    if args.int8:
        verdicts += export_int8(task, model, graphs, args)
    if args.eval:
        print_metrics(evaluate(task, model, cfg, args), task.METRIC)
    if not verdicts:
        return True
    worst = max(verdicts, key=lambda v: v[0] / v[1])
    print(parity_line(*worst))
    return worst[0] <= worst[1]


def verify(graph, out: str, args, inputs=None, int8: bool = False) -> list:
    """Parity of a graph's file on each backend; prints and returns the
    (difference, tolerance) of each."""
    verdicts = []
    for backend in args.backend:
        verdict = graph.verify(
            out, inputs, device=args.device, backend=backend, int8=int8)
        path = graph.path(int8_path(out) if int8 else out)
        print(f'{path}: {backend}: {parity_line(*verdict)}')
        verdicts.append(verdict)
    return verdicts


def export_int8(task, model, graphs, args) -> list:
    """Calibrate and write each graph's int8 file; with ``--verify`` its
    parity on the first calibration sample."""
    from off_plugin.deployment.quantization import quantize
    samples = task.calibration_inputs(model, graphs, args.calib_samples,
                                      args.split)
    verdicts = []
    for graph in graphs:
        keep = (
            graph.float_modules
            if args.keep_float is None else args.keep_float)
        path = graph.path(int8_path(args.out))
        done = quantize(
            graph.path(args.out), path, samples[graph.suffix], keep)
        print(f'{path}: int8 (QDQ), calibrated on '
              f'{len(samples[graph.suffix])} samples of the {args.split} '
              f'split, kept float: {", ".join(keep) or "nothing"} '
              f'({done["float_nodes"]} nodes); onnx.checker passed')
        if args.verify:
            first = [torch.from_numpy(x) for x in samples[graph.suffix][0]]
            verdicts += verify(graph, args.out, args, first, int8=True)
    return verdicts


def evaluate(task, model, cfg, args) -> Dict[str, Dict[str, float]]:
    """The config's metrics on its ``--split``: PyTorch, then each
    backend's float32 and (``--int8``) int8 files."""
    print(f'evaluating on the {args.split} split of {args.config} ...')
    results = {
        'PyTorch float32': task.evaluation(cfg, args.split, model=model)
    }
    for backend in args.backend:
        for precision, out in [
            ('float32', args.out)
        ] + ([('int8', int8_path(args.out))] if args.int8 else []):
            results[f'{backend} {precision}'] = task.evaluation(
                cfg, args.split, out, backend)
    return results


def print_metrics(results: Dict[str, Dict[str, float]], metric: str) -> None:
    """One row per model: the task's metric and its difference to the
    float32 file on the same runtime (to PyTorch for PyTorch)."""
    print(f'{"model":<24} {metric:>10} {"difference":>11}')
    for name, metrics in results.items():
        reference = results.get(
            name.replace('int8', 'float32'), results['PyTorch float32'])
        value = metrics[metric]
        print(f'{name:<24} {value:>10.4f} '
              f'{value - reference[metric]:>+11.4f}')


if __name__ == '__main__':
    sys.exit(0 if run_tool(main) else 1)
