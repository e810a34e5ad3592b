# Copyright (c) off_plugin authors. All rights reserved.
from typing import Dict, Optional, Sequence, Tuple

import torch
from mmaction.models.recognizers import Recognizer2D
from mmaction.registry import MODELS
from mmaction.utils import SampleList
from mmengine.runner.checkpoint import _load_checkpoint


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
      of all levels' scores), then MMAction2's ``average_clips`` over
      crops.

    Inputs are (N, V, C, H, W) with ``V = crops * num_segments`` views,
    crop-major (as MMAction2's ``ThreeCrop``/``TenCrop`` lay them out): the
    OFF pairs segments within one crop of one video only.
    ``num_segments`` must be the sampler's: the data samples' ``num_clips``
    (:func:`off_plugin.compat.mmaction.pack_num_clips`) differing from it,
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
            TSN : OFF-14 : OFF-7 as 1 : 1 : 2).
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
        super().__init__(backbone, cls_head=cls_head, train_cfg=train_cfg,
                         test_cfg=test_cfg, **kwargs)
        self.off_head = MODELS.build(off_head)
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
        checkpoint = _load_checkpoint(filename, map_location='cpu')
        state = checkpoint.get('state_dict', checkpoint)
        state = {k.removeprefix('module.'): v for k, v in state.items()}
        own = {
            k: v
            for k, v in self.state_dict().items()
            if k.split('.')[0] in ('backbone', 'neck', 'cls_head')
        }
        missing = sorted(set(own) - set(state))
        wrong = sorted(k for k in set(own) & set(state)
                       if own[k].shape != state[k].shape)
        if missing or wrong:
            raise ValueError(
                f'{filename} is not a stage-1 checkpoint of this model\'s '
                f'feature generation sub-network: {len(missing)} of its '
                f'{len(own)} backbone/cls_head weights are missing (e.g. '
                f'{missing[:3]}) and {len(wrong)} have another shape (e.g. '
                f'{[(k, tuple(state[k].shape), tuple(own[k].shape)) for k in wrong[:3]]}'
                '). Set feature_checkpoint to the TSN checkpoint trained '
                'with the same backbone and num_classes.')
        self.load_state_dict({k: state[k] for k in own}, strict=False)

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
        sampled = (data_samples[0].metainfo.get('num_clips')
                   if data_samples else None)
        if sampled not in (None, num_segs) or views % num_segs:
            given = (f'{views} views per video, not a multiple of'
                     if sampled is None else
                     f'{sampled} segments per video, not')
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
        maps, kwargs = self.extract_feat(
            inputs, data_samples=data_samples, test_mode=True)
        levels = self.off_head(maps, **kwargs)
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
        scores = self.test_cfg.get('rgb_weight', 1.) * self.cls_head(
            maps[-1], **kwargs) + off_score
        return self.off_head.predict_by_feat(scores, data_samples)

    def _forward(self, inputs: torch.Tensor, stage: str = 'backbone',
                 **kwargs) -> tuple:
        maps, kwargs = self.extract_feat(inputs, test_mode=True)
        return self.cls_head(maps[-1], **kwargs), self.off_head(
            maps, **kwargs)
