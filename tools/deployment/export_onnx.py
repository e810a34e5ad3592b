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

Without ``--checkpoint`` the weights are random (a warning says so). The
exporter is torch's ``torch.export``-based one (``dynamo=True``, the
default since torch 2.9); each file must pass ``onnx.checker``. With
``--verify`` each file runs on ONNX Runtime and its model on PyTorch with
the same random input; the tool ends with ``max abs difference: <value>
(<pass|fail> at <tolerance>)`` and exits with status 1 on fail.

Writes only OUT (and ``OUT.<graph>.onnx`` beside it for models of several
graphs), each through ``.<file>.tmp-<pid>`` beside it, renamed once it
passes ``onnx.checker``; reads the config and checkpoint.
"""
import argparse
import importlib
import os.path as osp
import sys
from typing import Optional, Sequence

from off_plugin.deployment.backend import parity_line
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
        '--verify',
        action='store_true',
        help='compare ONNX Runtime with PyTorch')
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
    graphs = task.graphs(
        model,
        shape=args.shape,
        num_segments=args.segments,
        batch_size=args.batch_size,
        dynamic=not args.static)
    worst = None
    for graph in graphs:
        path = graph.export(args.out, args.opset)
        print(f'{path}: exported ({", ".join(graph.input_names)} -> '
              f'{", ".join(graph.output_names)}), onnx.checker passed')
        if args.verify:
            difference, tolerance = graph.verify(args.out, device=args.device)
            print(f'{path}: {parity_line(difference, tolerance)}')
            if worst is None or difference / tolerance > worst[0] / worst[1]:
                worst = difference, tolerance
    if worst is None:
        return True
    print(parity_line(*worst))
    return worst[0] <= worst[1]


if __name__ == '__main__':
    sys.exit(0 if run_tool(main) else 1)
