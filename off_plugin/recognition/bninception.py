# Copyright (c) off_plugin authors. All rights reserved.
import warnings
from collections import OrderedDict
from functools import partial
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmcv.cnn import ConvModule
from mmengine.logging import MMLogger
from mmengine.model import BaseModule
from torch.nn.modules.batchnorm import _BatchNorm

from ..engine.checkpoint import checkpoint_weights, read_checkpoint

# Inception blocks of BN-Inception (Ioffe & Szegedy, 2015) as TSN uses it:
# (1x1, (3x3 reduce, 3x3), (double 3x3 reduce, double 3x3), pool, pool
# projection, stride). A block of stride 2 has no 1x1 branch and no pool
# projection; its pool branch is a strided max pooling.
INCEPTION_BLOCKS = OrderedDict([
    ('3a', (64, (64, 64), (64, 96), 'avg', 32, 1)),
    ('3b', (64, (64, 96), (64, 96), 'avg', 64, 1)),
    ('3c', (0, (128, 160), (64, 96), 'max', 0, 2)),
    ('4a', (224, (64, 96), (96, 128), 'avg', 128, 1)),
    ('4b', (192, (96, 128), (96, 128), 'avg', 128, 1)),
    ('4c', (160, (128, 160), (128, 160), 'avg', 128, 1)),
    ('4d', (96, (128, 192), (160, 192), 'avg', 128, 1)),
    ('4e', (0, (128, 192), (192, 256), 'max', 0, 2)),
    ('5a', (352, (192, 320), (160, 224), 'avg', 128, 1)),
    ('5b', (352, (192, 320), (192, 224), 'max', 128, 1)),
])


class InceptionBlock(nn.Module):
    """One inception block: four branches concatenated on channels.
    (B, C_in, H, W) -> (B, out_channels, H / stride, W / stride)."""

    def __init__(self, in_channels: int, branch_1x1: int,
                 branch_3x3: Tuple[int, int],
                 branch_double_3x3: Tuple[int, int], pool: str, pool_proj: int,
                 stride: int, norm_cfg: dict) -> None:
        super().__init__()

        def conv(name, c_in, c_out, kernel, stride=1):
            self.add_module(
                name,
                ConvModule(
                    c_in,
                    c_out,
                    kernel,
                    stride=stride,
                    padding=kernel // 2,
                    bias=True,
                    norm_cfg=norm_cfg))

        self.branches = []
        if branch_1x1:
            conv('1x1', in_channels, branch_1x1, 1)
            self.branches.append(('1x1', ))
        conv('3x3_reduce', in_channels, branch_3x3[0], 1)
        conv('3x3', branch_3x3[0], branch_3x3[1], 3, stride)
        self.branches.append(('3x3_reduce', '3x3'))
        conv('double_3x3_reduce', in_channels, branch_double_3x3[0], 1)
        conv('double_3x3_1', branch_double_3x3[0], branch_double_3x3[1], 3)
        conv('double_3x3_2', branch_double_3x3[1], branch_double_3x3[1], 3,
             stride)
        self.branches.append(
            ('double_3x3_reduce', 'double_3x3_1', 'double_3x3_2'))
        pool_layer = nn.AvgPool2d if pool == 'avg' else nn.MaxPool2d
        self.pool = pool_layer(
            3, stride, padding=1 if stride == 1 else 0, ceil_mode=True)
        if pool_proj:
            conv('pool_proj', in_channels, pool_proj, 1)
            self.branches.append(('pool', 'pool_proj'))
        else:
            self.branches.append(('pool', ))
        self.out_channels = (
            branch_1x1 + branch_3x3[1] + branch_double_3x3[1] +
            (pool_proj or in_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = []
        for branch in self.branches:
            out = x
            for name in branch:
                out = getattr(self, name)(out)
            outs.append(out)
        return torch.cat(outs, dim=1)


@MODELS.register_module()
class BNInception(BaseModule):
    """BN-Inception, TSN's backbone and the paper's feature generation
    sub-network.

    (B, in_channels, 224, 224) -> the outputs of ``out_blocks``, a tuple
    (a tensor for one block, as MMAction2's ResNet): 3a 256@28, 3b 320@28,
    3c 576@14, 4a 576@14, 4b 576@14, 4c 608@14, 4d 608@14, 4e 1056@7,
    5a 1024@7, 5b 1024@7 (channels @ size).
    The last of ``out_blocks`` is the one a TSN head reads.

    Pooling rounds up (Caffe's ``ceil_mode``), so 224 gives 112, 56, 28, 14
    and 7 pixels as in the original network.

    Args:
        in_channels (int): 3 for RGB, ``2 * frames`` for stacked optical
            flow, ``3 * differences`` for RGB difference. Defaults to 3.
        out_blocks (Sequence[str]): Blocks to return, in network order.
            Defaults to ``('5b', )`` (a plain TSN).
        pretrained (str, optional): An ImageNet BN-Inception checkpoint, with
            this module's keys or the keys of the widely used port of the
            Caffe model (``conv1_7x7_s2``, ``inception_3a_1x1_bn``, ...,
            ``last_linear``). For ``in_channels != 3`` the first convolution
            is initialised by TSN's cross-modality rule: the mean over the
            RGB channels, repeated. Defaults to None.
        norm_eval (bool): Keep BatchNorm layers in eval mode (frozen
            statistics) while training. Defaults to False.
        partial_bn (bool): TSN's partial BN: BatchNorm layers after the first
            one stay in eval mode while training. Defaults to False.
        frozen_stages (int): Freeze the stem (1) and inception blocks
            (2, ...) in network order; -1 freezes nothing. Defaults to -1.
        norm_cfg (dict): Normalisation layers. Defaults to BN.
        init_cfg (dict, optional): Initialization config.
    """

    def __init__(self,
                 in_channels: int = 3,
                 out_blocks: Sequence[str] = ('5b', ),
                 pretrained: Optional[str] = None,
                 norm_eval: bool = False,
                 partial_bn: bool = False,
                 frozen_stages: int = -1,
                 norm_cfg: dict = dict(type='BN'),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        unknown = [b for b in out_blocks if b not in INCEPTION_BLOCKS]
        order = [
            list(INCEPTION_BLOCKS).index(b) for b in out_blocks
            if b in INCEPTION_BLOCKS
        ]
        if unknown or not out_blocks or order != sorted(set(order)):
            raise ValueError(
                f'BNInception: out_blocks={tuple(out_blocks)} must be '
                f'distinct blocks of {tuple(INCEPTION_BLOCKS)} in network '
                'order.')
        self.in_channels = in_channels
        self.out_blocks = tuple(out_blocks)
        self.pretrained = pretrained
        self.norm_eval = norm_eval
        self.partial_bn = partial_bn
        self.frozen_stages = frozen_stages

        conv = partial(ConvModule, bias=True, norm_cfg=norm_cfg)
        with warnings.catch_warnings():
            # The original network has conv biases before its BN layers;
            # they are kept so that its ImageNet weights load.
            warnings.filterwarnings('ignore', 'Unnecessary conv bias')
            self.conv1_7x7_s2 = conv(in_channels, 64, 7, stride=2, padding=3)
            self.conv2_3x3_reduce = conv(64, 64, 1)
            self.conv2_3x3 = conv(64, 192, 3, padding=1)
            channels = 192
            last = list(INCEPTION_BLOCKS).index(self.out_blocks[-1])
            self.block_names = list(INCEPTION_BLOCKS)[:last + 1]
            for name in self.block_names:
                block = InceptionBlock(
                    channels, *INCEPTION_BLOCKS[name], norm_cfg=norm_cfg)
                self.add_module(f'inception_{name}', block)
                channels = block.out_channels
        self.pool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.pool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.out_channels = [
            getattr(self, f'inception_{b}').out_channels
            for b in self.out_blocks
        ]
        if partial_bn:  # TSN: only the first BatchNorm layer adapts
            for norm in self._norms()[1:]:
                norm.requires_grad_(False)
        self._freeze_stages()

    def _norms(self) -> list:
        return [m for m in self.modules() if isinstance(m, _BatchNorm)]

    def forward(
            self,
            x: torch.Tensor) -> Union[torch.Tensor, Tuple[torch.Tensor, ...]]:
        if x.shape[1] != self.in_channels:
            raise ValueError(
                f'BNInception expects {self.in_channels} input channels, got '
                f'{x.shape[1]} (input {tuple(x.shape)}); set '
                'backbone.in_channels to match the pipeline (3 for RGB, '
                '2 * clip_len for flow, 3 * (clip_len - 1) for RGB '
                'difference).')
        x = self.pool1(self.conv1_7x7_s2(x))
        x = self.pool2(self.conv2_3x3(self.conv2_3x3_reduce(x)))
        outs = []
        for name in self.block_names:
            x = getattr(self, f'inception_{name}')(x)
            if name in self.out_blocks:
                outs.append(x)
        return outs[0] if len(outs) == 1 else tuple(outs)

    def init_weights(self) -> None:
        super().init_weights()
        if self.pretrained:
            self.load_pretrained(self.pretrained)

    def load_pretrained(self, filename: str) -> None:
        """Load ImageNet weights (this module's keys or the Caffe port's);
        every weight of this backbone must be found."""
        state = {
            k.removeprefix('backbone.'): v
            for k, v in checkpoint_weights(read_checkpoint(filename)).items()
        }
        if 'conv1_7x7_s2.weight' in state:  # the Caffe port's names
            state = self.from_caffe_names(state)
        own = {
            k: v
            for k, v in self.state_dict().items()
            if not k.endswith('num_batches_tracked')
        }
        missing = sorted(set(own) - set(state))
        if missing:
            raise ValueError(
                f'{filename} is not a BN-Inception checkpoint: '
                f'{len(missing)} of {len(own)} weights are missing (e.g. '
                f'{missing[:3]}). Set backbone.pretrained to an ImageNet '
                'BN-Inception checkpoint.')
        key = 'conv1_7x7_s2.conv.weight'
        weight = state[key]
        if weight.shape[1] != self.in_channels:
            # TSN's cross-modality initialisation.
            state[key] = weight.mean(
                1, keepdim=True).expand(-1, self.in_channels, -1,
                                        -1).contiguous()
        # The port stores some BatchNorm vectors as (1, C).
        self.load_state_dict(
            {
                k:
                state[k].reshape(v.shape)
                if state[k].numel() == v.numel() else state[k]
                for k, v in own.items()
            },
            strict=False)
        MMLogger.get_current_instance().info(
            f'BNInception: loaded {len(own)} weights from {filename}')

    def from_caffe_names(
            self, state: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """Rename the Caffe port's keys (``inception_3a_3x3_reduce_bn.bias``)
        to this module's (``inception_3a.3x3_reduce.bn.bias``)."""
        renamed = {}
        for key in self.state_dict():
            prefix, layer, param = key.rsplit('.', 2)
            name = prefix.replace('.', '_')
            renamed[key] = state.get(f'{name}.{param}' if layer ==
                                     'conv' else f'{name}_bn.{param}')
        return {k: v for k, v in renamed.items() if v is not None}

    def _freeze_stages(self) -> None:
        stages = [(self.conv1_7x7_s2, self.conv2_3x3_reduce, self.conv2_3x3)]
        stages += [(getattr(self, f'inception_{name}'), )
                   for name in self.block_names]
        for modules in stages[:max(self.frozen_stages, 0)]:
            for module in modules:
                module.eval()
                module.requires_grad_(False)

    def train(self, mode: bool = True) -> 'BNInception':
        super().train(mode)
        self._freeze_stages()
        if mode and (self.norm_eval or self.partial_bn):
            first = 0 if self.norm_eval else 1
            for norm in self._norms()[first:]:
                norm.eval()
        return self
