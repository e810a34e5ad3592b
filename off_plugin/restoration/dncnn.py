# Copyright (c) off_plugin authors. All rights reserved.
from typing import Optional

import torch
import torch.nn as nn
from mmagic.registry import MODELS
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule, constant_init, initialize

from ..core import OFFUnit


def conv_stack(in_channels: int,
               mid_channels: int,
               num_layers: int,
               out_channels: Optional[int] = None) -> nn.Sequential:
    """``num_layers`` 3x3 convolutions with ReLU, no normalization; with
    ``out_channels`` the last one maps to it without activation."""
    layers = []
    for i in range(num_layers):
        last = i == num_layers - 1 and out_channels is not None
        layers.append(
            ConvModule(
                in_channels if i == 0 else mid_channels,
                out_channels if last else mid_channels,
                3,
                padding=1,
                act_cfg=None if last else dict(type='ReLU')))
    return nn.Sequential(*layers)


class ResidualGenerator(BaseModule):
    """Base of the generators: ``init_cfg`` is applied to every
    convolution, the OFF unit's included (mmengine's ``BaseModule`` would
    let each ``ConvModule`` of a submodule draw its own again, Kaiming), by
    default the paper's Xavier-uniform with zero biases (Sec. 7).
    ``dict(type='Kaiming', layer='Conv2d')`` keeps the signal through a
    deep stack of ReLU convolutions (Xavier halves its variance at every
    layer: after 9 layers the features are ~1/500 of the input and a small
    model barely learns in a CPU budget); ``Pretrained`` loads weights.

    ``zero_init_residual`` then zeroes the last convolution, so that the
    untrained network returns its (target) input frame exactly (not with
    ``Pretrained``, which is loaded as it is)."""

    def __init__(self,
                 zero_init_residual: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            init_cfg=init_cfg
            or dict(type='Xavier', layer='Conv2d', distribution='uniform'))
        self.zero_init_residual = zero_init_residual

    def init_weights(self) -> None:
        initialize(self, self.init_cfg)
        if self.zero_init_residual and self.init_cfg['type'] != 'Pretrained':
            last = [m for m in self.modules() if isinstance(m, nn.Conv2d)][-1]
            constant_init(last, 0)


@MODELS.register_module()
class DnCNN(ResidualGenerator):
    """DnCNN (Zhang et al., 2017) for compression artifacts: 3x3
    convolutions with ReLU, no BatchNorm, no resampling, residual learning
    (the network predicts the artifact; the input is added back).

    Shapes: (N, in_channels, H, W) -> (N, in_channels, H, W).

    Args:
        in_channels (int): Image channels. Defaults to 3.
        mid_channels (int): Feature channels. Defaults to 64.
        num_layers (int): Convolutions in all. Defaults to 20 (the paper).
        zero_init_residual (bool): Start from the identity (last
            convolution zero) instead of Xavier everywhere (the paper).
            Defaults to False.
        init_cfg (dict, optional): Of every convolution (see
            :class:`ResidualGenerator`). Defaults to Xavier-uniform.
    """
    num_frames = 1

    def __init__(self,
                 in_channels: int = 3,
                 mid_channels: int = 64,
                 num_layers: int = 20,
                 zero_init_residual: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(zero_init_residual, init_cfg=init_cfg)
        self.body = conv_stack(in_channels, mid_channels, num_layers,
                               in_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


@MODELS.register_module()
class DnCNNOFF(ResidualGenerator):
    """DnCNN with an OFF unit between adjacent frames (Sec. 7, DnCNN_OFF).

    Every frame goes through the same ``num_frame_layers`` convolutions; the
    OFF unit takes these features of all adjacent pairs; ``num_fusion_layers``
    convolutions refine the OFF of all pairs, and the target frame's
    features (the OFF unit's input) are added back; ``num_tail_layers``
    convolutions predict the artifact of the target frame, added to it.

    Shapes: (N, num_frames, in_channels, H, W) -> (N, in_channels, H, W),
    the frame ``num_frames // 2`` restored (the centre of 3 frames, the
    later of 2).

    Args:
        num_frames (int): Input frames, 2 or 3 in the paper. Defaults to 3.
        in_channels (int): Image channels. Defaults to 3.
        mid_channels (int): Feature channels. Defaults to 64.
        num_frame_layers (int): Convolutions per frame before the OFF
            unit. Defaults to 3.
        num_fusion_layers (int): Convolutions after the OFF unit. Defaults
            to 5.
        num_tail_layers (int): Convolutions after the merge, the last one to
            ``in_channels``. Defaults to 18.
        off_unit (dict): ``OFFUnit`` arguments. Defaults to 64 channels.
        zero_init_residual (bool): As for :class:`DnCNN`.
        init_cfg (dict, optional): As for :class:`DnCNN`.
    """

    def __init__(self,
                 num_frames: int = 3,
                 in_channels: int = 3,
                 mid_channels: int = 64,
                 num_frame_layers: int = 3,
                 num_fusion_layers: int = 5,
                 num_tail_layers: int = 18,
                 off_unit: dict = dict(reduce_channels=64),
                 zero_init_residual: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(zero_init_residual, init_cfg=init_cfg)
        if num_frames < 2:
            raise ValueError(
                f'DnCNNOFF: num_frames={num_frames}; OFF needs at least 2 '
                'frames (use DnCNN for one).')
        self.num_frames = num_frames
        self.in_channels = in_channels
        self.target = num_frames // 2
        self.frame_layers = conv_stack(in_channels, mid_channels,
                                       num_frame_layers)
        self.off_unit = OFFUnit(mid_channels, **off_unit)
        self.fusion = conv_stack((num_frames - 1) * self.off_unit.out_channels,
                                 mid_channels, num_fusion_layers)
        self.tail = conv_stack(mid_channels, mid_channels, num_tail_layers,
                               in_channels)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        if frames.ndim != 5 or frames.shape[1:3] != (self.num_frames,
                                                     self.in_channels):
            raise ValueError(
                f'DnCNNOFF expects (N, {self.num_frames}, '
                f'{self.in_channels}, H, W) frames, got '
                f'{tuple(frames.shape)}; set num_frames (or the dataset\'s '
                'num_input_frames) to the frames the pipeline gives.')
        return self.restore(frames[:, self.target],
                            self.frame_features(frames))

    def frame_features(self, frames: torch.Tensor) -> torch.Tensor:
        """The per-frame layers: (N, T, C, H, W) -> (N, T, mid, H, W).
        Frame by frame, so a video needs them once per frame."""
        n, t = frames.shape[:2]
        return self.frame_layers(frames.flatten(0, 1)).unflatten(0, (n, t))

    def restore(self, target: torch.Tensor,
                feats: torch.Tensor) -> torch.Tensor:
        """The target frame (N, C, H, W) restored from the features of the
        ``num_frames`` frames around it, (N, num_frames, mid, H, W)."""
        off = self.off_unit(feats).flatten(1, 2)  # pairs stacked on channels
        merged = self.fusion(off) + feats[:, self.target]
        return target + self.tail(merged)
