# Copyright (c) off_plugin authors. All rights reserved.
from typing import Optional, Sequence

import torch
import torch.nn as nn
from mmdet.registry import MODELS
from mmengine.model import BaseModule
from torch import Tensor

from ..core.off_sub_network import Bottleneck, OFFSubNetwork


@MODELS.register_module()
class OFFRefiner(BaseModule):
    """OFF between a key frame and its reference frame, refining the key
    frame's detection map (Sec. 6 and Fig. 5 of the paper).

    The OFF sub-network (the plugin's one :class:`OFFUnit` per scale, joined
    fine to coarse by residual bottlenecks with SE blocks) computes the
    motion representation of the pair; residual SE bottlenecks then blend it
    into the key frame's map. One scale (``levels`` of length 1: the 1024-d
    map) is the paper's SS setting; the 512-d res3 maps and the 1024-d map
    are its MS setting.

    Shapes: ``key`` and ``ref``, the per-frame maps fine to coarse, each
    (N, C_i, H_i, W_i), the detection map (N, C_top, H, W) last -> refined
    map (N, C_top, H, W). In each pair the key frame is the earlier segment
    of :class:`OFFUnit`: spatial gradients of the key frame, temporal
    difference ``ref - key``.

    Args:
        in_channels (Sequence[int]): Channels of the per-frame maps.
        levels (Sequence[dict]): Levels of :class:`OFFSubNetwork`, fine to
            coarse (``in_indices``, ``stem_channels``, ``out_channels``,
            ``num_blocks``, ``stem_stride``); the last one must end at the
            detection map's size.
        off_unit (dict): Arguments of the OFF units. Defaults to the paper's
            (128 channels, Sobel kernels).
        se_ratio (int): Squeeze ratio of the SE blocks. Defaults to 16.
        num_blocks (int): Residual SE bottlenecks that blend the motion
            into the key frame's map. Defaults to 1.
        init_cfg (dict, optional): Initialization config.
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 levels: Sequence[dict],
                 off_unit: dict = dict(),
                 se_ratio: int = 16,
                 num_blocks: int = 1,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.sub_network = OFFSubNetwork(
            in_channels, levels, off_unit=off_unit, se_ratio=se_ratio)
        top = in_channels[-1]
        joined = top + self.sub_network.out_channels[-1]
        self.blocks = nn.Sequential(*[
            Bottleneck(joined if i == 0 else top, top // 4, top, se_ratio)
            for i in range(num_blocks)
        ])

    def forward(self, key: Sequence[Tensor], ref: Sequence[Tensor]) -> Tensor:
        # (N*2, C, H, W) per map, key then reference of each video; only
        # the maps that OFF uses
        used = {i for indices in self.sub_network.in_indices for i in indices}
        pairs = [
            torch.stack(pair, dim=1).flatten(0, 1) if i in used else None
            for i, pair in enumerate(zip(key, ref))
        ]
        motion = self.sub_network(pairs, num_segs=2)[-1][:, 0]
        return self.blocks(torch.cat((key[-1], motion), dim=1))
