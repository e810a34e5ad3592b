# Copyright (c) off_plugin authors. All rights reserved.
"""R-FCN (Dai et al., 2016) on mmdet's RoI-head conventions.

The position-sensitive score maps are computed once on the whole map, then
every RoI pools its k x k bins from them and votes:

- :class:`RFCNBBoxHead` owns the two 1x1 convolutions that produce the maps
  (``k*k*(C+1)`` class scores, ``k*k*4`` class-agnostic box deltas) and the
  average voting of the pooled bins;
- :class:`PSRoIExtractor` pools them with torchvision's ``ps_roi_align`` or
  ``ps_roi_pool``;
- :class:`RFCNRoIHead` is mmdet's ``StandardRoIHead`` that runs its RoI
  pipeline on the score maps instead of the features, so that assigners,
  samplers (OHEM included), losses, box coder and post-processing are
  mmdet's own.
"""
from typing import List, Tuple

import torch
import torch.nn as nn
import torchvision.ops
from mmdet.models.roi_heads import StandardRoIHead
from mmdet.models.roi_heads.bbox_heads import BBoxHead
from mmdet.models.roi_heads.roi_extractors import SingleRoIExtractor
from mmdet.registry import MODELS
from mmdet.structures import SampleList
from mmdet.structures.bbox import bbox2roi
from mmengine.structures import InstanceData
from torch import Tensor


@MODELS.register_module()
class PSRoIExtractor(SingleRoIExtractor):
    """Position-sensitive RoI pooling of score maps.

    ``roi_layer['type']`` names an op of ``torchvision.ops``:
    ``'PSRoIAlign'`` (``output_size``, ``sampling_ratio``) or ``'PSRoIPool'``
    (``output_size``). Input maps have ``out_channels * k * k`` channels,
    laid out ``(c * k + i) * k + j`` for bin ``(i, j)`` of output channel
    ``c``; RoIs (R, 5) -> (R, out_channels, k, k).
    """

    def build_roi_layers(self, layer_cfg: dict,
                         featmap_strides: List[int]) -> nn.ModuleList:
        cfg = dict(layer_cfg)
        name = cfg.pop('type')
        if name not in ('PSRoIAlign', 'PSRoIPool'):
            raise ValueError(
                f'PSRoIExtractor: roi_layer type {name!r} is not a '
                'position-sensitive op; use PSRoIAlign or PSRoIPool '
                '(torchvision.ops).')
        size = cfg.pop('output_size')
        cfg['output_size'] = (size, size) if isinstance(size, int) else \
            tuple(size)
        return super().build_roi_layers(
            dict(type=getattr(torchvision.ops, name), **cfg), featmap_strides)


@MODELS.register_module()
class RFCNBBoxHead(BBoxHead):
    """R-FCN's position-sensitive classification and box regression.

    The predictors ``fc_cls`` and ``fc_reg`` are 1x1 convolutions over the
    whole map (they keep BBoxHead's names, initialisation and loss code):
    :meth:`score_maps` gives (N, k*k*(C+1) + k*k*4, H, W); after
    :class:`PSRoIExtractor` pooled it to (R, C+1+4, k, k), :meth:`forward`
    averages the k*k bins (voting) into class scores (R, C+1) and
    class-agnostic deltas (R, 4).

    Args:
        in_channels (int): Channels of the map (512 in the paper: the second
            half of the 1024-d feature map).
        roi_feat_size (int): k, bins per side. Defaults to 7.
        num_classes (int): Object classes, background excluded.
        reg_class_agnostic (bool): Must be True (R-FCN regresses one box per
            RoI). Defaults to True.
        **kwargs: The other arguments of ``BBoxHead`` (``bbox_coder``,
            ``loss_cls``, ``loss_bbox``, ...).
    """

    def __init__(self,
                 in_channels: int = 512,
                 roi_feat_size: int = 7,
                 num_classes: int = 30,
                 reg_class_agnostic: bool = True,
                 **kwargs) -> None:
        if not reg_class_agnostic:
            raise ValueError('RFCNBBoxHead regresses class-agnostic boxes '
                             '(k*k*4 maps); set reg_class_agnostic=True.')
        super().__init__(
            roi_feat_size=roi_feat_size,
            in_channels=in_channels,
            num_classes=num_classes,
            reg_class_agnostic=True,
            **kwargs)
        # BBoxHead's fc predictors become 1x1 convolutions over the map.
        bins = self.roi_feat_area
        self.fc_cls = nn.Conv2d(in_channels, bins * (num_classes + 1), 1)
        self.fc_reg = nn.Conv2d(in_channels,
                                bins * self.bbox_coder.encode_size, 1)

    @property
    def score_channels(self) -> int:
        """Channels of one pooled RoI: C+1 class scores, then the deltas."""
        return self.num_classes + 1 + self.bbox_coder.encode_size

    def score_maps(self, x: Tensor) -> Tensor:
        """(N, in_channels, H, W) -> (N, k*k*score_channels, H, W)."""
        return torch.cat((self.fc_cls(x), self.fc_reg(x)), dim=1)

    def forward(self, x: Tensor) -> Tuple[Tensor, Tensor]:
        """Average voting: (R, score_channels, k, k) -> (R, C+1), (R, 4)."""
        votes = x.mean(dim=(2, 3))
        return votes.split((self.num_classes + 1, self.bbox_coder.encode_size),
                           dim=1)


@MODELS.register_module()
class RFCNRoIHead(StandardRoIHead):
    """mmdet's ``StandardRoIHead`` on R-FCN's position-sensitive score maps.

    ``bbox_head`` is an :class:`RFCNBBoxHead`, ``bbox_roi_extractor`` a
    :class:`PSRoIExtractor` (its ``out_channels`` follow from the head).
    The maps are computed once per image; training
    (OHEM's extra forward included) and testing pool from them.
    """

    def init_bbox_head(self, bbox_roi_extractor: dict,
                       bbox_head: dict) -> None:
        """Build the head first: the extractor's ``out_channels`` follows
        from it (``num_classes + 1 + 4``) and may be left out."""
        self.bbox_head = MODELS.build(bbox_head)
        channels = self.bbox_head.score_channels
        given = bbox_roi_extractor.get('out_channels', channels)
        if given != channels:
            raise ValueError(
                'RFCNRoIHead: bbox_roi_extractor.out_channels must be the '
                f'head\'s num_classes + 1 + 4 = {channels}, got {given}; '
                'leave it out to have it set.')
        self.bbox_roi_extractor = MODELS.build(
            dict(bbox_roi_extractor, out_channels=channels))

    def score_maps(self, x: Tuple[Tensor]) -> Tuple[Tensor]:
        """Position-sensitive score maps of the (single) input map."""
        if len(x) != 1:
            raise ValueError(f'RFCNRoIHead expects one feature map, got '
                             f'{len(x)}.')
        return (self.bbox_head.score_maps(x[0]), )

    def loss(self, x: Tuple[Tensor], rpn_results_list: List[InstanceData],
             batch_data_samples: SampleList) -> dict:
        return super().loss(
            self.score_maps(x), rpn_results_list, batch_data_samples)

    def predict(self,
                x: Tuple[Tensor],
                rpn_results_list: List[InstanceData],
                batch_data_samples: SampleList,
                rescale: bool = False) -> List[InstanceData]:
        return super().predict(
            self.score_maps(x), rpn_results_list, batch_data_samples, rescale)

    def forward(self,
                x: Tuple[Tensor],
                rpn_results_list: List[InstanceData],
                batch_data_samples: SampleList = None) -> tuple:
        """Tensor mode: class scores and deltas of the proposals."""
        rois = bbox2roi([r.bboxes for r in rpn_results_list])
        results = self._bbox_forward(self.score_maps(x), rois)
        return results['cls_score'], results['bbox_pred']
