# Copyright (c) off_plugin authors. All rights reserved.
from typing import Dict, Optional, Sequence, Tuple

import torch
from mmaction.models.heads import TSNHead
from mmaction.models.recognizers import Recognizer2D
from mmaction.registry import MODELS
from mmaction.utils import SampleList

from ..engine.checkpoint import (check_checkpoint_weights, checkpoint_weights,
                                 read_checkpoint)


@MODELS.register_module()
class OFFRecognizer(Recognizer2D):
    """TSN with the OFF sub-network: the paper's action recognizer (Fig. 2).

    - Feature generation sub-network: ``backbone`` (returning the maps the
      OFF units need, its last one feeding ``cls_head``) and ``cls_head``, a
      plain TSN trained first (stage 1, MMAction2's own ``Recognizer2D``).
    - Stage 2: ``feature_checkpoint`` (the stage-1 checkpoint) is loaded into
      ``backbone`` and ``cls_head``, which stay frozen
      (``freeze_feature_generation``); ``off_head`` (:class:`OFFHead`)
      trains from scratch with one loss per level.
    - Testing: ``rgb_weight * cls_head score + off_weight * off_head's last
      level score`` (or, with one ``off_weight`` per level, the weighted sum
      of all levels' scores). Crops (``test_cfg.crop_agg``): ``'mean'``
      (MMAction2's), every crop's fused score, the head's ``average_clips``
      over the crops; ``'max'`` (the authors' test, ``crop_agg=np.max``),
      per stream (TSN, each OFF level) the maximum over the crops of every
      segment's (pair's) raw score, then the mean over segments (pairs),
      then the fusion (needs a ``TSNHead``, whose score is linear in the
      segments' features).
    - Loading a checkpoint (``mim test``, ``init_recognizer``,
      ``load_from``): it must hold exactly this model's weights, or it is
      refused in one line (mmengine only warns); a stage-1 checkpoint goes
      to ``feature_checkpoint``.

    Inputs are (N, V, C, H, W) with ``V = crops * num_segments`` views,
    crop-major (as MMAction2's ``ThreeCrop``/``TenCrop`` lay them out): the
    OFF pairs segments within one crop of one video only.
    ``num_segments`` must be the sampler's: the data samples' ``num_clips``
    (where ``PackActionInputs`` keeps it: ``meta_keys=(..., 'num_clips')``,
    as the project's configs do) differing from it,
    or ``V`` not a multiple of it, raises a ``ValueError`` naming the
    config field.

    Args:
        backbone (dict): Backbone returning a tuple of maps.
        cls_head (dict): The stage-1 head, on the last map.
        off_head (dict): ``OFFHead`` config.
        feature_checkpoint (str, optional): Stage-1 checkpoint loaded by
            ``init_weights`` (training); keys of ``backbone`` and
            ``cls_head`` must all match. Defaults to None.
        freeze_feature_generation (bool): Keep ``backbone`` and ``cls_head``
            fixed (and in eval mode). Defaults to True.
        train_cfg (dict): ``num_segments``: segments per clip in training.
        test_cfg (dict): ``num_segments`` in testing, ``rgb_weight`` and
            ``off_weight`` (default 1 and 1): a number weights the last OFF
            level, a sequence weights every level (the authors fused
            TSN : OFF-14 : OFF-7 as 1 : 1 : 2); ``crop_agg``, ``'mean'``
            (default) or ``'max'``.
        kwargs: ``Recognizer2D`` arguments (``neck``, ``data_preprocessor``,
            ``init_cfg``).
    """

    def __init__(self,
                 backbone: dict,
                 cls_head: dict,
                 off_head: dict,
                 train_cfg: dict,
                 test_cfg: dict,
                 feature_checkpoint: Optional[str] = None,
                 freeze_feature_generation: bool = True,
                 **kwargs) -> None:
        super().__init__(
            backbone,
            cls_head=cls_head,
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            **kwargs)
        self.off_head = MODELS.build(off_head)
        crop_agg = self.test_cfg.get('crop_agg', 'mean')
        if crop_agg not in ('mean', 'max'):
            raise ValueError(
                f'OFFRecognizer: model.test_cfg.crop_agg={crop_agg!r}; use '
                "'mean' (MMAction2's average over crops) or 'max' (the "
                "authors' maximum over crops).")
        if crop_agg == 'max' and not isinstance(self.cls_head, TSNHead):
            raise ValueError(
                'OFFRecognizer: model.test_cfg.crop_agg=\'max\' takes the '
                'score of every segment from a TSNHead, not a '
                f'{type(self.cls_head).__name__}; use crop_agg=\'mean\'.')
        self.feature_checkpoint = feature_checkpoint
        self.freeze_feature_generation = freeze_feature_generation
        if freeze_feature_generation:
            for module in self.feature_generation:
                module.requires_grad_(False)

    @property
    def feature_generation(self) -> Tuple[torch.nn.Module, ...]:
        """The stage-1 modules: backbone (and neck) and ``cls_head``."""
        return tuple(
            getattr(self, name) for name in ('backbone', 'neck', 'cls_head')
            if getattr(self, name, None) is not None)

    def train(self, mode: bool = True) -> 'OFFRecognizer':
        super().train(mode)
        if self.freeze_feature_generation:
            for module in self.feature_generation:
                module.eval()
        return self

    def init_weights(self) -> None:
        super().init_weights()
        if self.feature_checkpoint:
            self.load_feature_generation(self.feature_checkpoint)

    def load_feature_generation(self, filename: str) -> None:
        """Load a stage-1 (TSN) checkpoint into ``backbone`` and
        ``cls_head``; every key must match in name and shape."""
        parts = ('backbone.', 'neck.', 'cls_head.')
        state = {
            k: v
            for k, v in checkpoint_weights(read_checkpoint(filename)).items()
            if k.startswith(parts)
        }
        own = {
            k: v
            for k, v in self.state_dict().items() if k.startswith(parts)
        }
        check_checkpoint_weights(
            own,
            state,
            filename,
            what='this model\'s feature generation sub-network (stage 1)',
            fix='Set feature_checkpoint to the TSN checkpoint trained with '
            'the same backbone and num_classes.')
        for part in parts:  # module by module: no whole-model check
            if getattr(self, part[:-1], None) is not None:
                getattr(self, part[:-1]).load_state_dict({
                    k[len(part):]: v
                    for k, v in state.items() if k.startswith(part)
                })

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args,
                              **kwargs) -> None:
        """Refuse a checkpoint of another model instead of loading part of
        it (mmengine only warns about missing and mismatched weights)."""
        if prefix == '':
            check_checkpoint_weights(
                self.state_dict(),
                state_dict,
                None,
                what='this OFFRecognizer',
                fix='Pass a checkpoint of a stage-2 run of this config; a '
                'stage-1 (TSN) checkpoint goes to model.feature_checkpoint.')
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def extract_feat(self,
                     inputs: torch.Tensor,
                     stage: str = 'backbone',
                     data_samples: SampleList = None,
                     test_mode: bool = False) -> Tuple[tuple, Dict]:
        """(N, V, C, H, W) -> the backbone's maps, each (N*V, C_i, H_i, W_i),
        and ``dict(num_segs=T)``."""
        num_segs = self.check_num_segments(inputs, data_samples, test_mode)
        with torch.set_grad_enabled(torch.is_grad_enabled()
                                    and not self.freeze_feature_generation):
            maps = self.backbone(inputs.flatten(0, 1))
            maps = tuple(maps) if isinstance(maps, Sequence) else (maps, )
            if self.with_neck:
                maps = self.neck(maps)
        return maps, dict(num_segs=num_segs)

    def check_num_segments(self, inputs: torch.Tensor,
                           data_samples: Optional[SampleList],
                           test_mode: bool) -> int:
        """``num_segments`` of ``train_cfg`` or ``test_cfg``; raises if the
        sampler's ``num_clips`` (in the data samples' metainfo) differs or
        the views are not a multiple of it."""
        mode = 'test' if test_mode else 'train'
        num_segs = getattr(self, f'{mode}_cfg')['num_segments']
        views = inputs.shape[1]
        sampled = (
            data_samples[0].metainfo.get('num_clips')
            if data_samples else None)
        if sampled not in (None, num_segs) or views % num_segs:
            given = (f'{views} views per video, not a multiple of' if sampled
                     is None else f'{sampled} segments per video, not')
            raise ValueError(
                f'OFFRecognizer: the {mode} pipeline gives {given} '
                f'model.{mode}_cfg.num_segments={num_segs}; set one to the '
                'other: the segments of the sampler (IntervalConsistent'
                'SampleFrames: num_clips in training, num_segments in '
                'testing; SampleFrames: num_clips).')
        return num_segs

    def loss(self, inputs: torch.Tensor, data_samples: SampleList,
             **kwargs) -> Dict:
        maps, kwargs = self.extract_feat(inputs, data_samples=data_samples)
        losses = self.off_head.loss(maps, data_samples, **kwargs)
        if not self.freeze_feature_generation:
            losses.update(self.cls_head.loss(maps[-1], data_samples, **kwargs))
        return losses

    def predict(self, inputs: torch.Tensor, data_samples: SampleList,
                **kwargs) -> SampleList:
        return self.off_head.predict_by_feat(
            self.fused_scores(inputs, data_samples), data_samples)

    def fused_scores(
            self,
            inputs: torch.Tensor,
            data_samples: Optional[SampleList] = None) -> torch.Tensor:
        """The test protocol's scores before the head's ``average_clips``:
        (N * crops, num_classes), or (N, num_classes) with
        ``crop_agg='max'``."""
        maps, kwargs = self.extract_feat(
            inputs, data_samples=data_samples, test_mode=True)
        if self.test_cfg.get('crop_agg', 'mean') == 'max':
            tsn, levels = self.max_over_crops(maps, inputs.shape[1],
                                              kwargs['num_segs'])
        else:
            tsn = self.cls_head(maps[-1], **kwargs)
            levels = self.off_head(maps, **kwargs)
        return self.fuse(tsn, levels)

    def max_over_crops(self, maps: tuple, views: int,
                       num_segs: int) -> Tuple[torch.Tensor, list]:
        """The authors' crop aggregation: the TSN score (N, num_classes) and
        each OFF level's, the mean over segments (pairs) of the maximum over
        the ``views // num_segs`` crops."""
        crops = views // num_segs
        tsn = self.cls_head(maps[-1], num_segs=1)  # (N * V, K), crop-major
        tsn = tsn.unflatten(0, (-1, crops, num_segs))
        levels = [
            score.unflatten(0, (-1, crops))  # (N, crops, T-1, K)
            for score in self.off_head.pair_scores(maps, num_segs)
        ]
        return (tsn.amax(dim=1).mean(dim=1),
                [score.amax(dim=1).mean(dim=1) for score in levels])

    def fuse(self, tsn: torch.Tensor, levels: list) -> torch.Tensor:
        """``rgb_weight * tsn`` plus the ``off_weight``-weighted OFF
        levels, each (N', num_classes)."""
        off_weight = self.test_cfg.get('off_weight', 1.)
        if isinstance(off_weight, Sequence):
            if len(off_weight) != len(levels):
                raise ValueError(
                    f'OFFRecognizer: test_cfg.off_weight has '
                    f'{len(off_weight)} entries for {len(levels)} OFF '
                    'levels; give one per level or a single number (the '
                    'last level).')
            off_score = sum(w * score for w, score in zip(off_weight, levels))
        else:
            off_score = off_weight * levels[-1]
        return self.test_cfg.get('rgb_weight', 1.) * tsn + off_score

    def _forward(self,
                 inputs: torch.Tensor,
                 stage: str = 'backbone',
                 **kwargs) -> tuple:
        maps, kwargs = self.extract_feat(inputs, test_mode=True)
        return self.cls_head(maps[-1], **kwargs), self.off_head(maps, **kwargs)
