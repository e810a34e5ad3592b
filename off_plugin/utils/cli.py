# Copyright (c) off_plugin authors. All rights reserved.
"""What the scripts of ``tools/`` share: one way to take a config and one way
to fail.

A tool's ``main(argv)`` raises on bad input; :func:`run_tool` turns that
into one line on stderr, ``<tool>: error: <message>``, and exit status 1.
Messages name the file, the field and the fix (the plugin's datasets,
converters and loaders write them so). Tests call ``main`` directly and
see the exception.
"""
import argparse
import os.path as osp
import sys
from typing import Callable, Optional, Sequence, TypeVar

from mmengine.config import Config, DictAction

T = TypeVar('T')


class ToolError(Exception):
    """A bad input of a tool: the message names the file or argument, what
    is wrong and the fix."""


# What a tool reports in one line rather than a traceback: its own errors
# and the errors of bad files (missing, unreadable, of the wrong content).
BAD_INPUT = (ToolError, OSError, ValueError)


def one_line(err: BaseException) -> str:
    """The message of ``err`` on one line."""
    return ' '.join(str(err).split()) or type(err).__name__


def run_tool(main: Callable[[Optional[Sequence[str]]], T],
             argv: Optional[Sequence[str]] = None) -> T:
    """Run a tool's ``main(argv)``; bad input ends it with one line on
    stderr and exit status 1. Other exceptions (bugs) keep their
    traceback."""
    try:
        return main(argv)
    except BAD_INPUT as err:
        tool = osp.splitext(osp.basename(sys.argv[0]))[0] or 'off_plugin'
        print(f'{tool}: error: {one_line(err)}', file=sys.stderr)
        sys.exit(1)


def add_cfg_options(parser: argparse.ArgumentParser,
                    flag: str = '--cfg-options',
                    config: str = 'the config') -> None:
    """``--cfg-options`` as in MMAction2's and MMDetection's tools, or
    ``flag`` for the settings of another ``config``."""
    parser.add_argument(
        flag,
        nargs='+',
        action=DictAction,
        default={},
        metavar='KEY=VALUE',
        help=f'override settings of {config}, key=value pairs (e.g. '
        'model.test_cfg.off_weight=2 test_dataloader.num_workers=0); '
        'lists as key="[a,b]" or key=a,b, nested lists as key="[(a,b),(c,d)]"')


def add_inference_options(parser: argparse.ArgumentParser) -> None:
    """``--device`` and ``--backend`` of the inference tools of ``demo/``:
    the checkpoint on PyTorch, or an exported .onnx file on ONNX Runtime
    or OpenVINO (``off_plugin.deployment``'s runners)."""
    parser.add_argument(
        '--device',
        default='cpu',
        help='cpu, cuda or cuda:N (openvino: cpu only)')
    parser.add_argument(
        '--backend',
        choices=('pytorch', 'onnxruntime', 'openvino'),
        default='pytorch',
        help='run the .pth on PyTorch, or the exported .onnx (float32 or '
        'int8) given as checkpoint on ONNX Runtime or OpenVINO (pip '
        'install "off_plugin[openvino]")')


def load_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    """The config at ``path`` with ``--cfg-options`` merged in."""
    if not osp.isfile(path):
        raise ToolError(f'{path}: no such config file; pass the path of a '
                        'config (e.g. one under configs/).')
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg
