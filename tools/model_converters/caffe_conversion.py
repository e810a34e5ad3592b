# Copyright (c) off_plugin authors. All rights reserved.
"""Convert the authors' Caffe models of OFF (github
kevin-ssy/Optical-Flow-Guided-Feature) to this package's recognizers,
without Caffe or the ``protobuf`` package.

- :func:`read_caffemodel` parses a ``.caffemodel`` (a serialized
  ``caffe.NetParameter``) from the protobuf wire format with the few field
  numbers of the authors' ``caffe.proto`` that matter here.
- :func:`convert_caffe_model` maps its blobs onto a built ``Recognizer2D``
  (the stage-1 TSN, the authors' "init model") or ``OFFRecognizer`` (their
  "reference model") with a ``BNInception`` backbone.
- :func:`convert_from_config` does both for a config and returns an
  mmengine checkpoint.

Facts from the authors' code (``lib/caffe-action``, ``models/ucf101/*``):
their ``BN`` layer stores ``[scale, shift, mean, variance]`` shaped (1, C)
(or (1, C, 1, 1)) and computes ``(x - mean) / sqrt(variance + eps) * scale +
shift`` at test time with ``eps`` from ``bn_param`` (default 1e-5): a plain
``BatchNorm2d``. Every convolution and fc layer has a bias. Their concat
orders, ``[spatial, temporal]`` per map and ``[maps..., lower level]`` per
scale, are those of :class:`OFFUnit` / ``OFFLevel``, so no channel is
permuted except the colour channels of the first convolution when the
config feeds RGB where the authors fed BGR.
"""
import copy
import hashlib
import os.path as osp
import struct
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn

# ---------------------------------------------------------------------------
# Protobuf wire format
# ---------------------------------------------------------------------------

# Field number -> (name, kind, repeated) for the messages read here. Kinds:
# 'str', 'int' (varint, two's complement), 'bool', 'float', 'double' or a
# message name. Unknown fields are skipped.
SCHEMA = {
    'NetParameter': {
        1: ('name', 'str', False),
        2: ('layers', 'V1LayerParameter', True),
        100: ('layer', 'LayerParameter', True),
    },
    'LayerParameter': {
        1: ('name', 'str', False),
        2: ('type', 'str', False),
        3: ('bottom', 'str', True),
        4: ('top', 'str', True),
        7: ('blobs', 'BlobProto', True),
        104: ('concat_param', 'ConcatParameter', False),
        106: ('convolution_param', 'ConvolutionParameter', False),
        108: ('dropout_param', 'DropoutParameter', False),
        110: ('eltwise_param', 'EltwiseParameter', False),
        117: ('inner_product_param', 'InnerProductParameter', False),
        121: ('pooling_param', 'PoolingParameter', False),
        126: ('slice_param', 'SliceParameter', False),
        133: ('reshape_param', 'ReshapeParameter', False),
        137: ('bn_param', 'BNParameter', False),
    },
    # The deprecated ``layers`` field: its type is an enum.
    'V1LayerParameter': {
        2: ('bottom', 'str', True),
        3: ('top', 'str', True),
        4: ('name', 'str', False),
        5: ('type', 'int', False),
        6: ('blobs', 'BlobProto', True),
    },
    'BlobProto': {
        1: ('num', 'int', False),
        2: ('channels', 'int', False),
        3: ('height', 'int', False),
        4: ('width', 'int', False),
        5: ('data', 'float', True),
        7: ('shape', 'BlobShape', False),
        8: ('double_data', 'double', True),
    },
    'BlobShape': {
        1: ('dim', 'int', True)
    },
    'ConvolutionParameter': {
        1: ('num_output', 'int', False),
        2: ('bias_term', 'bool', False),
        3: ('pad', 'int', False),
        4: ('kernel_size', 'int', False),
        5: ('group', 'int', False),
        6: ('stride', 'int', False),
    },
    'PoolingParameter': {
        1: ('pool', 'int', False),  # MAX 0, AVE 1, STOCHASTIC 2
        2: ('kernel_size', 'int', False),
        3: ('stride', 'int', False),
        4: ('pad', 'int', False),
        12: ('global_pooling', 'bool', False),
    },
    'EltwiseParameter': {
        1: ('operation', 'int', False),  # PROD 0, SUM 1, MAX 2
        2: ('coeff', 'float', True),
    },
    'ConcatParameter': {
        2: ('axis', 'int', False)
    },
    'SliceParameter': {
        2: ('slice_point', 'int', True),
        3: ('axis', 'int', False),
    },
    'ReshapeParameter': {
        1: ('shape', 'BlobShape', False)
    },
    'BNParameter': {
        3: ('momentum', 'float', False),
        4: ('eps', 'float', False),
        5: ('frozen', 'bool', False),
    },
    'DropoutParameter': {
        1: ('dropout_ratio', 'float', False)
    },
    'InnerProductParameter': {
        1: ('num_output', 'int', False),
        2: ('bias_term', 'bool', False),
    },
}

# V1LayerParameter.LayerType values of the layers that carry blobs or that
# a BN-Inception network uses.
V1_TYPES = {
    3: 'Concat',
    4: 'Convolution',
    5: 'Data',
    6: 'Dropout',
    14: 'InnerProduct',
    17: 'Pooling',
    18: 'ReLU',
    20: 'Softmax',
    21: 'SoftmaxWithLoss',
    22: 'Split',
    25: 'Eltwise',
    33: 'Slice'
}


class CaffeModelError(ValueError):
    """The file is not a Caffe model, or not the one that was expected."""


class CaffeConversionError(ValueError):
    """Blobs and model parameters do not match one to one."""


def _varint(buf: bytes, pos: int) -> Tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise CaffeModelError('a varint runs past the end of the data')
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7f) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise CaffeModelError('a varint is longer than 10 bytes')


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _decode(buf: bytes, start: int, end: int, message: str) -> dict:
    """Decode ``buf[start:end]`` as ``message``; repeated fields are lists,
    repeated floats numpy arrays."""
    fields = SCHEMA[message]
    out: dict = {}
    pos = start
    while pos < end:
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
            raw = ('varint', value)
        elif wire == 1:
            raw, pos = ('fixed64', buf[pos:pos + 8]), pos + 8
        elif wire == 2:
            length, pos = _varint(buf, pos)
            raw, pos = ('bytes', (pos, pos + length)), pos + length
        elif wire == 5:
            raw, pos = ('fixed32', buf[pos:pos + 4]), pos + 4
        else:
            raise CaffeModelError(
                f'wire type {wire} (field {number} of {message}) at byte '
                f'{pos} is not used by Caffe')
        if pos > end:
            raise CaffeModelError(
                f'field {number} of {message} runs past its message end')
        if number not in fields:
            continue
        name, kind, repeated = fields[number]
        values = _values(buf, raw, kind, repeated)
        if repeated:
            out.setdefault(name, []).extend(values)
        else:
            out[name] = values[-1]
    for name, kind, repeated in fields.values():
        if repeated and kind in ('float', 'double') and name in out:
            out[name] = np.concatenate(
                [np.asarray(v, np.float32).reshape(-1) for v in out[name]])
    return out


def _values(buf: bytes, raw: tuple, kind: str, repeated: bool) -> list:
    wire, value = raw
    if kind in SCHEMA:
        if wire != 'bytes':
            raise CaffeModelError(f'a {kind} is not length-delimited')
        return [_decode(buf, value[0], value[1], kind)]
    if kind == 'str':
        return [bytes(buf[value[0]:value[1]]).decode('utf-8', 'replace')]
    if kind in ('float', 'double'):
        fmt = '<f4' if kind == 'float' else '<f8'
        if wire == 'bytes':  # packed
            return [
                np.frombuffer(buf, fmt,
                              (value[1] - value[0]) // np.dtype(fmt).itemsize,
                              value[0])
            ]
        return [float(np.frombuffer(value, fmt)[0])]
    # integers and booleans, packed or not
    if wire == 'bytes':
        ints, pos = [], value[0]
        while pos < value[1]:
            number, pos = _varint(buf, pos)
            ints.append(number)
    elif wire == 'varint':
        ints = [value]
    else:
        ints = list(struct.unpack('<q' if wire == 'fixed64' else '<i', value))
    return [bool(i) if kind == 'bool' else _signed(i) for i in ints]


@dataclass
class CaffeLayer:
    """One layer of a caffemodel: its blobs as float32 arrays and the layer
    parameters of :data:`SCHEMA` (e.g. ``params['convolution_param']``)."""
    name: str
    type: str
    bottoms: List[str]
    tops: List[str]
    blobs: List[np.ndarray]
    params: dict = field(default_factory=dict)


def _blob(proto: dict, layer: str, index: int) -> np.ndarray:
    data = proto.get('data')
    if data is None or not data.size:
        data = proto.get('double_data', np.zeros(0, np.float32))
    if 'shape' in proto:
        shape = tuple(proto['shape'].get('dim', []))
    else:  # legacy 4-D blob
        shape = tuple(
            proto.get(k, 0) for k in ('num', 'channels', 'height', 'width'))
    if int(np.prod(shape)) != data.size:
        raise CaffeModelError(
            f'blob {index} of layer {layer!r} declares shape {shape} but '
            f'holds {data.size} values')
    return data.reshape(shape)


def parse_net(buf: bytes) -> List[CaffeLayer]:
    """Layers of a serialized ``NetParameter`` (``layer``, or the legacy
    ``layers``), in file order."""
    net = _decode(buf, 0, len(buf), 'NetParameter')
    layers = []
    for proto in net.get('layer', []) + net.get('layers', []):
        name = proto.get('name', '')
        kind = proto.get('type', '')
        if isinstance(kind, int):
            kind = V1_TYPES.get(kind, f'V1:{kind}')
        params = {k: v for k, v in proto.items() if k.endswith('_param')}
        layers.append(
            CaffeLayer(name, kind, proto.get('bottom', []),
                       proto.get('top', []), [
                           _blob(b, name, i)
                           for i, b in enumerate(proto.get('blobs', []))
                       ], params))
    return layers


def read_caffemodel(path: str) -> List[CaffeLayer]:
    """Read a ``.caffemodel``; raises :class:`CaffeModelError` naming the
    file when it is not a Caffe ``NetParameter`` with layers."""
    with open(path, 'rb') as f:
        buf = f.read()
    try:
        layers = parse_net(buf)
    except (CaffeModelError, IndexError, TypeError, struct.error,
            ValueError) as err:
        raise CaffeModelError(
            f'{path} is not a Caffe model (a serialized caffe.NetParameter): '
            f'{err}') from err
    if not layers:
        raise CaffeModelError(
            f'{path} holds no Caffe layers: not a .caffemodel.')
    return layers


# ---------------------------------------------------------------------------
# Layer names of the authors' networks -> this package's modules
# ---------------------------------------------------------------------------

#: Map size of each OFF level in the authors' layer names, fine to coarse.
LEVEL_TAGS = ('28', '14', '')
SHORTCUTS = {
    '28': 'motion_conv_branch_28a',
    '14': 'motion_conv_expand_trans_14a',
    '': 'motion_conv_branch_trans'
}


@dataclass
class Target:
    """Where a Caffe layer's blobs go: ``kind`` 'conv', 'bn' or 'fc' onto
    ``module`` (the state-dict prefix ``prefix``), or 'fixed': a spatial
    gradient convolution the model computes with its own fixed kernel."""
    kind: str
    prefix: str
    module: nn.Module


CAFFE_TYPES = {
    'conv': 'Convolution',
    'fixed': 'Convolution',
    'bn': 'BN',
    'fc': 'InnerProduct'
}


def caffe_targets(model: nn.Module) -> Dict[str, Target]:
    """Caffe layer name -> :class:`Target` for a ``Recognizer2D`` or
    ``OFFRecognizer`` with a ``BNInception`` backbone, in the authors'
    naming (``conv1/7x7_s2``, ``inception_3a/1x1_bn``, ``fc-action``,
    ``motion_conv_gen_3a``, ``motion_conv1_trans_28a``, ...)."""
    from off_plugin.recognition import BNInception
    backbone = getattr(model, 'backbone', None)
    if not isinstance(backbone, BNInception):
        raise CaffeConversionError(
            'The authors\' Caffe models are BN-Inception networks; the model '
            f'has a {type(backbone).__name__} backbone: use a BNInception '
            'config.')
    targets: Dict[str, Target] = {}

    def conv_module(caffe: str, prefix: str, module: nn.Module) -> None:
        targets[caffe] = Target('conv', f'{prefix}.conv', module.conv)
        if getattr(module, 'norm_name', None):
            norm = getattr(module, module.norm_name)
            targets[f'{caffe}_bn'] = Target('bn',
                                            f'{prefix}.{module.norm_name}',
                                            norm)

    for name in ('conv1_7x7_s2', 'conv2_3x3_reduce', 'conv2_3x3'):
        conv_module(
            name.replace('_', '/', 1), f'backbone.{name}',
            getattr(backbone, name))
    for block in backbone.block_names:
        inception = getattr(backbone, f'inception_{block}')
        for name, module in inception.named_children():
            if hasattr(module, 'conv'):
                conv_module(f'inception_{block}/{name}',
                            f'backbone.inception_{block}.{name}', module)
    fc_cls = getattr(getattr(model, 'cls_head', None), 'fc_cls', None)
    if fc_cls is not None:
        targets['fc-action'] = Target('fc', 'cls_head.fc_cls', fc_cls)
    if getattr(model, 'off_head', None) is not None:
        targets.update(_off_targets(model.off_head, backbone.out_blocks))
    return targets


def _off_targets(head: nn.Module, blocks: Tuple[str, ...]) -> dict:
    net = head.off_sub_network
    if len(net.levels) != len(LEVEL_TAGS):
        raise CaffeConversionError(
            f'The authors\' OFF sub-network has {len(LEVEL_TAGS)} levels '
            f'(28, 14, 7 pixels), the model {len(net.levels)}.')
    targets = {}
    base = 'off_head.off_sub_network.levels'
    for i, (level, indices,
            tag) in enumerate(zip(net.levels, net.in_indices, LEVEL_TAGS)):
        if not level.unit_per_map:
            raise CaffeConversionError(
                'The authors\' network has one OFF unit per backbone map: '
                'set off_sub_network.unit_per_map=True.')
        for u, (unit, index) in enumerate(zip(level.units, indices)):
            prefix, block = f'{base}.{i}.units.{u}', blocks[index]
            for caffe, attr in ((f'motion_conv_gen_{block}', 'reduce'),
                                (f'motion_spatial_down_{block}',
                                 'spatial_reduce')):
                module = getattr(unit, attr, None)
                if module is not None:
                    targets[caffe] = Target('conv', f'{prefix}.{attr}.conv',
                                            module.conv)
            if getattr(unit, 'spatial', False):
                targets[f'motion_spatial_grad_{block}'] = Target(
                    'fixed', f'{prefix}.spatial_kernels', unit)
        trans = f'motion_conv_trans_{tag}' if tag else 'motion_conv_trans'
        targets[trans] = Target('conv', f'{base}.{i}.stem.conv',
                                level.stem.conv)
        for b, block_module in enumerate(level.blocks):
            suffix = f'_{tag}{"abcdefgh"[b]}' if tag else ''
            for k in (1, 2, 3):
                targets[f'motion_conv{k}_trans{suffix}'] = Target(
                    'conv', f'{base}.{i}.blocks.{b}.conv{k}.conv',
                    getattr(block_module, f'conv{k}').conv)
            if b == 0 and hasattr(block_module.shortcut, 'conv'):
                targets[SHORTCUTS[tag]] = Target(
                    'conv', f'{base}.{i}.blocks.0.shortcut.conv',
                    block_module.shortcut.conv)
        fc = f'fc-action-motion_{tag}' if tag else 'fc-action-motion'
        targets[fc] = Target('fc', f'off_head.fcs.{i}', head.fcs[i])
    return targets


# ---------------------------------------------------------------------------
# Conversion
# ---------------------------------------------------------------------------


@dataclass
class ConversionReport:
    """What :func:`convert_caffe_model` did: ``mapped`` (Caffe layer,
    state-dict keys), ``fixed`` (Caffe layer, buffer it was checked
    against), ``unmapped`` Caffe layers with blobs that nothing takes,
    ``missing`` model weights no blob fills, ``problems`` blobs that do not
    fit (shape, type, BN epsilon, fixed kernel)."""
    mapped: List[Tuple[str, List[str]]] = field(default_factory=list)
    fixed: List[Tuple[str, str]] = field(default_factory=list)
    unmapped: List[str] = field(default_factory=list)
    missing: List[str] = field(default_factory=list)
    problems: List[str] = field(default_factory=list)

    def errors(self, strict: bool = True) -> List[str]:
        errors = list(self.problems)
        if strict and self.unmapped:
            errors.append('Caffe layers with blobs that no model weight '
                          f'takes: {self.unmapped}')
        if strict and self.missing:
            errors.append(f'model weights without a Caffe blob: '
                          f'{self.missing}')
        return errors


def _fits(blob: np.ndarray, shape: torch.Size) -> Optional[np.ndarray]:
    """``blob`` in ``shape`` if they differ by singleton axes only (Caffe's
    (1, C) / (1, C, 1, 1) vectors, legacy (1, 1, out, in) fc weights)."""
    if tuple(blob.shape) == tuple(shape):
        return blob
    squeeze = [d for d in blob.shape if d != 1]
    if squeeze == [d for d in shape if d != 1] and blob.size == shape.numel():
        return blob.reshape(tuple(shape))
    return None


def _check_network(layers: List[CaffeLayer], path: str,
                   model: nn.Module) -> None:
    """Refuse files that are not the authors' TSN / OFF networks, or not the
    stage the model is."""
    with_blobs = [layer.name for layer in layers if layer.blobs]
    names = set(with_blobs)
    if 'conv1/7x7_s2' not in names or 'fc-action' not in names or not any(
            n.startswith('inception_') for n in names):
        raise CaffeModelError(
            f'{path} is not one of the authors\' TSN/OFF BN-Inception models '
            '(kevin-ssy/Optical-Flow-Guided-Feature init or reference '
            'models): expected layers conv1/7x7_s2, inception_3a/1x1, ..., '
            f'fc-action with blobs; found {with_blobs[:6]}'
            f'{" ..." if len(with_blobs) > 6 else ""}.')
    motion = any(n.startswith(('motion_', 'fc-action-motion')) for n in names)
    has_off = getattr(model, 'off_head', None) is not None
    if has_off and not motion:
        raise CaffeModelError(
            f'{path} is a stage-1 TSN model (the authors\' "init model": no '
            'motion_* layers) but the config builds an OFFRecognizer; '
            'convert it with a TSN config (--stage tsn).')
    if motion and not has_off:
        raise CaffeModelError(
            f'{path} holds the OFF sub-network (motion_* layers: the '
            'authors\' "reference model") but the config builds a plain '
            'TSN; convert it with an OFF config (--stage off).')


def convert_caffe_model(path: str,
                        model: nn.Module,
                        rgb_input: bool = False,
                        strict: bool = True
                        ) -> Tuple[Dict[str, torch.Tensor], ConversionReport]:
    """Map the blobs of the caffemodel at ``path`` onto ``model``'s state
    dict.

    Args:
        path (str): The authors' init (TSN) or reference (OFF) model.
        model (nn.Module): The built recognizer (see :func:`caffe_targets`).
        rgb_input (bool): The model gets RGB (or RGB differences) where the
            authors fed BGR: reverse every colour triple of the first
            convolution's input channels.
        strict (bool): Raise :class:`CaffeConversionError` when a Caffe layer
            with blobs or a model weight stays unmatched (else only report
            it). Blobs that do not fit always raise.

    Returns:
        tuple: The state dict (every key of ``model.state_dict()`` that a blob
        fills, plus ``num_batches_tracked`` counters) and the
        :class:`ConversionReport`.
    """
    layers = read_caffemodel(path)
    targets = caffe_targets(model)
    _check_network(layers, path, model)
    own = model.state_dict()
    state: Dict[str, torch.Tensor] = {}
    report = ConversionReport()
    seen = set()
    for layer in layers:
        if not layer.blobs:
            continue
        target = targets.get(layer.name)
        if target is None:
            report.unmapped.append(f'{layer.name} ({layer.type}, blobs '
                                   f'{[tuple(b.shape) for b in layer.blobs]})')
            continue
        if layer.name in seen:
            report.problems.append(f'{layer.name}: appears twice')
            continue
        seen.add(layer.name)
        if layer.type != CAFFE_TYPES[target.kind]:
            report.problems.append(
                f'{layer.name}: a {layer.type} layer where the model expects '
                f'{CAFFE_TYPES[target.kind]} ({target.prefix})')
            continue
        if target.kind == 'fixed':
            _check_fixed(layer, target, report)
            continue
        _copy_blobs(layer, target, own, rgb_input, state, report)
    for key, value in own.items():
        if key.endswith('num_batches_tracked'):
            state[key] = torch.zeros_like(value)
        elif key not in state:
            report.missing.append(key)
    errors = report.errors(strict)
    if errors:
        raise CaffeConversionError(
            f'{path} does not convert to the model one blob per weight:\n- ' +
            '\n- '.join(errors))
    return state, report


def _copy_blobs(layer, target, own: Dict[str, torch.Tensor], rgb_input: bool,
                state: Dict[str,
                            torch.Tensor], report: ConversionReport) -> None:
    """Put the blobs of a mapped Caffe ``layer`` into ``state`` under the
    weights of ``target`` (a convolution's weight and bias, a batch norm's
    four), fitted to the model's shapes; what does not fit goes to
    ``report``."""
    if target.kind == 'bn':
        _check_eps(layer, target, report)
        names = ['weight', 'bias', 'running_mean', 'running_var']
    else:
        names = ['weight', 'bias']
    keys = [f'{target.prefix}.{n}' for n in names]
    expected = [k for k in keys if k in own]
    if len(layer.blobs) != len(expected):
        report.problems.append(f'{layer.name}: {len(layer.blobs)} blobs for '
                               f'the {len(expected)} weights {expected}')
        return
    for i, (key, blob) in enumerate(zip(expected, layer.blobs)):
        if rgb_input and layer.name == 'conv1/7x7_s2' and i == 0:
            blob = blob[:, _bgr_to_rgb(blob.shape[1])]
        fitted = _fits(blob, own[key].shape)
        if fitted is None:
            report.problems.append(
                f'{layer.name}: blob {i} has shape {tuple(blob.shape)}, '
                f'{key} {tuple(own[key].shape)}' +
                (' (another modality or input size? conv1 sees '
                 f'{blob.shape[1]} channels in Caffe)' if layer.name ==
                 'conv1/7x7_s2' else ''))
            continue
        state[key] = torch.from_numpy(np.array(fitted, np.float32))
    report.mapped.append((layer.name, expected))


def _bgr_to_rgb(channels: int) -> List[int]:
    if channels % 3:
        raise CaffeConversionError(
            f'conv1/7x7_s2 has {channels} input channels: not colour '
            'triples, so BGR cannot become RGB (flow needs no reordering).')
    return [3 * (c // 3) + 2 - c % 3 for c in range(channels)]


def _check_eps(layer: CaffeLayer, target: Target,
               report: ConversionReport) -> None:
    eps = layer.params.get('bn_param', {}).get('eps', 1e-5)
    if not np.isclose(eps, target.module.eps, rtol=1e-5, atol=0):
        report.problems.append(
            f'{layer.name}: Caffe eps {eps:g}, the model\'s BN eps '
            f'{target.module.eps:g}: set norm_cfg=dict(type=\'BN\', '
            f'eps={eps:g}) in the backbone config.')


def _check_fixed(layer: CaffeLayer, target: Target,
                 report: ConversionReport) -> None:
    kernels = target.module.spatial_kernels.cpu().numpy()
    blob = layer.blobs[0]
    bias = layer.blobs[1] if len(layer.blobs) > 1 else np.zeros(1)
    if (blob.shape != kernels.shape or not np.allclose(blob, kernels)
            or np.any(bias) or len(layer.blobs) > 2):
        report.problems.append(
            f'{layer.name}: its weights ({tuple(blob.shape)}) are not the '
            f'fixed spatial kernel {target.prefix} computes with (kernel='
            '\'combined\', zero bias); the model would give other features.')
    else:
        report.fixed.append((layer.name, target.prefix))


def input_modality(cfg) -> str:
    """'rgb', 'rgbdiff' or 'flow': what the config's test pipeline feeds."""
    pipeline = cfg.test_dataloader.dataset.pipeline
    if any(t['type'] == 'FormatRGBDiff' for t in pipeline):
        return 'rgbdiff'
    if cfg.test_dataloader.dataset.get('modality') == 'Flow':
        return 'flow'
    return 'rgb'


def convert_from_config(path: str,
                        cfg,
                        strict: bool = True) -> Tuple[dict, ConversionReport]:
    """Build ``cfg.model`` (no weights loaded) and convert the caffemodel at
    ``path`` for it; returns an mmengine checkpoint ``{'state_dict', 'meta'}``
    and the report. The config decides the colour order: RGB and RGB
    difference streams without ``data_preprocessor.to_rgb`` get RGB, so the
    first convolution's colour channels are reversed."""
    from mmaction.registry import MODELS
    from mmengine.registry import DefaultScope
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.pop('feature_checkpoint', None)
    model_cfg.backbone.pretrained = None
    with DefaultScope.overwrite_default_scope('mmaction'):
        model = MODELS.build(model_cfg)
    modality = input_modality(cfg)
    rgb_input = modality != 'flow' and not model_cfg.get(
        'data_preprocessor', {}).get('to_rgb', False)
    state, report = convert_caffe_model(path, model, rgb_input, strict)
    with open(path, 'rb') as f:
        sha256 = hashlib.sha256(f.read()).hexdigest()
    meta = dict(
        converted_from=osp.basename(path),
        sha256=sha256,
        source='github.com/kevin-ssy/Optical-Flow-Guided-Feature (Caffe)',
        config=osp.basename(cfg.filename) if cfg.filename else None,
        modality=modality,
        input_order=('flow x, y' if modality == 'flow' else
                     'RGB (conv1 colour channels reversed from BGR)'
                     if rgb_input else 'BGR'),
        caffe_layers_mapped=len(report.mapped),
        fixed_layers_checked=len(report.fixed),
        unmapped=list(report.unmapped),
        missing=list(report.missing))
    return dict(state_dict=state, meta=meta), report
