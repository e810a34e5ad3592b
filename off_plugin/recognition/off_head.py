# Copyright (c) off_plugin authors. All rights reserved.
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmaction.models.heads import BaseHead
from mmaction.registry import MODELS
from mmaction.utils import SampleList


@MODELS.register_module()
class OFFHead(BaseHead):
    """OFF sub-network with the classification sub-network on top of it.

    Every level of the OFF sub-network gets its own classifier (average
    pooling, dropout, fc) and loss (intermediate supervision, Eq. 9); the
    scores of the T-1 segment pairs are averaged (TSN consensus, Eq. 8).

    Shapes: ``feats``, the backbone's maps, each (N*T, C_i, H_i, W_i) ->
    one score per level, (N, num_classes).

    Args:
        num_classes (int): Number of classes.
        off_sub_network (dict): Config of the ``OFFSubNetwork``.
        dropout_ratio (float): Dropout before every classifier. Defaults to
            0.5.
        level_loss_weights (Sequence[float], optional): Weight of every
            level's loss. Defaults to 1 for all (the authors' code).
        init_std (float): Std of the classifiers' initial weights. Defaults
            to 0.001 (the authors' code).
        max_pool_levels (Sequence[int]): Levels whose map passes a 3x3
            stride-2 max pooling (rounding up, as Caffe) before the average
            pooling. Defaults to () (the paper); the authors' code pools so
            on the 28-level head: ``(0, )``.
        kwargs: ``BaseHead`` arguments (``loss_cls``, ``topk``,
            ``average_clips``, ...).
    """

    def __init__(self,
                 num_classes: int,
                 off_sub_network: dict,
                 dropout_ratio: float = 0.5,
                 level_loss_weights: Optional[Sequence[float]] = None,
                 init_std: float = 0.001,
                 max_pool_levels: Sequence[int] = (),
                 **kwargs) -> None:
        off_sub_network = MODELS.build(off_sub_network)
        super().__init__(num_classes, off_sub_network.out_channels[-1],
                         **kwargs)
        self.off_sub_network = off_sub_network
        num_levels = len(off_sub_network.out_channels)
        self.level_loss_weights = list(level_loss_weights or [1.] * num_levels)
        if len(self.level_loss_weights) != num_levels:
            raise ValueError(
                f'OFFHead: level_loss_weights has '
                f'{len(self.level_loss_weights)} entries for {num_levels} '
                'levels.')
        self.dropout = nn.Dropout(dropout_ratio)
        self.fcs = nn.ModuleList(
            nn.Linear(channels, num_classes)
            for channels in off_sub_network.out_channels)
        self.init_std = init_std
        self.max_pool_levels = tuple(max_pool_levels)
        if not set(self.max_pool_levels) <= set(range(num_levels)):
            raise ValueError(
                f'OFFHead: max_pool_levels={self.max_pool_levels} names '
                f'levels outside 0..{num_levels - 1}.')

    def init_weights(self) -> None:
        super().init_weights()
        for fc in self.fcs:
            nn.init.normal_(fc.weight, std=self.init_std)
            nn.init.zeros_(fc.bias)

    def forward(self, feats: Sequence[torch.Tensor], num_segs: int,
                **kwargs) -> List[torch.Tensor]:
        """Backbone maps -> per level (N, num_classes), the mean of
        :meth:`pair_scores` over the pairs."""
        return [
            score.mean(dim=1) for score in self.pair_scores(feats, num_segs)
        ]

    def pair_scores(self, feats: Sequence[torch.Tensor],
                    num_segs: int) -> List[torch.Tensor]:
        """Backbone maps -> per level the score of every segment pair,
        (N, T-1, num_classes)."""
        scores = []
        levels = self.off_sub_network(feats, num_segs)
        for i, (level, fc) in enumerate(zip(levels, self.fcs)):
            if i in self.max_pool_levels:  # (N, T-1, C, H, W), H and W halved
                level = F.max_pool2d(
                    level.flatten(0, 1), 3, 2,
                    ceil_mode=True).unflatten(0, level.shape[:2])
            pooled = level.mean(dim=(-2, -1))  # (N, T-1, C)
            scores.append(fc(self.dropout(pooled)))
        return scores

    def loss(self, feats: Sequence[torch.Tensor], data_samples: SampleList,
             num_segs: int, **kwargs) -> Dict:
        """One loss per level, ``loss_off{level}``, plus the top-k accuracy
        of the last level."""
        self.check_labels(data_samples)
        losses = dict()
        scores = self(feats, num_segs)
        for i, (score,
                weight) in enumerate(zip(scores, self.level_loss_weights)):
            level = self.loss_by_feat(score, data_samples)
            losses[f'loss_off{i}'] = weight * level.pop('loss_cls')
            if i == len(scores) - 1:
                losses.update({f'off_{k}': v for k, v in level.items()})
        return losses

    def check_labels(self, data_samples: SampleList) -> None:
        """Refuse a hard label outside ``0..num_classes - 1`` in one line
        (upstream the loss fails with ``IndexError: Target 9 is out of
        bounds`` on CPUs and a device-side assert on GPUs, naming neither).
        Soft labels (mixup, one-hot) pass."""
        for sample in data_samples:
            label = sample.get('gt_label')
            if label is None or torch.is_floating_point(label):
                continue
            bad = label[(label < 0) | (label >= self.num_classes)]
            if len(bad):
                raise ValueError(
                    f'{type(self).__name__}: a training sample has label '
                    f'{int(bad[0])}, outside 0..{self.num_classes - 1} '
                    f'(num_classes={self.num_classes}); fix the label in '
                    "the annotation file or set the model's num_classes "
                    '(a Checked*Dataset given num_classes names the line).')

    def predict(self, feats: Sequence[torch.Tensor], data_samples: SampleList,
                num_segs: int, **kwargs) -> SampleList:
        """Predictions from the last level's score."""
        return self.predict_by_feat(self(feats, num_segs)[-1], data_samples)
