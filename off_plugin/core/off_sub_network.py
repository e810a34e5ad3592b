# Copyright (c) off_plugin authors. All rights reserved.
from typing import List, Optional, Sequence

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmengine.registry import MODELS

from .conv import ConvAct
from .off_unit import OFFUnit


def squeeze_excitation(channels: int, ratio: int) -> nn.Module:
    """Squeeze-and-excitation block (Hu et al.): channels weighted by a
    sigmoid of two 1x1 convolutions (squeeze to ``channels // ratio``) of
    their global average. (B, C, H, W) -> (B, C, H, W)."""
    from torchvision.ops import SqueezeExcitation  # only SE networks need it
    return SqueezeExcitation(channels, channels // ratio)


class Bottleneck(BaseModule):
    """Residual bottleneck 1x1 -> 3x3 -> 1x1 without normalization (the OFF
    sub-network has no BatchNorm), optionally with a squeeze-and-excitation
    block (Hu et al.) on the residual branch, as the detection network of
    Sec. 6 uses. (B, C_in, H, W) -> (B, C_out, H, W).

    ``expand_kernel`` (kernel of the last, expanding convolution, 1 in the
    paper) and ``out_relu`` (ReLU after the residual sum) exist to rebuild
    the authors' Caffe network, whose 14-level second block expands with a
    3x3 convolution and whose 7-level block has no ReLU after the sum.
    """

    def __init__(self,
                 in_channels: int,
                 mid_channels: int,
                 out_channels: int,
                 se_ratio: Optional[int] = None,
                 expand_kernel: int = 1,
                 out_relu: bool = True) -> None:
        super().__init__()
        self.conv1 = ConvAct(in_channels, mid_channels, 1)
        self.conv2 = ConvAct(mid_channels, mid_channels, 3, padding=1)
        self.conv3 = ConvAct(
            mid_channels,
            out_channels,
            expand_kernel,
            padding=expand_kernel // 2,
            act_cfg=None)
        self.se = squeeze_excitation(out_channels, se_ratio) if se_ratio \
            else nn.Identity()
        self.shortcut = nn.Identity() if in_channels == out_channels else \
            ConvAct(in_channels, out_channels, 1, act_cfg=None)
        self.relu = nn.ReLU(inplace=True) if out_relu else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(
            self.se(self.conv3(self.conv2(self.conv1(x)))) + self.shortcut(x))


class OFFLevel(BaseModule):
    """One scale of the OFF sub-network: OFF unit(s) on the basic features of
    that scale, concatenated with the previous level's output, then a stem
    convolution and residual bottlenecks.

    Shapes: maps, each (N, T, C_i, H, W); lower (N, T-1, C_lower, H, W) or
    None -> (N, T-1, out_channels, H / stem_stride, W / stem_stride).

    Args:
        in_channels (Sequence[int]): Channels of the maps of this scale.
        lower_channels (int): Channels of the previous level's output.
        stem_channels (int): Output channels of the stem convolution (also
            the bottlenecks' middle width).
        out_channels (int): Output channels of the bottlenecks.
        num_blocks (int): Number of bottlenecks.
        stem_kernel (int): Kernel size of the stem convolution.
        stem_stride (int): Stride of the stem convolution; brings the output
            to the next level's map size.
        unit_per_map (bool): One OFF unit per map (the authors' code) instead
            of one on the concatenated maps (the paper).
        off_unit (dict, optional): ``OFFUnit`` arguments; None builds the
            hypercolumn control of Table 4: 1x1-reduced features of the
            earlier segment of each pair, no gradients.
        se_ratio (int, optional): Squeeze ratio of an SE block in every
            bottleneck; None for none (action recognition).
        expand_kernels (Sequence[int], optional): Kernel size of every
            bottleneck's last (expanding) convolution; None for 1 each (the
            paper). The authors' 14-level: ``(1, 3)``.
        out_relu (bool): ReLU after the last bottleneck's residual sum.
            Defaults to True; the authors' 7-level has none (False).
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 lower_channels: int,
                 stem_channels: int,
                 out_channels: int,
                 num_blocks: int,
                 stem_kernel: int = 3,
                 stem_stride: int = 1,
                 unit_per_map: bool = False,
                 off_unit: Optional[dict] = None,
                 se_ratio: Optional[int] = None,
                 expand_kernels: Optional[Sequence[int]] = None,
                 out_relu: bool = True) -> None:
        super().__init__()
        expand_kernels = tuple(expand_kernels or (1, ) * num_blocks)
        if len(expand_kernels) != num_blocks:
            raise ValueError(
                f'OFFLevel: expand_kernels={expand_kernels} needs one kernel '
                f'size per bottleneck (num_blocks={num_blocks}).')
        groups = [[c] for c in in_channels] if unit_per_map else \
            [list(in_channels)]
        self.unit_per_map = unit_per_map
        self.units = nn.ModuleList()
        for i, group in enumerate(groups):
            lower = lower_channels if i == len(groups) - 1 else 0
            if off_unit is None:
                self.units.append(HypercolumnUnit(sum(group), lower))
            else:
                self.units.append(
                    OFFUnit(sum(group), lower_channels=lower, **off_unit))
        self.stem = ConvAct(
            sum(unit.out_channels for unit in self.units),
            stem_channels,
            stem_kernel,
            stride=stem_stride,
            padding=stem_kernel // 2)
        self.blocks = nn.Sequential(*[
            Bottleneck(
                stem_channels if i == 0 else out_channels,
                stem_channels,
                out_channels,
                se_ratio,
                expand_kernel=kernel,
                out_relu=out_relu or i < num_blocks - 1)
            for i, kernel in enumerate(expand_kernels)
        ])
        self.out_channels = out_channels

    def forward(self, maps: Sequence[torch.Tensor],
                lower: Optional[torch.Tensor]) -> torch.Tensor:
        if self.unit_per_map:
            inputs = [[m] for m in maps]
        else:
            inputs = [[torch.cat(tuple(maps), dim=2)]]
        outs = [
            unit(group[0], lower if i == len(self.units) - 1 else None)
            for i, (unit, group) in enumerate(zip(self.units, inputs))
        ]
        x = torch.cat(outs, dim=2)
        n, pairs = x.shape[:2]
        x = self.blocks(self.stem(x.flatten(0, 1)))
        return x.unflatten(0, (n, pairs))


class HypercolumnUnit(BaseModule):
    """Control without OFF (Table 4): the 1x1-reduced features of the earlier
    segment of every pair, with the lower level's features concatenated.
    (N, T, C, H, W) -> (N, T-1, reduce_channels + lower_channels, H, W)."""

    def __init__(self,
                 in_channels: int,
                 lower_channels: int = 0,
                 reduce_channels: int = 128) -> None:
        super().__init__()
        self.reduce = ConvAct(in_channels, reduce_channels, 1)
        self.out_channels = reduce_channels + lower_channels

    def forward(self,
                feats: torch.Tensor,
                lower: Optional[torch.Tensor] = None) -> torch.Tensor:
        n, t = feats.shape[:2]
        x = self.reduce(feats[:, :-1].flatten(0, 1)).unflatten(0, (n, t - 1))
        return x if lower is None else torch.cat([x, lower], dim=2)


@MODELS.register_module()
class OFFSubNetwork(BaseModule):
    """OFF sub-network (Fig. 3): OFF units at several scales of the feature
    generation sub-network, joined from fine to coarse by residual stages;
    each level also feeds its own classifier (intermediate supervision).

    Shapes: ``feats``, the backbone's maps, each (N*T, C_i, H_i, W_i) with
    the T segments of a video consecutive -> one tensor per level,
    (N, T-1, C_l, H_l, W_l). The maps of a level must share their size; a
    level's output must have the next level's map size.

    Args:
        in_channels (Sequence[int]): Channels of every backbone map.
        levels (Sequence[dict]): Per level, fine to coarse: ``in_indices``
            (which backbone maps feed it) and the arguments of
            :class:`OFFLevel` (``stem_channels``, ``out_channels``,
            ``num_blocks``, ``stem_kernel``, ``stem_stride``; for the
            authors' Caffe network also ``expand_kernels``, ``out_relu``).
        off_unit (dict, optional): Arguments shared by all OFF units (
            ``reduce_channels``, ``kernel``, ``spatial``, ``temporal``,
            ``spatial_channels``, ``spatial_dropout``). None: the hypercolumn
            control without OFF. Defaults to ``dict()`` (the paper's unit).
        unit_per_map (bool): One OFF unit per backbone map (the authors'
            code) instead of one per level (the paper). Defaults to False.
        se_ratio (int, optional): Squeeze ratio of the SE blocks in the
            residual bottlenecks (video object detection, Sec. 6); None for
            none (action recognition). Defaults to None.
        init_cfg (dict, optional): Initialization config.
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 levels: Sequence[dict],
                 off_unit: Optional[dict] = dict(),
                 unit_per_map: bool = False,
                 se_ratio: Optional[int] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_indices = [tuple(level['in_indices']) for level in levels]
        self.levels = nn.ModuleList()
        lower = 0
        for indices, level in zip(self.in_indices, levels):
            args = {k: v for k, v in level.items() if k != 'in_indices'}
            self.levels.append(
                OFFLevel([in_channels[i] for i in indices],
                         lower,
                         unit_per_map=unit_per_map,
                         off_unit=off_unit,
                         se_ratio=se_ratio,
                         **args))
            lower = self.levels[-1].out_channels
        self.out_channels = [level.out_channels for level in self.levels]

    def forward(self, feats: Sequence[torch.Tensor],
                num_segs: int) -> List[torch.Tensor]:
        outs, lower = [], None
        for indices, level in zip(self.in_indices, self.levels):
            maps = [feats[i].unflatten(0, (-1, num_segs)) for i in indices]
            # compared one by one: a set would not merge the traced sizes
            # of MMEngine's FLOP analysis
            sizes = [m.shape[-2:] for m in maps]
            if lower is not None:
                sizes.append(lower.shape[-2:])
            if any(size != sizes[0] for size in sizes[1:]):
                raise ValueError(
                    f'OFFSubNetwork: the maps {indices} and the previous '
                    f'level output of one level must have one size, got '
                    f'{[tuple(size) for size in sizes]}; adjust in_indices '
                    'or the previous level\'s stem_stride.')
            lower = level(maps, lower)
            outs.append(lower)
        return outs
