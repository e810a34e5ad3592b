# Copyright (c) off_plugin authors. All rights reserved.
import copy
from typing import List, Optional, Tuple

import torch
from mmdet.models.mot import BaseMOTModel
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample, TrackSampleList
from mmdet.utils import OptConfigType, OptMultiConfig
from torch import Tensor

from ..engine.checkpoint import check_checkpoint_weights

Feats = Tuple[Tensor, ...]


@MODELS.register_module()
class OFFVideoDetector(BaseMOTModel):
    """Video object detection with OFF (Sec. 6 and Fig. 5 of the paper).

    A two-stage ``detector`` (mmdet's ``TwoStageDetector`` and subclasses)
    whose detection map is refined, before its RPN and RoI head, by the OFF
    between the key frame and a reference frame of the same video
    (:class:`OFFRefiner`). With ``off=None`` it is the single-frame
    baseline: the same detector, the reference frame never computed.

    Per frame, ``detector.backbone`` returns the maps that OFF uses, fine to
    coarse, the detection map last (ResNet-101 ``out_indices=(1, 3)``:
    res3 512-d at 1/8, res5 2048-d at 1/16), and ``detector.neck``, if any,
    maps the last one (the paper's 3x3 convolution to 1024 channels:
    ``ChannelMapper``). ``rpn_channels`` splits the map as the paper does:
    the first ``rpn_channels`` to the RPN, the rest to the RoI head.

    Training takes (N, 2, C, H, W) inputs, a key and a reference frame per
    video (``key_frames_inds`` / ``ref_frames_inds`` of each
    ``TrackDataSample``), losses on the key frame. Testing is online: every
    frame is paired with the frame before it in the stream of its video
    (the first frame with itself), and each frame's features are computed
    once and kept for the next frame; predictions land in ``pred_instances``
    of each frame's ``DetDataSample``.

    Args:
        detector (dict): Config of the two-stage detector (backbone, neck,
            rpn_head, roi_head, train_cfg, test_cfg); its own
            data_preprocessor, if any, is ignored.
        off (dict, optional): Config of the :class:`OFFRefiner`; None for
            the baseline without OFF.
        rpn_channels (int, optional): Channels of the map that go to the
            RPN, the others going to the RoI head (R-FCN: 512 of 1024);
            None: both see the whole map (Faster R-CNN).
        data_preprocessor (dict, optional): ``TrackDataPreprocessor``.
        init_cfg (dict, optional): Initialization config.
    """

    def __init__(self,
                 detector: dict,
                 off: OptConfigType = None,
                 rpn_channels: Optional[int] = None,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(data_preprocessor, init_cfg)
        detector = copy.deepcopy(detector)
        detector.pop('data_preprocessor', None)
        self.detector = MODELS.build(detector)
        if not (self.detector.with_rpn and self.detector.with_roi_head):
            raise ValueError('OFFVideoDetector needs a two-stage detector '
                             'with rpn_head and roi_head.')
        self.off = MODELS.build(off) if off is not None else None
        self.rpn_channels = rpn_channels
        # (video_id, features) of the last frame seen in online testing
        self._last_frame: Optional[Tuple[object, Feats]] = None

    def check_checkpoint(self,
                         state_dict: dict,
                         filename: Optional[str] = None) -> None:
        """Refuse the weights of another model in one line naming
        ``filename``. Missing ``off.*`` weights are allowed: an OFF detector
        may start from a trained baseline."""
        check_checkpoint_weights(
            self.state_dict(),
            state_dict,
            filename,
            what='this OFFVideoDetector',
            fix='Use the config it was trained with (off=None for a '
            'baseline checkpoint), or load a plain detector into '
            'model.detector with its init_cfg.',
            may_miss=('off.', ))

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args,
                              **kwargs) -> None:
        """Refuse a checkpoint of another model instead of loading part of
        it (mmengine only warns about missing and mismatched weights)."""
        if prefix == '':
            self.check_checkpoint(state_dict)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def reset(self) -> None:
        """Forget the frame kept for online testing: the next frame starts a
        video (pairs with itself) whatever its ``video_id``."""
        self._last_frame = None

    def extract_frame_feats(self, imgs: Tensor) -> Feats:
        """(B, C, H, W) frames -> their maps, fine to coarse, each
        (B, C_i, H_i, W_i), the detection map last."""
        feats = tuple(self.detector.backbone(imgs))
        if self.detector.with_neck:
            feats = feats[:-1] + tuple(self.detector.neck(feats[-1:]))
        return feats

    def head_inputs(self, key: Feats,
                    ref: Optional[Feats]) -> Tuple[Feats, Feats]:
        """The inputs of the RPN and of the RoI head: the key frame's
        detection map, refined by OFF with the reference frame, split."""
        x = key[-1] if self.off is None else self.off(key, ref)
        if self.rpn_channels is None:
            return (x, ), (x, )
        return (x[:, :self.rpn_channels], ), (x[:, self.rpn_channels:], )

    def _pair_feats(self, key_imgs: Tensor,
                    ref_imgs: Tensor) -> Tuple[Feats, Optional[Feats]]:
        """Features of key and reference frames in one backbone pass (the
        reference frames only when OFF needs them)."""
        if self.off is None:
            return self.extract_frame_feats(key_imgs), None
        feats = self.extract_frame_feats(torch.cat((key_imgs, ref_imgs)))
        n = len(key_imgs)
        return tuple(f[:n] for f in feats), tuple(f[n:] for f in feats)

    @staticmethod
    def _key_ref(
        inputs: Tensor, data_samples: TrackSampleList
    ) -> Tuple[Tensor, Tensor, List[DetDataSample]]:
        """Key and reference frames of each video of a training batch."""
        if inputs.dim() != 5:
            raise ValueError('OFFVideoDetector expects inputs of shape '
                             f'(N, T, C, H, W), got {tuple(inputs.shape)}.')
        rows = torch.arange(len(inputs))
        keys = [s.key_frames_inds[0] for s in data_samples]
        refs = [
            s.ref_frames_inds[0] if s.ref_frames_inds else k
            for s, k in zip(data_samples, keys)
        ]
        key_samples = [s[k] for s, k in zip(data_samples, keys)]
        return inputs[rows, keys], inputs[rows, refs], key_samples

    def loss(self, inputs: Tensor, data_samples: TrackSampleList,
             **kwargs) -> dict:
        """Losses of the RPN and RoI head on the key frames."""
        key_imgs, ref_imgs, key_samples = self._key_ref(inputs, data_samples)
        rpn_x, roi_x = self.head_inputs(*self._pair_feats(key_imgs, ref_imgs))

        detector = self.detector
        rpn_samples = copy.deepcopy(key_samples)
        for sample in rpn_samples:  # the RPN is class-agnostic
            sample.gt_instances.labels = torch.zeros_like(
                sample.gt_instances.labels)
        rpn_losses, rpn_results = detector.rpn_head.loss_and_predict(
            rpn_x,
            rpn_samples,
            proposal_cfg=detector.train_cfg.get('rpn_proposal',
                                                detector.test_cfg.rpn))
        losses = {
            f'rpn_{k}' if 'loss' in k and 'rpn' not in k else k: v
            for k, v in rpn_losses.items()
        }
        losses.update(detector.roi_head.loss(roi_x, rpn_results, key_samples))
        return losses

    def predict(self,
                inputs: Tensor,
                data_samples: TrackSampleList,
                rescale: bool = True,
                **kwargs) -> TrackSampleList:
        """Detections of every frame of the batch, online.

        The frames of each ``TrackDataSample`` (one per test step with
        mmdet's ``TrackImgSampler``, or a whole video) are taken in order;
        a frame's reference is the frame before it in the same video, from
        this batch or kept from the previous call. The backbone runs once on
        all frames of the batch.
        """
        frames = [s for track in data_samples for s in track]
        key, ref = self._online_feats(inputs, frames)
        results = self.predict_frames(key, ref, frames, rescale)
        for sample, result in zip(frames, results):
            sample.pred_instances = result
        return data_samples

    def _forward(self, inputs: Tensor, data_samples: TrackSampleList) -> tuple:
        """Tensor mode (FLOP counting, export), as mmdet's two-stage
        detectors: :meth:`predict` without its post-processing, the RoI
        head's outputs for the RPN's proposals of every frame."""
        frames = [s for track in data_samples for s in track]
        rpn_x, roi_x = self.head_inputs(*self._online_feats(inputs, frames))
        proposals = self.detector.rpn_head.predict(
            rpn_x, frames, rescale=False)
        return self.detector.roi_head.forward(roi_x, proposals, frames)

    def _online_feats(
            self, inputs: Tensor,
            frames: List[DetDataSample]) -> Tuple[Feats, Optional[Feats]]:
        """Features of the frames (N, T, C, H, W), the backbone once over
        all, and of each frame's reference: the frame before it in its
        video, from this batch or kept from the previous call (the first
        frame of a video: itself)."""
        feats = self.extract_frame_feats(inputs.flatten(0, 1))
        if self.off is None:
            return feats, None
        refs = []
        for i, sample in enumerate(frames):
            frame = tuple(f[i:i + 1] for f in feats)
            last = self._last_frame
            refs.append(last[1] if last is not None
                        and last[0] == sample.video_id else frame)
            self._last_frame = (sample.video_id,
                                tuple(f.detach() for f in frame))
        return feats, tuple(torch.cat(level) for level in zip(*refs))

    def predict_frames(self,
                       key: Feats,
                       ref: Optional[Feats],
                       samples: List[DetDataSample],
                       rescale: bool = True) -> list:
        """Detections (``InstanceData``) of the key frames, given the
        features of key and reference frames."""
        rpn_x, roi_x = self.head_inputs(key, ref)
        proposals = self.detector.rpn_head.predict(
            rpn_x, samples, rescale=False)
        return self.detector.roi_head.predict(
            roi_x, proposals, samples, rescale=rescale)
