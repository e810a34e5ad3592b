# Copyright (c) off_plugin authors. All rights reserved.
"""Conversion of the authors' Caffe OFF models
(tools/model_converters/convert_caffe_off.py).

The real caffemodels cannot be downloaded here, so the tests write their own
with a tiny protobuf writer: the authors' layer names, types, shapes and
graph (models/ucf101/*/deploy_tpl.prototxt of kevin-ssy/Optical-Flow-Guided-
Feature, for N=1 video of T segments) with random blobs. A small NumPy
interpreter of the Caffe layers runs that graph; the converted model must
give the same scores.
"""
import importlib.util
import os.path as osp
import struct
import subprocess

import numpy as np
import pytest
import torch
from caffe_conversion import (CaffeConversionError, CaffeModelError,
                              convert_from_config, read_caffemodel)
from mmaction.registry import MODELS, TRANSFORMS
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.registry import DefaultScope
from numpy.lib.stride_tricks import sliding_window_view

import off_plugin.recognition  # noqa: F401

ROOT = osp.dirname(osp.dirname(osp.dirname(__file__)))
CONFIGS = osp.join(ROOT, 'configs/recognition/off/ucf101')
NAMES = {
    ('rgb', 'tsn'): 'tsn_bninception-caffe_8xb32-1x1x3-4500iter',
    ('flow', 'tsn'): 'tsn_bninception-caffe_8xb32-5x1x3-20kiter',
    ('rgbdiff', 'tsn'): 'tsn_bninception-caffe_8xb32-6x1x3-4500iter',
}
for _m in ('rgb', 'flow', 'rgbdiff'):
    NAMES[_m, 'off'] = 'off_bninception-caffe_4xb32-7of25seg-20kiter'
IN_CHANNELS = {'rgb': 3, 'flow': 10, 'rgbdiff': 15}
NUM_CLASSES = 101
SEGMENTS = 3


def config(modality, stage):
    return osp.join(CONFIGS,
                    f'{NAMES[modality, stage]}_ucf101-split1-{modality}.py')


def load_tool():
    spec = importlib.util.spec_from_file_location(
        'convert_caffe_off',
        osp.join(ROOT, 'tools', 'model_converters', 'convert_caffe_off.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------------------
# A protobuf writer for caffe.NetParameter (field numbers of the authors'
# lib/caffe-action/src/caffe/proto/caffe.proto)
# ---------------------------------------------------------------------------


def varint(n):
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        out.append((n & 0x7f) | (0x80 if n > 0x7f else 0))
        n >>= 7
        if not n:
            return bytes(out)


def tag(number, wire):
    return varint(number << 3 | wire)


def field_bytes(number, payload):
    return tag(number, 2) + varint(len(payload)) + payload


def field_int(number, value):
    return tag(number, 0) + varint(value)


def field_float(number, value):
    return tag(number, 5) + struct.pack('<f', value)


def blob_proto(array, legacy=False):
    array = np.asarray(array, np.float32)
    if legacy:  # num/channels/height/width and unpacked floats
        dims = (1, ) * (4 - array.ndim) + array.shape
        head = b''.join(field_int(i + 1, d) for i, d in enumerate(dims))
        return head + b''.join(field_float(5, v) for v in array.ravel())
    shape = field_bytes(1, b''.join(varint(d) for d in array.shape))
    return field_bytes(7, shape) + field_bytes(5, array.tobytes())


def layer_proto(layer):
    out = field_bytes(1, layer['name'].encode()) + field_bytes(
        2, layer['type'].encode())
    out += b''.join(field_bytes(3, b.encode()) for b in layer['bottom'])
    out += b''.join(field_bytes(4, t.encode()) for t in layer['top'])
    # a field the reader skips: ParamSpec { lr_mult: 1 }
    out += field_bytes(6, field_float(3, 1.))
    out += b''.join(
        field_bytes(7, blob_proto(b, layer.get('legacy', False)))
        for b in layer.get('blobs', []))
    if 'conv' in layer:
        c = layer['conv']
        out += field_bytes(
            106,
            field_int(1, c['num_output']) + field_int(4, c['kernel']) +
            field_int(6, c.get('stride', 1)) + field_int(3, c.get('pad', 0)) +
            field_int(5, c.get('group', 1)))
    if 'pool' in layer:
        p = layer['pool']
        body = field_int(1, p['pool'])
        if p.get('global'):
            body += field_int(12, 1)
        else:
            body += field_int(2, p['kernel']) + field_int(
                3, p['stride']) + field_int(4, p.get('pad', 0))
        out += field_bytes(121, body)
    if 'coeff' in layer:
        out += field_bytes(
            110,
            field_int(1, 1) +
            b''.join(field_float(2, c) for c in layer['coeff']))
    if 'axis' in layer:
        out += field_bytes(104, field_int(2, layer['axis']))
    if 'slice' in layer:
        axis, points = layer['slice']
        out += field_bytes(
            126,
            field_int(3, axis) + b''.join(field_int(2, p) for p in points))
    if 'reshape' in layer:
        dims = b''.join(varint(d) for d in layer['reshape'])
        out += field_bytes(133, field_bytes(1, field_bytes(1, dims)))
    if 'eps' in layer:
        out += field_bytes(137, field_float(4, layer['eps']))
    return out


def write_net(path, layers):
    with open(path, 'wb') as f:
        f.write(field_bytes(1, b'BN-Inception'))
        for layer in layers:
            f.write(field_bytes(100, layer_proto(layer)))
    return str(path)


# ---------------------------------------------------------------------------
# The authors' networks as layer lists (deploy graph, 1 video, T segments)
# ---------------------------------------------------------------------------

# name, 1x1, (3x3 reduce, 3x3), (double reduce, double 3x3), pool, proj,
# stride: models/ucf101/rgb_off/1/deploy_tpl.prototxt
INCEPTION = [
    ('3a', 64, (64, 64), (64, 96), 1, 32, 1),
    ('3b', 64, (64, 96), (64, 96), 1, 64, 1),
    ('3c', 0, (128, 160), (64, 96), 0, 0, 2),
    ('4a', 224, (64, 96), (96, 128), 1, 128, 1),
    ('4b', 192, (96, 128), (96, 128), 1, 128, 1),
    ('4c', 160, (128, 160), (128, 160), 1, 128, 1),
    ('4d', 96, (128, 192), (160, 192), 1, 128, 1),
    ('4e', 0, (128, 192), (192, 256), 0, 0, 2),
    ('5a', 352, (192, 320), (160, 224), 1, 128, 1),
    ('5b', 352, (192, 320), (192, 224), 0, 128, 1),
]
MAX, AVE = 0, 1
SOBEL = np.array([[0, 1, 0], [-1, 0, 1], [0, -1, 0]], np.float32)


class NetBuilder:

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.layers = []
        self.channels = {}

    def add(self, **layer):
        self.layers.append(layer)
        return layer['top'][0] if layer['top'] else None

    def normal(self, std, shape):
        return self.rng.standard_normal(shape, np.float32) * np.float32(std)

    def conv(self, name, bottom, out, kernel, stride=1, pad=0, relu=False):
        c_in = self.channels[bottom]
        weight = self.normal(
            np.sqrt(2 / (c_in * kernel**2)), (out, c_in, kernel, kernel))
        top = self.add(
            name=name,
            type='Convolution',
            bottom=[bottom],
            top=[name],
            blobs=[weight, self.normal(.1, out)],
            conv=dict(num_output=out, kernel=kernel, stride=stride, pad=pad))
        self.channels[top] = out
        if relu:
            self.add(name=f'{name}_relu', type='ReLU', bottom=[top], top=[top])
        return top

    def conv_bn(self, name, bottom, out, kernel, stride=1, pad=0):
        self.conv(name, bottom, out, kernel, stride, pad)
        # BN vectors as (1, C), the first layer's as (1, C, 1, 1)
        shape = (1, out, 1, 1) if name == 'conv1/7x7_s2' else (1, out)
        rng = self.rng
        blobs = [
            rng.uniform(.5, 1.5, shape),
            rng.normal(0, .1, shape),
            rng.normal(0, .1, shape),
            rng.uniform(.5, 1.5, shape)
        ]
        top = self.add(
            name=f'{name}_bn',
            type='BN',
            bottom=[name],
            top=[f'{name}_bn'],
            blobs=blobs)
        self.channels[top] = out
        self.add(name=f'{name}_relu', type='ReLU', bottom=[top], top=[top])
        return top

    def pool(self,
             name,
             bottom,
             pool,
             kernel=3,
             stride=2,
             pad=0,
             global_=False):
        self.channels[name] = self.channels[bottom]
        return self.add(
            name=name,
            type='Pooling',
            bottom=[bottom],
            top=[name],
            pool=dict(
                pool=pool,
                kernel=kernel,
                stride=stride,
                pad=pad,
                **{'global': global_}))

    def concat(self, name, bottoms, axis=1):
        self.channels[name] = sum(self.channels[b] for b in bottoms)
        return self.add(
            name=name,
            type='Concat',
            bottom=list(bottoms),
            top=[name],
            axis=axis)

    def fc(self, name, bottom, top):
        weight = self.normal(.01, (NUM_CLASSES, self.channels[bottom]))
        return self.add(
            name=name,
            type='InnerProduct',
            bottom=[bottom],
            top=[top],
            blobs=[weight, self.normal(.1, NUM_CLASSES)])

    def bn_inception(self, data):
        x = self.conv_bn('conv1/7x7_s2', data, 64, 7, 2, 3)
        x = self.pool('pool1/3x3_s2', x, MAX)
        x = self.conv_bn('conv2/3x3_reduce', x, 64, 1)
        x = self.conv_bn('conv2/3x3', x, 192, 3, 1, 1)
        x = self.pool('pool2/3x3_s2', x, MAX)
        for name, c1, (r3, c3), (rd, cd), pool, proj, stride in INCEPTION:
            p = f'inception_{name}/'
            branches = []
            if c1:
                branches.append(self.conv_bn(p + '1x1', x, c1, 1))
            y = self.conv_bn(p + '3x3_reduce', x, r3, 1)
            branches.append(self.conv_bn(p + '3x3', y, c3, 3, stride, 1))
            y = self.conv_bn(p + 'double_3x3_reduce', x, rd, 1)
            y = self.conv_bn(p + 'double_3x3_1', y, cd, 3, 1, 1)
            branches.append(
                self.conv_bn(p + 'double_3x3_2', y, cd, 3, stride, 1))
            if stride == 2:
                branches.append(self.pool(p + 'pool', x, MAX, 3, 2))
            else:
                y = self.pool(p + 'pool', x, pool, 3, 1, 1)
                branches.append(self.conv_bn(p + 'pool_proj', y, proj, 1))
            x = self.concat(p + 'output', branches)
        return x

    def rgb_diff_input(self):
        """The authors' rgb_diff deploy: 6 BGR frames -> 5 differences."""
        self.channels['data'] = 18
        frames = [f'frame_{i}' for i in range(1, 7)]
        self.add(
            name='slice',
            type='Slice',
            bottom=['data'],
            top=frames,
            slice=(1, [3, 6, 9, 12, 15]))
        for i in range(5):
            self.add(
                name=f'diff{i + 1}',
                type='Eltwise',
                bottom=[frames[i], frames[i + 1]],
                top=[f'diff{i + 1}'],
                coeff=(-1., 1.))
            self.channels[f'diff{i + 1}'] = 3
        return self.concat('concat', [f'diff{i}' for i in range(1, 6)])

    def off_unit(self, block, size, spatial):
        """motion_<block>: [spatial grad (32), temporal grad (128)]."""
        t = SEGMENTS
        gen = self.conv(
            f'motion_conv_gen_{block}',
            f'inception_{block}/output',
            128,
            1,
            relu=True)
        self.add(
            name=f'reshape_rgb_frames_{block}',
            type='Reshape',
            bottom=[gen],
            top=[f'reshape_rgb_frames_{block}'],
            reshape=(1, -1, size, size))
        r = f'reshape_rgb_frames_{block}'
        self.add(
            name=f'slice_motion_last_{block}',
            type='Slice',
            bottom=[r],
            top=[f'first_frame_{block}', f'last_frames_{block}'],
            slice=(1, [128]))
        self.add(
            name=f'slice_motion_first_{block}',
            type='Slice',
            bottom=[r],
            top=[f'first_frames_{block}', f'last_frame_{block}'],
            slice=(1, [128 * (t - 1)]))
        self.add(
            name=f'eltwise_motion_first_{block}',
            type='Eltwise',
            bottom=[f'first_frames_{block}', f'last_frames_{block}'],
            top=[f'motion_first_{block}'],
            coeff=(-1., 1.))
        temporal = f'temporal_grad_{block}' if spatial else f'motion_{block}'
        self.add(
            name=f'reshape_motion_first_frames_{block}',
            type='Reshape',
            bottom=[f'motion_first_{block}'],
            top=[temporal],
            reshape=(-1, 128, size, size))
        self.channels[temporal] = 128
        if not spatial:
            return temporal
        self.add(
            name=f'slice_motion_first_{block}',
            type='Slice',
            bottom=[f'inception_{block}/output'],
            top=[f'spatial_frames_{block}', f'spatial_frame_{block}'],
            slice=(0, [t - 1]))
        self.channels[f'spatial_frames_{block}'] = self.channels[
            f'inception_{block}/output']
        down = self.conv(f'motion_spatial_down_{block}',
                         f'spatial_frames_{block}', 32, 1)
        self.add(
            name=f'motion_spatial_grad_{block}',
            type='Convolution',
            bottom=[down],
            top=[f'spatial_grad_{block}'],
            blobs=[np.tile(SOBEL, (32, 1, 1, 1)),
                   np.zeros(32)],
            conv=dict(num_output=32, kernel=3, pad=1, group=32))
        self.channels[f'spatial_grad_{block}'] = 32
        self.add(
            name='dropout',
            type='Dropout',
            bottom=[f'spatial_grad_{block}'],
            top=[f'spatial_grad_{block}'])
        return self.concat(f'concat_first_second_{block}',
                           [f'spatial_grad_{block}', temporal])

    def bottleneck(self,
                   suffix,
                   bottom,
                   mid,
                   out,
                   shortcut=None,
                   expand_kernel=1,
                   relu=True):
        x = self.conv(f'motion_conv1_trans{suffix}', bottom, mid, 1, relu=True)
        x = self.conv(
            f'motion_conv2_trans{suffix}', x, mid, 3, pad=1, relu=True)
        x = self.conv(
            f'motion_conv3_trans{suffix}',
            x,
            out,
            expand_kernel,
            pad=expand_kernel // 2)
        if shortcut:
            bottom = self.conv(shortcut, bottom, out, 1)
        top = f'motion_sum{suffix}'
        self.add(
            name=top,
            type='Eltwise',
            bottom=[x, bottom],
            top=[top],
            coeff=(1., 1.))
        self.channels[top] = out
        if relu:
            self.add(
                name=f'motion_relu_sum{suffix}',
                type='ReLU',
                bottom=[top],
                top=[top])
        return top

    def off(self, sizes, spatial):
        maps = {
            b: self.off_unit(b, sizes[b], spatial)
            for b in ('3a', '3b', '3c', '4a', '4b', '4c', '4d', '5a', '5b')
        }
        x = self.concat('motion_fusion_28', [maps['3a'], maps['3b']])
        x = self.conv('motion_conv_trans_28', x, 64, 7, 2, 3, relu=True)
        x = self.bottleneck('_28a', x, 64, 256, 'motion_conv_branch_28a')
        x = self.bottleneck('_28b', x, 64, 256)
        x28 = self.bottleneck('_28c', x, 64, 256)
        x = self.concat('motion_fusion_14',
                        [maps[b]
                         for b in ('3c', '4a', '4b', '4c', '4d')] + [x28])
        x = self.conv('motion_conv_trans_14', x, 128, 5, 2, 2, relu=True)
        x = self.bottleneck('_14a', x, 128, 512,
                            'motion_conv_expand_trans_14a')
        x14 = self.bottleneck('_14b', x, 128, 512, expand_kernel=3)
        y = self.pool('motion_pool_trans_28', x28, MAX, 3, 2)
        y = self.pool('global_pool_motion_28', y, AVE, global_=True)
        self.fc('fc-action-motion_28', y, 'fc_motion_28')
        y = self.pool('global_pool_motion_14', x14, AVE, global_=True)
        self.fc('fc-action-motion_14', y, 'fc_motion_14')
        x = self.concat('motion_fusion', [maps['5a'], maps['5b'], x14])
        x = self.conv('motion_conv_trans', x, 256, 3, 1, 1, relu=True)
        x = self.bottleneck(
            '', x, 256, 1024, 'motion_conv_branch_trans', relu=False)
        y = self.pool('global_pool_motion', x, AVE, global_=True)
        self.fc('fc-action-motion', y, 'fc_motion')


def map_sizes(size):
    """Inception output sizes, Caffe's rounding: 3a/3b, 3c-4d, 5a/5b."""

    def pooled(s):
        return -(-(s - 3) // 2) + 1

    s28 = pooled(pooled((size + 6 - 7) // 2 + 1))
    s14 = (s28 + 2 - 3) // 2 + 1
    s7 = (s14 + 2 - 3) // 2 + 1
    return dict(
        zip(('3a', '3b', '3c', '4a', '4b', '4c', '4d', '5a', '5b'),
            (s28, ) * 2 + (s14, ) * 5 + (s7, ) * 2))


def build_net(modality, stage, size, seed=0):
    net = NetBuilder(seed)
    if modality == 'rgbdiff':
        data = net.rgb_diff_input()
    else:
        data = 'data'
        net.channels[data] = IN_CHANNELS[modality]
    x = net.bn_inception(data)
    y = net.pool('global_pool', x, AVE, global_=True)
    net.add(name='dropout', type='Dropout', bottom=[y], top=[y])
    net.fc('fc-action', y, 'fc')
    if stage == 'off':
        net.off(map_sizes(size), spatial=modality == 'rgb')
    return net.layers


# ---------------------------------------------------------------------------
# A NumPy interpreter of those Caffe layers (float64)
# ---------------------------------------------------------------------------


def caffe_conv(x, weight, bias, stride, pad, group):
    n, c, h, w = x.shape
    out, c_group, k, _ = weight.shape
    x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh, ow = (h + 2 * pad - k) // stride + 1, (w + 2 * pad - k) // stride + 1
    win = sliding_window_view(x, (k, k), axis=(2, 3))
    win = win[:, :, ::stride, ::stride][:, :, :oh, :ow]
    o_group = out // group
    outs = [
        np.tensordot(
            win[:, g * c_group:(g + 1) * c_group],
            weight[g * o_group:(g + 1) * o_group],
            axes=([1, 4, 5], [1, 2, 3])) for g in range(group)
    ]
    return np.concatenate(outs, -1).transpose(0, 3, 1, 2) + bias.reshape(
        1, -1, 1, 1)


def caffe_pool(x, pool, kernel, stride, pad, global_):
    """Caffe's PoolingLayer: output size rounded up; AVE divides by the
    window clipped to the padded input, MAX ignores the padding."""
    n, c, h, w = x.shape
    if global_:
        kernel, stride, pad = h, 1, 0
    oh = int(np.ceil((h + 2 * pad - kernel) / stride)) + 1
    ow = int(np.ceil((w + 2 * pad - kernel) / stride)) + 1
    if pad and (oh - 1) * stride >= h + pad:
        oh -= 1
    if pad and (ow - 1) * stride >= w + pad:
        ow -= 1
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            h0, w0 = i * stride - pad, j * stride - pad
            h1, w1 = min(h0 + kernel, h + pad), min(w0 + kernel, w + pad)
            size = (h1 - h0) * (w1 - w0)
            h0, w0, h1, w1 = max(h0, 0), max(w0, 0), min(h1, h), min(w1, w)
            window = x[:, :, h0:h1, w0:w1]
            out[:, :, i, j] = window.max((2, 3)) if pool == MAX else \
                window.sum((2, 3)) / size
    return out


def caffe_forward(layers, data):
    blobs = {'data': np.asarray(data, np.float64)}
    for layer in layers:
        x = [blobs[b] for b in layer.bottoms]
        params = layer.params
        kind = layer.type
        if kind == 'Convolution':
            p = params['convolution_param']
            out = [
                caffe_conv(x[0], layer.blobs[0].astype(np.float64),
                           layer.blobs[1], p.get('stride', 1), p.get('pad', 0),
                           p.get('group', 1))
            ]
        elif kind == 'BN':
            scale, shift, mean, var = (
                b.reshape(1, -1, 1, 1) for b in layer.blobs)
            eps = params.get('bn_param', {}).get('eps', 1e-5)
            out = [(x[0] - mean) / np.sqrt(var + eps) * scale + shift]
        elif kind == 'ReLU':
            out = [np.maximum(x[0], 0)]
        elif kind == 'Pooling':
            p = params['pooling_param']
            out = [
                caffe_pool(x[0], p.get('pool', MAX), p.get('kernel_size'),
                           p.get('stride', 1), p.get('pad', 0),
                           p.get('global_pooling'))
            ]
        elif kind == 'Concat':
            out = [
                np.concatenate(x,
                               params.get('concat_param', {}).get('axis', 1))
            ]
        elif kind == 'Eltwise':
            coeff = params['eltwise_param'].get('coeff', np.ones(len(x)))
            out = [sum(c * v for c, v in zip(coeff, x))]
        elif kind == 'Slice':
            p = params['slice_param']
            out = np.split(x[0], p['slice_point'], axis=p['axis'])
        elif kind == 'Reshape':
            dims = params['reshape_param']['shape']['dim']
            out = [
                x[0].reshape([
                    x[0].shape[i] if d == 0 else d for i, d in enumerate(dims)
                ])
            ]
        elif kind == 'Dropout':  # test phase
            out = x
        elif kind == 'InnerProduct':
            out = [
                x[0].reshape(len(x[0]), -1) @ layer.blobs[0].T.astype(
                    np.float64) + layer.blobs[1]
            ]
        else:
            raise NotImplementedError(kind)
        blobs.update(zip(layer.tops, out))
    return blobs


# ---------------------------------------------------------------------------
# Fixtures and helpers
# ---------------------------------------------------------------------------

_NETS = {}


def net(modality, stage, size=64):
    key = (modality, stage, size)
    if key not in _NETS:
        _NETS[key] = build_net(modality, stage, size)
    return _NETS[key]


@pytest.fixture(scope='module')
def caffemodels(tmp_path_factory):
    """Writes (and caches) the synthetic caffemodel of a network."""
    root = tmp_path_factory.mktemp('caffemodels')
    paths = {}

    def get(modality, stage, size=64):
        key = (modality, stage, size)
        if key not in paths:
            paths[key] = write_net(
                root / f'{modality}_{stage}_{size}'
                '.caffemodel', net(*key))
        return paths[key]

    return get


@pytest.fixture(scope='module')
def converted(caffemodels):
    """Converts (and caches) a synthetic caffemodel with its config."""
    results = {}

    def get(modality, stage, size=64):
        key = (modality, stage, size)
        if key not in results:
            results[key] = convert_from_config(
                caffemodels(*key), Config.fromfile(config(modality, stage)))
        return results[key]

    return get


def build_model(cfg, state=None):
    cfg = cfg.copy()
    cfg.model.pop('feature_checkpoint', None)
    with DefaultScope.overwrite_default_scope('mmaction'):
        model = MODELS.build(cfg.model)
    if state is not None:
        model.load_state_dict(state, strict=True)
    return model.eval()


def model_scores(model, inputs, stage):
    """Raw logits of cls_head (and of the OFF levels) for one video."""
    data = model.data_preprocessor(
        dict(inputs=[inputs], data_samples=[ActionDataSample()]), False)
    with torch.no_grad():
        if stage == 'tsn':
            feats = model.backbone(data['inputs'].flatten(0, 1))
            return [model.cls_head(feats, num_segs=SEGMENTS)[0]]
        model.test_cfg['num_segments'] = SEGMENTS
        tsn, off = model._forward(data['inputs'])
    return [tsn[0]] + [level[0] for level in off]


def video_inputs(modality, size, rng):
    """The model's input and the authors' data blob for one video."""
    if modality == 'flow':
        flow = rng.integers(0, 256, (SEGMENTS, 10, size, size))
        return torch.tensor(flow, dtype=torch.float32), flow - 128.
    clip = 6 if modality == 'rgbdiff' else 1
    frames = rng.integers(0, 256, (SEGMENTS * clip, size, size, 3))
    bgr = frames[..., ::-1] - np.array([104., 117., 123.])
    data = bgr.reshape(SEGMENTS, clip, size, size,
                       3).transpose(0, 1, 4, 2,
                                    3).reshape(SEGMENTS, 3 * clip, size, size)
    if modality == 'rgb':
        inputs = frames.transpose(0, 3, 1, 2)
    else:  # the configs' pipeline: FormatRGBDiff
        with DefaultScope.overwrite_default_scope('mmaction'):
            to_diff = TRANSFORMS.build(dict(type='FormatRGBDiff'))
        inputs = to_diff.transform(
            dict(imgs=list(frames.astype(np.uint8)), clip_len=clip))['imgs']
    return torch.tensor(
        np.ascontiguousarray(inputs), dtype=torch.float32), data


# ---------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------


@pytest.mark.parametrize('modality,stage,size', [('rgb', 'tsn', 64),
                                                 ('flow', 'tsn', 64),
                                                 ('rgb', 'off', 96),
                                                 ('rgbdiff', 'off', 64)])
def test_converted_model_computes_what_caffe_computes(modality, stage, size,
                                                      caffemodels, converted):
    path = caffemodels(modality, stage, size)
    cfg = Config.fromfile(config(modality, stage))
    checkpoint, report = converted(modality, stage, size)
    assert not report.unmapped and not report.missing
    assert len(
        report.fixed) == (9 if modality == 'rgb' and stage == 'off' else 0)
    model = build_model(cfg, checkpoint['state_dict'])
    inputs, data = video_inputs(modality, size, np.random.default_rng(1))
    ours = model_scores(model, inputs, stage)
    blobs = caffe_forward(read_caffemodel(path), data)
    tops = ['fc'] + (['fc_motion_28', 'fc_motion_14', 'fc_motion']
                     if stage == 'off' else [])
    assert len(ours) == len(tops)
    for top, score in zip(tops, ours):
        expected = blobs[top].mean(0)  # segment consensus
        assert expected.shape == (NUM_CLASSES, )
        np.testing.assert_allclose(
            score.numpy(),
            expected,
            rtol=1e-4,
            atol=1e-4 * np.abs(expected).max(),
            err_msg=top)


def test_every_blob_lands_in_its_weight(caffemodels, converted):
    path = caffemodels('rgb', 'off', 96)
    layers = {layer.name: layer for layer in read_caffemodel(path)}
    checkpoint, _ = converted('rgb', 'off', 96)
    state = checkpoint['state_dict']

    def blob(name, index):
        return torch.from_numpy(layers[name].blobs[index]).reshape(-1)

    # named checks, written out from the authors' layer names
    expected = {
        'backbone.conv1_7x7_s2.conv.weight': ('conv1/7x7_s2', 0),
        'backbone.conv1_7x7_s2.bn.running_mean': ('conv1/7x7_s2_bn', 2),
        'backbone.conv2_3x3.conv.bias': ('conv2/3x3', 1),
        'backbone.inception_3a.1x1.bn.weight': ('inception_3a/1x1_bn', 0),
        'backbone.inception_3c.double_3x3_2.bn.bias':
        ('inception_3c/double_3x3_2_bn', 1),
        'backbone.inception_5b.pool_proj.bn.running_var':
        ('inception_5b/pool_proj_bn', 3),
        'cls_head.fc_cls.weight': ('fc-action', 0),
        'cls_head.fc_cls.bias': ('fc-action', 1),
        'off_head.off_sub_network.levels.0.units.1.reduce.conv.weight':
        ('motion_conv_gen_3b', 0),
        'off_head.off_sub_network.levels.1.units.4.spatial_reduce.conv.bias':
        ('motion_spatial_down_4d', 1),
        'off_head.off_sub_network.levels.2.units.0.reduce.conv.bias':
        ('motion_conv_gen_5a', 1),
        'off_head.off_sub_network.levels.0.stem.conv.weight':
        ('motion_conv_trans_28', 0),
        'off_head.off_sub_network.levels.0.blocks.0.shortcut.conv.weight':
        ('motion_conv_branch_28a', 0),
        'off_head.off_sub_network.levels.0.blocks.2.conv2.conv.bias':
        ('motion_conv2_trans_28c', 1),
        'off_head.off_sub_network.levels.1.blocks.0.shortcut.conv.bias':
        ('motion_conv_expand_trans_14a', 1),
        'off_head.off_sub_network.levels.1.blocks.1.conv3.conv.weight':
        ('motion_conv3_trans_14b', 0),
        'off_head.off_sub_network.levels.2.stem.conv.weight':
        ('motion_conv_trans', 0),
        'off_head.off_sub_network.levels.2.blocks.0.shortcut.conv.bias':
        ('motion_conv_branch_trans', 1),
        'off_head.fcs.0.weight': ('fc-action-motion_28', 0),
        'off_head.fcs.1.bias': ('fc-action-motion_14', 1),
        'off_head.fcs.2.weight': ('fc-action-motion', 0),
    }
    for key, (name, index) in expected.items():
        assert torch.equal(state[key].reshape(-1), blob(name, index)), key
    # and one to one by value: every weight holds exactly one blob, every
    # blob (but the fixed spatial kernels) is in exactly one weight
    owners = {}
    for name, layer in layers.items():
        if name.startswith('motion_spatial_grad'):
            continue
        for i, b in enumerate(layer.blobs):
            owners.setdefault(b.astype(np.float32).tobytes(), []).append(
                (name, i))
    assert all(len(o) == 1 for o in owners.values())
    taken = []
    for key, value in state.items():
        if key.endswith('num_batches_tracked'):
            assert value == 0
            continue
        owner = owners.get(value.numpy().reshape(-1).tobytes())
        assert owner is not None, key
        taken += owner
    assert sorted(taken) == sorted(o for v in owners.values() for o in v)


def test_rgb_difference_first_conv_takes_rgb_channels(caffemodels, converted):
    path = caffemodels('rgbdiff', 'off')
    conv1 = {
        layer.name: layer
        for layer in read_caffemodel(path)
    }['conv1/7x7_s2'].blobs[0]
    checkpoint, _ = converted('rgbdiff', 'off')
    assert checkpoint['meta']['input_order'].startswith('RGB')
    weight = checkpoint['state_dict']['backbone.conv1_7x7_s2.conv.weight']
    order = [2, 1, 0, 5, 4, 3, 8, 7, 6, 11, 10, 9, 14, 13, 12]
    assert torch.equal(weight, torch.from_numpy(conv1[:, order]))
    # RGB keeps BGR (the config flips the frames), flow keeps x, y
    assert converted('rgb', 'tsn')[0]['meta']['input_order'] == 'BGR'
    assert converted('flow', 'tsn')[0]['meta']['input_order'] == 'flow x, y'


def test_unmatched_and_missing_layers_are_named(tmp_path):
    layers = [
        dict(layer) for layer in net('rgb', 'tsn')
        if layer['name'] != 'inception_4a/pool_proj_bn'
    ]
    layers.append(
        dict(
            name='fc-extra',
            type='InnerProduct',
            bottom=['global_pool'],
            top=['extra'],
            blobs=[np.ones((3, 1024)), np.ones(3)]))
    path = write_net(tmp_path / 'odd.caffemodel', layers)
    cfg = Config.fromfile(config('rgb', 'tsn'))
    with pytest.raises(CaffeConversionError) as err:
        convert_from_config(path, cfg)
    assert 'fc-extra' in str(err.value)
    assert 'backbone.inception_4a.pool_proj.bn.running_var' in str(err.value)
    checkpoint, report = convert_from_config(path, cfg, strict=False)
    assert [u.split()[0] for u in report.unmapped] == ['fc-extra']
    assert report.missing == [
        f'backbone.inception_4a.pool_proj.bn.{n}'
        for n in ('weight', 'bias', 'running_mean', 'running_var')
    ]
    assert checkpoint['meta']['unmapped'] == report.unmapped


def test_blobs_that_do_not_fit_are_refused(tmp_path, caffemodels):
    # another epsilon than the model's BatchNorm
    layers = [
        dict(layer, eps=1e-3) if layer['name'] == 'conv2/3x3_bn' else layer
        for layer in net('rgb', 'tsn')
    ]
    path = write_net(tmp_path / 'eps.caffemodel', layers)
    with pytest.raises(CaffeConversionError, match=r'conv2/3x3_bn.*eps'):
        convert_from_config(path, Config.fromfile(config('rgb', 'tsn')))
    # a flow model converted for RGB: conv1 has 10 input channels
    with pytest.raises(CaffeConversionError, match='conv1/7x7_s2.*10'):
        convert_from_config(
            caffemodels('flow', 'tsn'), Config.fromfile(config('rgb', 'tsn')))
    # an init model for an OFF config, a reference model for a TSN config
    with pytest.raises(CaffeModelError, match='init model'):
        convert_from_config(
            caffemodels('rgb', 'tsn'), Config.fromfile(config('rgb', 'off')))
    with pytest.raises(CaffeModelError, match='reference model'):
        convert_from_config(
            caffemodels('rgbdiff', 'off'),
            Config.fromfile(config('rgbdiff', 'tsn')))
    # a spatial gradient that is not the model's fixed kernel
    layers = [
        dict(layer, blobs=[-layer['blobs'][0], layer['blobs'][1]])
        if layer['name'] == 'motion_spatial_grad_4b' else layer
        for layer in net('rgb', 'off', 96)
    ]
    path = write_net(tmp_path / 'grad.caffemodel', layers)
    with pytest.raises(
            CaffeConversionError, match='motion_spatial_grad_4b.*fixed'):
        convert_from_config(path, Config.fromfile(config('rgb', 'off')))


def test_other_networks_are_refused(tmp_path):
    rng = np.random.default_rng(0)
    vgg = [
        dict(
            name='conv1_1',
            type='Convolution',
            bottom=['data'],
            top=['conv1_1'],
            blobs=[rng.normal(size=(64, 3, 3, 3)),
                   np.zeros(64)],
            conv=dict(num_output=64, kernel=3, pad=1)),
        dict(name='relu1_1', type='ReLU', bottom=['conv1_1'], top=['conv1_1']),
        dict(
            name='fc8',
            type='InnerProduct',
            bottom=['conv1_1'],
            top=['fc8'],
            blobs=[rng.normal(size=(10, 64)),
                   np.zeros(10)])
    ]
    resnet = [
        dict(
            name='conv1',
            type='Convolution',
            bottom=['data'],
            top=['conv1'],
            blobs=[rng.normal(size=(64, 3, 7, 7))],
            conv=dict(num_output=64, kernel=7, stride=2, pad=3)),
        dict(
            name='bn_conv1',
            type='BatchNorm',
            bottom=['conv1'],
            top=['conv1'],
            blobs=[np.zeros(64), np.ones(64),
                   np.ones(1)]),
        dict(
            name='scale_conv1',
            type='Scale',
            bottom=['conv1'],
            top=['conv1'],
            blobs=[np.ones(64), np.zeros(64)]),
        dict(
            name='fc1000',
            type='InnerProduct',
            bottom=['conv1'],
            top=['fc1000'],
            blobs=[rng.normal(size=(1000, 64)),
                   np.zeros(1000)])
    ]
    cfg = Config.fromfile(config('rgb', 'off'))
    for name, layers in (('vgg16', vgg), ('resnet50', resnet)):
        path = write_net(tmp_path / f'{name}.caffemodel', layers)
        with pytest.raises(CaffeModelError) as err:
            convert_from_config(path, cfg)
        assert path in str(err.value) and 'conv1/7x7_s2' in str(err.value)
    not_caffe = tmp_path / 'model.pth'
    torch.save({'state_dict': {'w': torch.ones(3)}}, not_caffe)
    with pytest.raises(CaffeModelError, match='model.pth .*not'):
        convert_from_config(str(not_caffe), cfg)


def test_reader_takes_legacy_layers_and_blobs(tmp_path):
    # V1LayerParameter (NetParameter.layers = 2, type enum), 4-D legacy
    # blob dims and unpacked floats
    weight = np.arange(12, dtype=np.float32).reshape(2, 6)
    v1 = (
        field_bytes(4, b'fc') + field_int(5, 14) + field_bytes(2, b'pool') +
        field_bytes(3, b'fc') +
        field_bytes(6, blob_proto(weight, legacy=True)))
    conv = dict(
        name='conv',
        type='Convolution',
        bottom=['data'],
        top=['conv'],
        blobs=[np.ones((4, 2, 1, 1))],
        legacy=True,
        conv=dict(num_output=4, kernel=1))
    path = tmp_path / 'legacy.caffemodel'
    path.write_bytes(field_bytes(2, v1) + field_bytes(100, layer_proto(conv)))
    conv_layer, fc_layer = read_caffemodel(str(path))
    assert (conv_layer.name, conv_layer.type) == ('conv', 'Convolution')
    assert conv_layer.blobs[0].shape == (4, 2, 1, 1)
    assert conv_layer.params['convolution_param']['num_output'] == 4
    assert (fc_layer.name, fc_layer.type, fc_layer.bottoms,
            fc_layer.tops) == ('fc', 'InnerProduct', ['pool'], ['fc'])
    np.testing.assert_array_equal(fc_layer.blobs[0].reshape(2, 6), weight)


def test_cli_writes_a_checkpoint_init_recognizer_loads(tmp_path, capsys,
                                                       caffemodels):
    from mmaction.apis import init_recognizer
    tool = load_tool()
    dst = str(tmp_path / 'out' / 'off_rgb.pth')
    checkpoint = tool.main([
        caffemodels('rgb', 'off', 96), dst, '--modality', 'rgb', '--stage',
        'off'
    ])
    out = capsys.readouterr().out
    assert 'motion_conv3_trans_14b' in out and 'fc-action-motion_28' in out
    assert 'motion_spatial_grad_3a' in out and 'WARNING' not in out
    assert torch.load(dst)['meta']['config'] == osp.basename(
        config('rgb', 'off'))
    model = init_recognizer(config('rgb', 'off'), dst, device='cpu')
    assert type(model).__name__ == 'OFFRecognizer'
    for key, value in checkpoint['state_dict'].items():
        assert torch.equal(model.state_dict()[key], value), key
    # --config, and a refusal in one line (tools/ fail through run_tool)
    with pytest.raises(CaffeModelError, match='init model'):
        tool.main([
            caffemodels('flow', 'tsn'), dst, '--config',
            config('flow', 'off')
        ])


@pytest.mark.slow
def test_cli_writes_only_dst(tmp_path, caffemodels, capsys):
    """The caffemodel's folder is only read: after a conversion, and after
    failed ones (another network's config, --cfg-options that change the
    network, dst = src), byte for byte; dst is the only new file."""
    from data_safety import assert_one_line_error, assert_unchanged, checksums

    from off_plugin.utils import cli
    tool = load_tool()
    src = caffemodels('rgb', 'tsn')
    folder = osp.dirname(src)
    before = checksums(folder)
    dst = tmp_path / 'out' / 'tsn_rgb.pth'
    tool.main([src, str(dst), '--modality', 'rgb', '--stage', 'tsn'])
    assert_unchanged(before, folder)
    assert [p.name for p in tmp_path.rglob('*')] == ['out', 'tsn_rgb.pth']
    written = checksums(tmp_path)
    for argv, fragments in (
        ([
            src,
            str(dst), '--modality', 'rgb', '--stage', 'tsn', '--cfg-options',
            'model.cls_head.num_classes=5'
        ], ('does not convert to the model', 'fc_cls.weight')),
        ([src, src, '--modality', 'rgb', '--stage',
          'tsn'], (f'{src}: dst is the caffemodel (src)', )),
    ):
        with pytest.raises(SystemExit) as exit_:
            cli.run_tool(tool.main, argv)
        err = capsys.readouterr().err
        assert exit_.value.code == 1
        assert_one_line_error(
            subprocess.CompletedProcess(argv, 1, '', err), *fragments)
        assert_unchanged(before, folder)
        assert_unchanged(written, tmp_path)
