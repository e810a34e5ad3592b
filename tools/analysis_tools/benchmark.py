# Copyright (c) off_plugin authors. All rights reserved.
"""Speed of OFF against what it is compared with, measured side by side.

    cd tools/analysis_tools
    python benchmark.py recognition   # TSN vs TSN + OFF (BN-Inception)
    python benchmark.py unit          # OFFUnit vs its memory floor
    python benchmark.py detection     # R-FCN vs R-FCN + OFF SS / MS
    python benchmark.py restoration   # DnCNN vs DnCNN_OFF(2) / (3)
    python benchmark.py all --device cuda   # the four above
    python benchmark.py import        # off_plugin.<task> vs its host
    python benchmark.py deploy        # ONNX Runtime / OpenVINO, float32 /
                                      # int8 vs eager PyTorch
    python benchmark.py <subcommand> -h   # its flags

Every subcommand builds its models with random weights and times them in
one run, taking turns call by call so that all see the same machine load:
``--warmup`` untimed rounds, then the median of ``--repeats``. It prints
time, throughput, parameters, the ratio to the reference and, on CUDA, the
peak memory, then a ``PASS`` / ``FAIL`` line per target. Machines are noisy:
compare ratios of one run, not figures of different runs. Each subcommand
is a module of ``benchmarks/``.
"""
import argparse
from typing import Callable, List, NamedTuple, Optional, Tuple

from benchmarks import (deploy, detection, imports, recognition, restoration,
                        unit)
from benchmarks.detection import DETECTION
from benchmarks.recognition import RECOGNITION
from benchmarks.timing import Verdict, summary

import off_plugin.all_tasks  # noqa: F401
from off_plugin.utils import add_cfg_options, run_tool

#: every flag, once; each subcommand names those it takes
FLAGS = {
    '--device':
    dict(default='cpu', help='cpu or cuda[:N]'),
    '--warmup':
    dict(type=int, default=1, help='untimed rounds first'),
    '--repeats':
    dict(type=int, default=5, help='timed rounds: their median is reported'),
    '--segments':
    dict(type=int, default=25, help='segments of a video'),
    '--size':
    dict(type=int, default=224, help='recognizers\' frame size'),
    '--compile':
    dict(
        action='store_true',
        help='also time the OFF units with compile=True '
        '(torch.compile; compiling takes seconds a shape, in '
        'the warm-up round)'),
    '--channels-last':
    dict(
        action='store_true',
        help='every network in channels_last (NHWC) '
        'memory format'),
    '--flow-segments':
    dict(
        type=int,
        default=2,
        help='segments whose TV-L1 flow is computed '
        'each round (5 frame pairs each)'),
    '--frame-size':
    dict(
        type=int,
        nargs=2,
        default=(300, 500),
        metavar=('H', 'W'),
        help='detectors\' frame size (the paper: 600 '
        '1000)'),
    '--restore-size':
    dict(
        type=int,
        nargs=2,
        default=(64, 112),
        metavar=('H', 'W'),
        help='restorers\' frame size (the paper\'s '
        'Vimeo-90K: 256 448; 1/16 of its area by '
        'default, to finish in about 2 minutes on 2 CPU '
        'cores)'),
    '--video-frames':
    dict(type=int, default=64, help='frames of the streamed video'),
    '--threads':
    dict(
        type=int,
        default=2,
        help='threads of PyTorch and of every runtime (ONNX Runtime\'s '
        'intra-op threads, OpenVINO\'s INFERENCE_NUM_THREADS)'),
    '--recognizer':
    dict(
        default=RECOGNITION + 'off_bninception_4xb32-'
        '7of25seg-20kiter_ucf101-split1-rgb.py',
        help='the recognizer\'s config (default: the '
        'UCF-101 OFF BN-Inception RGB)'),
    '--detector':
    dict(
        default=DETECTION.format('off-ms_'),
        help='the video detector\'s config (default: R-FCN '
        'R101 + OFF MS)'),
}
TIMING = ('--device', '--warmup', '--repeats')


class Subcommand(NamedTuple):
    """What a subcommand runs, its help line and the flags it takes."""
    run: Optional[Callable[[argparse.Namespace], List[Verdict]]]
    help: str
    flags: Tuple[str, ...]


#: the model subcommands, which ``all`` runs
TASKS = {
    'recognition':
    Subcommand(
        recognition.run, 'TSN vs TSN + OFF (BN-Inception)',
        TIMING + ('--segments', '--size', '--compile', '--channels-last',
                  '--flow-segments')),
    'unit':
    Subcommand(unit.run, 'OFFUnit vs its memory floor',
               TIMING + ('--segments', '--compile')),
    'detection':
    Subcommand(detection.run, 'R-FCN vs R-FCN + OFF SS / MS',
               TIMING + ('--frame-size', )),
    'restoration':
    Subcommand(restoration.run, 'DnCNN vs DnCNN_OFF(2) / (3)',
               TIMING + ('--restore-size', '--video-frames')),
}
SUBCOMMANDS = {
    **TASKS,
    'all':
    Subcommand(
        None, 'the four above (not import, deploy)',
        tuple(
            dict.fromkeys(flag for task in TASKS.values()
                          for flag in task.flags))),
    'import':
    Subcommand(imports.run, 'off_plugin.<task> vs its host',
               ('--warmup', '--repeats')),
    'deploy':
    Subcommand(
        deploy.run, 'ONNX Runtime / OpenVINO, float32 / int8 vs eager '
        'PyTorch', TIMING +
        ('--threads', '--recognizer', '--segments', '--size', '--detector',
         '--frame-size', '--restore-size', '--video-frames')),
}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    subparsers = parser.add_subparsers(dest='subcommand', required=True)
    for name, subcommand in SUBCOMMANDS.items():
        sub = subparsers.add_parser(
            name,
            help=subcommand.help,
            description=(subcommand.run or main).__doc__)
        for flag in subcommand.flags:
            sub.add_argument(flag, **FLAGS[flag])
        if name == 'deploy':
            add_cfg_options(sub, '--recognizer-cfg-options',
                            'the --recognizer config')
            add_cfg_options(sub, '--detector-cfg-options',
                            'the --detector config')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    """The model subcommands, one after the other, with one summary."""
    args = parse_args(argv)
    tasks = TASKS if args.subcommand == 'all' else [args.subcommand]
    verdicts = [
        verdict for task in tasks for verdict in SUBCOMMANDS[task].run(args)
    ]
    summary(verdicts, getattr(args, 'device', 'cpu'))
    return 0


if __name__ == '__main__':
    run_tool(main)
