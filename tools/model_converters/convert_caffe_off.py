# Copyright (c) off_plugin authors. All rights reserved.
"""Convert the authors' Caffe OFF models to mmengine checkpoints, without
Caffe (github kevin-ssy/Optical-Flow-Guided-Feature, UCF-101 split 1).

    # the "reference model" (stage 2, OFFRecognizer)
    python tools/model_converters/convert_caffe_off.py rgb_off.caffemodel \\
        checkpoints/off_bninception-caffe_4xb32-7of25seg-20kiter_ucf101-split1-rgb.pth \\
        --modality rgb --stage off
    # the "init model" (stage 1, TSN), or any config of the same network
    python tools/model_converters/convert_caffe_off.py rgb_init.caffemodel out.pth \\
        --config configs/recognition/off/ucf101/tsn_bninception-caffe_8xb32-1x1x3-4500iter_ucf101-split1-rgb.py

Prints every Caffe layer and the weights it fills. Refuses other networks,
and (unless --no-strict) any Caffe layer with blobs or model weight left
unmatched. Writes only ``dst`` (its folder made if missing), whole or not
at all (through a temporary ``.<dst name>.tmp-<pid>`` beside it); a ``dst``
that is the ``src`` is refused. ``--cfg-options`` changes the config of the
network (``--config`` or the default one).
"""  # noqa: E501
import argparse
import os
import os.path as osp
from typing import Optional, Sequence

import torch
from caffe_conversion import convert_from_config

import off_plugin.recognition  # noqa: F401
from off_plugin.utils import ToolError, add_cfg_options, load_config, run_tool
from off_plugin.utils.fileio import atomic_write

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = osp.join(ROOT, 'configs', 'recognition', 'off', 'ucf101')
DEFAULT_CONFIGS = {
    ('rgb', 'tsn'): 'tsn_bninception-caffe_8xb32-1x1x3-4500iter',
    ('flow', 'tsn'): 'tsn_bninception-caffe_8xb32-5x1x3-20kiter',
    ('rgbdiff', 'tsn'): 'tsn_bninception-caffe_8xb32-6x1x3-4500iter',
    ('rgb', 'off'): 'off_bninception-caffe_4xb32-7of25seg-20kiter',
    ('flow', 'off'): 'off_bninception-caffe_4xb32-7of25seg-20kiter',
    ('rgbdiff', 'off'): 'off_bninception-caffe_4xb32-7of25seg-20kiter',
}


def default_config(modality: str, stage: str) -> str:
    """The config of the authors' network for a modality and stage."""
    name = DEFAULT_CONFIGS[modality, stage]
    return osp.join(CONFIGS, f'{name}_ucf101-split1-{modality}.py')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert the authors\' Caffe OFF / TSN models '
        '(.caffemodel) to mmengine checkpoints.')
    parser.add_argument('src', help='the .caffemodel')
    parser.add_argument('dst', help='the checkpoint to write (.pth)')
    parser.add_argument(
        '--config',
        help='config of the network to fill '
        '(default: from --modality and --stage)')
    parser.add_argument(
        '--modality',
        choices=('rgb', 'rgbdiff', 'flow'),
        help='stream of the caffemodel')
    parser.add_argument(
        '--stage',
        choices=('tsn', 'off'),
        help='tsn: the "init model", off: the "reference '
        'model"')
    parser.add_argument(
        '--no-strict',
        dest='strict',
        action='store_false',
        help='write the checkpoint even if Caffe layers or '
        'model weights stay unmatched (they are listed)')
    add_cfg_options(parser)
    args = parser.parse_args(argv)
    if args.config is None and not (args.modality and args.stage):
        parser.error('give --config, or --modality and --stage')
    if args.config and (args.modality or args.stage):
        parser.error('give either --config or --modality/--stage')
    return args


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    if osp.abspath(args.dst) == osp.abspath(args.src):
        raise ToolError(f'{args.dst}: dst is the caffemodel (src); give '
                        'another file name, e.g. <config name>.pth.')
    config = args.config or default_config(args.modality, args.stage)
    cfg = load_config(config, args.cfg_options)
    checkpoint, report = convert_from_config(args.src, cfg, args.strict)
    for layer, keys in report.mapped:
        prefix = osp.commonprefix(keys).rstrip('.')
        names = ','.join(k[len(prefix) + 1:] for k in keys)
        print(f'{layer:<34} -> {prefix}.{{{names}}}')
    for layer, buffer in report.fixed:
        print(f'{layer:<34} == {buffer} (fixed kernel, not stored)')
    for layer in report.unmapped:
        print(f'WARNING: unmapped Caffe layer {layer}')
    for key in report.missing:
        print(f'WARNING: no Caffe blob for {key}')
    os.makedirs(osp.dirname(osp.abspath(args.dst)), exist_ok=True)
    with atomic_write(args.dst) as tmp:
        torch.save(checkpoint, tmp)
    meta = checkpoint['meta']
    print(f'{len(report.mapped)} Caffe layers -> '
          f'{len(checkpoint["state_dict"])} weights ({meta["input_order"]} '
          f'input) for {osp.basename(config)}; wrote {args.dst}')
    return checkpoint


if __name__ == '__main__':
    run_tool(main)
