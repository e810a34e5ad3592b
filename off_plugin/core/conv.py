# Copyright (c) off_plugin authors. All rights reserved.
from typing import Optional

import torch
import torch.nn as nn
from mmengine.model import kaiming_init


class ConvAct(nn.Module):
    """A convolution with a bias, then an optional activation: the layer of
    the OFF unit and sub-network, which have no normalization.

    It is mmcv's ``ConvModule`` without a norm layer, with the same
    parameter names (``conv.weight``, ``conv.bias``: checkpoints of either
    load into the other) and initialisation (Kaiming normal, fan-out, the
    activation's gain; zero bias), so the core needs no mmcv.
    ``act_cfg`` names a ``torch.nn`` activation, e.g. ``dict(type='ReLU')``
    (``inplace`` where it takes one, as mmcv builds it) or
    ``dict(type='LeakyReLU', negative_slope=0.1)``; ``None`` for none.
    (B, C_in, H, W) -> (B, C_out, H', W').
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: int,
                 stride: int = 1,
                 padding: int = 0,
                 act_cfg: Optional[dict] = dict(type='ReLU'),
                 inplace: bool = True) -> None:
        super().__init__()
        self.act_cfg = act_cfg
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride,
                              padding)
        self.activate = None
        if act_cfg is not None:
            act = dict(act_cfg)
            layer = getattr(nn, act.pop('type'))
            if 'inplace' in layer.__init__.__code__.co_varnames:
                act.setdefault('inplace', inplace)
            self.activate = layer(**act)
        self.init_weights()

    def init_weights(self) -> None:
        leaky = self.act_cfg is not None and \
            self.act_cfg['type'] == 'LeakyReLU'
        kaiming_init(
            self.conv,
            a=self.act_cfg.get('negative_slope', 0.01) if leaky else 0,
            nonlinearity='leaky_relu' if leaky else 'relu')

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        return x if self.activate is None else self.activate(x)
