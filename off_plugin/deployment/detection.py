# Copyright (c) off_plugin authors. All rights reserved.
"""Export of video detectors (:class:`OFFVideoDetector`, R-FCN or Faster
R-CNN, with or without OFF) and their online inference on ONNX Runtime or
OpenVINO, as
``off_plugin.detection.inference.iter_video_detections``.

One graph per frame, at a fixed input size: the frame (and, with OFF, the
previous frame's maps that OFF uses) in, its detections (and its own maps,
the next frame's reference) out. Everything of mmdet's ``predict`` runs in
it: the data preprocessor, backbone, OFF, RPN proposals (anchors, top-k,
decoding, clipping, min size, NMS), RoI pooling, box decoding and
multi-class NMS. Only the rescaling of the boxes to the original frame
(the pipeline's ``scale_factor``) is left to :class:`ONNXVideoDetector`.

mmdet's post-processing (``InstanceData``, mmcv's ``nms`` / ``batched_nms``,
empty-input branches) does not trace, torchvision's ``ps_roi_align`` has no
ONNX translation and mmcv's ``RoIAlign`` is an extension op: this module
writes those steps with torchvision's ``nms`` / ``roi_align`` (ONNX
``NonMaxSuppression`` / ``RoiAlign``) and static shapes up to the final
NMS; the heads, anchor generator and box coders are mmdet's own.
"""
import copy
import functools
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from mmdet.models.task_modules.coders import DeltaXYWHBBoxCoder
from mmdet.models.task_modules.coders.delta_xywh_bbox_coder import delta2bbox
from mmdet.registry import DATASETS
from mmdet.structures import TrackSampleList
from mmdet.structures.bbox import get_box_tensor, scale_boxes
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData
from torch import Tensor

from ..detection.inference import init_video_detector
from ..detection.off_video_detector import OFFVideoDetector
from ..detection.rfcn import RFCNRoIHead
from .backend import Graph, load_runtime, without_checkpoint
from .evaluation import evaluate, split_loader, spread

TASK = 'detection'
#: what the int8 files keep in float: nothing. Keeping the OFF units float
#: cost the demo's R-FCN + OFF 1.5 points of mAP more than quantizing them,
#: and changed no other demo (docs/user_guides/deployment.md)
INT8_FLOAT = ()


def ps_roi_align(x: Tensor, rois: Tensor, output_size: Tuple[int, int],
                 spatial_scale: float, sampling_ratio: int) -> Tensor:
    """``torchvision.ops.ps_roi_align`` with one ``roi_align``, which ONNX
    has (``RoiAlign``); ``ps_roi_align`` has no ONNX translation.

    Bin (i, j) of a RoI is a RoI of its own, the bin's sub-box, pooled to
    1x1 (``aligned=True``: the same sampling points as ``ps_roi_align``)
    from the channels of that bin alone: the maps of each image are
    regrouped into ``kh * kw`` images of ``C_out`` channels, one per bin,
    so that each sub-box pools ``C_out`` channels, the work of
    ``ps_roi_align`` itself. With ``sampling_ratio <= 0`` (adaptive), a bin
    whose size is a whole number of cells may take one sampling point more
    per side than ``ps_roi_align`` (the rounding of its sub-box).

    Shapes: x (N, C_out * kh * kw, H, W), channel ``(c * kh + i) * kw + j``
    for bin (i, j) of output channel c; rois (R, 5) ``[batch_index, x1, y1,
    x2, y2]`` in image pixels -> (R, C_out, kh, kw).
    """
    kh, kw = output_size
    n, channels, height, width = x.shape
    bins = kh * kw
    maps = x.view(n, channels // bins, bins, height,
                  width).transpose(1, 2).reshape(n * bins, channels // bins,
                                                 height, width)
    x1, y1, x2, y2 = (rois[:, 1:] * spatial_scale).unbind(1)
    bin_w = ((x2 - x1) / kw)[:, None, None]
    bin_h = ((y2 - y1) / kh)[:, None, None]
    left = x1[:, None, None] + bin_w * torch.arange(kw).to(x)[None, None]
    top = y1[:, None, None] + bin_h * torch.arange(kh).to(x)[None, :, None]
    left, top = torch.broadcast_tensors(left, top)  # (R, kh, kw)
    sub_boxes = torch.stack((left, top, left + bin_w, top + bin_h),
                            dim=-1).view(-1, 4)
    images = rois[:, :1] * bins + torch.arange(bins).to(x)  # (R, kh * kw)
    pooled = torchvision.ops.roi_align(
        maps,
        torch.cat((images.view(-1, 1), sub_boxes), dim=1), (1, 1),
        1.0,
        sampling_ratio,
        aligned=True)
    return pooled.view(len(rois), kh, kw, -1).permute(0, 3, 1, 2)


def decode_boxes(coder: nn.Module, priors: Tensor, deltas: Tensor,
                 max_shape: Tuple[int, int]) -> Tensor:
    """``coder.decode(priors, deltas, max_shape)`` as mmdet runs it outside
    an export: within ``torch.onnx.export``, mmdet 3.3's
    ``DeltaXYWHBBoxCoder.decode`` takes a path that imports the removed
    ``mmdet.core``. Shapes: priors (R, 4), deltas (R, 4 * C) -> (R, 4 * C).
    """
    if isinstance(coder, DeltaXYWHBBoxCoder):
        return delta2bbox(
            priors,
            deltas,
            coder.means,
            coder.stds,
            max_shape,
            clip_border=coder.clip_border,
            add_ctr_clamp=coder.add_ctr_clamp,
            ctr_clamp=coder.ctr_clamp)
    return get_box_tensor(coder.decode(priors, deltas, max_shape=max_shape))


def batched_nms(boxes: Tensor, scores: Tensor, idxs: Tensor, nms_cfg: dict,
                max_coordinate: Tensor) -> Tensor:
    """mmcv's ``batched_nms`` with torchvision's ``nms``: the indices of
    the kept boxes, by decreasing score. Boxes of different ``idxs`` are
    kept apart by mmcv's offset, ``idxs * (max_coordinate + 1)``
    (``max_coordinate``: the largest coordinate of the boxes mmcv sees)."""
    if nms_cfg.get('type', 'nms') != 'nms':
        raise ValueError(
            f'nms type {nms_cfg["type"]!r} in the test_cfg of the detector '
            '(model.detector.test_cfg.rpn.nms / rcnn.nms): the export has '
            "plain NMS only; set type='nms'.")
    if not nms_cfg.get('class_agnostic', False):
        boxes = boxes + (idxs.to(boxes) * (max_coordinate + 1))[:, None]
    return torchvision.ops.nms(boxes, scores, nms_cfg['iou_threshold'])


class VideoDetectorGraph(nn.Module):
    """One frame of an :class:`OFFVideoDetector`'s online test as one
    graph, at a fixed input size.

    Shapes: ``img`` (1, 3, H, W), the frame as the config's test pipeline
    packs it (pixel values 0-255, the pipeline's channel order, H x W its
    resized size, before the data preprocessor); with OFF also ``prev_k``
    (1, C_k, H_k, W_k), the previous frame's k-th map that OFF uses, and
    ``is_first`` (1,): 1 for the first frame of a video (its reference is
    itself; ``prev_k`` is then ignored), else 0. Outputs: ``dets`` (K, 5)
    ``[x1, y1, x2, y2, score]`` in the pixels of ``img``, by decreasing
    score, ``labels`` (K,) int64, K <= ``test_cfg.rcnn.max_per_img``; with
    OFF also ``feat_k``, this frame's maps, the next frame's ``prev_k``.

    The data preprocessor (``bgr_to_rgb``, mean / std, zero padding to
    ``pad_size_divisor``), backbone, OFF and heads are the model's; RPN
    proposals and multi-class NMS follow mmdet's ``RPNHead`` and
    ``multiclass_nms`` with static shapes up to the last NMS: the proposals
    are the ``rpn.max_per_img`` best-scoring boxes with a mask of those
    mmdet keeps (min size, NMS); the RoI head runs on all of them and the
    masked ones are dropped before the multi-class NMS.

    Args:
        model (OFFVideoDetector): The detector; its RoI head is an
            :class:`RFCNRoIHead` with ``PSRoIAlign`` or mmdet's
            ``StandardRoIHead`` with one ``RoIAlign`` level.
        shape (tuple[int, int]): Input (H, W).
        max_topk (int, optional): The largest k of the graph's TopK: the
            RPN's ``nms_pre`` capped to it (TensorRT's TopK takes k <= 3840;
            R-FCN's ``nms_pre`` is 6000). None: the config's.
    """

    def __init__(self,
                 model: OFFVideoDetector,
                 shape: Tuple[int, int],
                 max_topk: Optional[int] = None) -> None:
        super().__init__()
        self.model = model
        self.shape = tuple(shape)
        self.max_topk = max_topk
        roi_head = model.detector.roi_head
        extractor = roi_head.bbox_roi_extractor
        if len(extractor.roi_layers) != 1:
            raise ValueError(
                'model.detector.roi_head.bbox_roi_extractor.featmap_strides:'
                f' {len(extractor.roi_layers)} levels; the export takes one '
                'map (the dilated detectors of configs/detection/off).')
        layer = extractor.roi_layers[0]
        self.position_sensitive = isinstance(roi_head, RFCNRoIHead)
        if self.position_sensitive and not isinstance(
                layer, torchvision.ops.PSRoIAlign):
            raise ValueError(
                'model.detector.roi_head.bbox_roi_extractor.roi_layer.type='
                f'{type(layer).__name__!r}: torchvision\'s ps_roi_pool has '
                'no ONNX translation (nor its whole-cell bins a RoiAlign '
                'equivalent); set it to PSRoIAlign (output_size, '
                'sampling_ratio) and retrain or fine-tune.')
        if not self.position_sensitive and (not hasattr(layer, 'aligned')
                                            or getattr(layer, 'pool_mode',
                                                       'avg') != 'avg'):
            raise ValueError(
                'model.detector.roi_head.bbox_roi_extractor.roi_layer: '
                f'{type(layer).__name__} does not export; use '
                "type='RoIAlign' (average pooling).")
        self.roi_layer = layer
        self.off_maps = [] if model.off is None else sorted({
            i
            for indices in model.off.sub_network.in_indices
            for i in indices
        })

    def preprocess(self, img: Tensor) -> Tensor:
        """The data preprocessor: (1, 3, H, W) pixels -> (1, 3, H', W'),
        normalized and zero-padded to its ``pad_size_divisor``."""
        preprocessor = self.model.data_preprocessor
        if preprocessor._channel_conversion:
            img = img.flip(1)
        if preprocessor._enable_normalize:
            img = (img - preprocessor.mean) / preprocessor.std
        divisor = preprocessor.pad_size_divisor
        height, width = img.shape[-2:]
        return F.pad(
            img, (0, -width % divisor, 0, -height % divisor),
            value=preprocessor.pad_value)

    def forward(self, img: Tensor, *prev_is_first: Tensor) -> tuple:
        feats = self.model.extract_frame_feats(self.preprocess(img))
        ref = None
        if self.off_maps:
            *prevs, is_first = prev_is_first
            ref = list(feats)
            for i, prev in zip(self.off_maps, prevs):
                ref[i] = torch.where(is_first > 0, feats[i], prev)
        rpn_x, roi_x = self.model.head_inputs(feats, ref)
        proposals, valid = self.proposals(rpn_x)
        dets, labels = self.detect(roi_x, proposals, valid)
        return (dets, labels, *[feats[i] for i in self.off_maps])

    def proposals(self, x: Tuple[Tensor, ...]) -> Tuple[Tensor, Tensor]:
        """``RPNHead.predict``: proposals (P, 4), by decreasing score, and
        which of them mmdet keeps (P,), P = min(``rpn.max_per_img``, boxes
        before NMS)."""
        head = self.model.detector.rpn_head
        cfg = head.test_cfg
        cls_scores, bbox_preds = head(x)
        priors = head.prior_generator.grid_priors(
            [score.shape[-2:] for score in cls_scores],
            dtype=cls_scores[0].dtype,
            device=cls_scores[0].device)
        nms_pre = cfg.get('nms_pre', -1)
        if self.max_topk:
            nms_pre = min(nms_pre,
                          self.max_topk) if nms_pre > 0 else (self.max_topk)
        levels = []
        for level, (score, delta,
                    prior) in enumerate(zip(cls_scores, bbox_preds, priors)):
            delta = delta[0].permute(1, 2,
                                     0).reshape(-1,
                                                head.bbox_coder.encode_size)
            score = score[0].permute(1, 2, 0).reshape(-1,
                                                      head.cls_out_channels)
            score = (score.sigmoid()
                     if head.use_sigmoid_cls else score.softmax(-1))[:, 0]
            if 0 < nms_pre < len(score):
                score, inds = score.topk(nms_pre)
                delta, prior = delta[inds], prior[inds]
            levels.append((score, delta, prior,
                           torch.full_like(score, level, dtype=torch.long)))
        scores, deltas, priors, level_ids = (
            torch.cat(t) for t in zip(*levels))
        boxes = decode_boxes(head.bbox_coder, priors, deltas, self.shape)
        valid = torch.ones_like(scores, dtype=torch.bool)
        if cfg.get('min_bbox_size', -1) >= 0:
            valid = ((boxes[:, 2] - boxes[:, 0] > cfg.min_bbox_size)
                     & (boxes[:, 3] - boxes[:, 1] > cfg.min_bbox_size))
        # boxes mmdet filtered out rank last: they suppress no other box
        # (scores are probabilities: -1 ranks below all, and unlike -inf
        # it leaves the int8 calibration a finite range)
        ranked = torch.where(valid, scores, -1.)
        keep = batched_nms(boxes, ranked, level_ids, cfg.nms,
                           torch.where(valid[:, None], boxes, 0).max())
        kept = torch.zeros_like(scores).index_fill(0, keep, 1) > 0
        best, order = torch.where(kept & valid, scores, -1.).topk(
            min(cfg.max_per_img, len(scores), self.max_topk or len(scores)))
        return boxes[order], best >= 0

    def detect(self, x: Tuple[Tensor, ...], proposals: Tensor,
               valid: Tensor) -> Tuple[Tensor, Tensor]:
        """The RoI head on the proposals (P, 4), then mmdet's
        ``multiclass_nms`` of those ``valid``: dets (K, 5), labels (K,)."""
        roi_head = self.model.detector.roi_head
        head = roi_head.bbox_head
        cfg = roi_head.test_cfg
        layer = self.roi_layer
        rois = torch.cat((proposals.new_zeros(len(proposals), 1), proposals),
                         dim=1)
        if self.position_sensitive:
            pooled = ps_roi_align(
                roi_head.score_maps(x)[0], rois, layer.output_size,
                layer.spatial_scale, layer.sampling_ratio)
        else:
            pooled = torchvision.ops.roi_align(x[0], rois, layer.output_size,
                                               layer.spatial_scale,
                                               layer.sampling_ratio,
                                               layer.aligned)
            if roi_head.with_shared_head:
                pooled = roi_head.shared_head(pooled)
        cls_score, bbox_pred = head(pooled)
        scores = (
            head.loss_cls.get_activation(cls_score)
            if head.custom_cls_channels else cls_score.softmax(-1))
        classes = 1 if head.reg_class_agnostic else head.num_classes
        boxes = decode_boxes(head.bbox_coder,
                             proposals.repeat_interleave(classes, dim=0),
                             bbox_pred.view(-1, head.bbox_coder.encode_size),
                             self.shape).view(len(proposals), classes, 4)

        scores = scores[:, :-1]
        boxes = boxes.expand(-1, scores.shape[1], -1).reshape(-1, 4)
        labels = torch.arange(
            scores.shape[1], device=scores.device).expand_as(scores)
        labels = labels.reshape(-1)
        candidates = ((scores > cfg.score_thr) & valid[:, None]).view(-1)
        max_coordinate = torch.where(candidates[:, None], boxes, 0).max()
        inds = candidates.nonzero()[:, 0]
        boxes, scores = boxes[inds], scores.reshape(-1)[inds]
        labels = labels[inds]
        keep = batched_nms(boxes, scores, labels, cfg.nms, max_coordinate)
        if cfg.max_per_img > 0:
            keep = keep[:cfg.max_per_img]
        return torch.cat((boxes[keep], scores[keep, None]), 1), labels[keep]


def init_model(config: Config,
               checkpoint: Optional[str],
               device: str = 'cpu') -> OFFVideoDetector:
    """``init_video_detector``; without a checkpoint, random weights under
    which no layer is an identity (with a warning)."""
    model = init_video_detector(config, checkpoint, device=device)
    return model if checkpoint else without_checkpoint(model)


def input_shape(config: Config) -> Tuple[int, int]:
    """(H, W) of the frames of the config's test pipeline: its ``Resize``
    scale, landscape for ``keep_ratio``."""
    steps = list(config.test_dataloader.dataset.pipeline)
    for step in steps:
        steps.extend(step.get('transforms', []))
        if step['type'].split('.')[-1] == 'Resize' and 'scale' in step:
            width, height = step['scale']
            if step.get('keep_ratio', False):
                height, width = sorted((height, width))
            return height, width
    raise ValueError(
        f'{config.filename}: no Resize with a scale in '
        'test_dataloader.dataset.pipeline to give the input size; pass '
        '--shape H W.')


def compare_detections(expected: List[np.ndarray],
                       actual: List[np.ndarray],
                       score_tolerance: float = 1e-3,
                       min_iou: float = .99,
                       min_score: float = 0.) -> Tuple[float, float]:
    """Detection parity of two lists of outputs (``dets`` (K, 5),
    ``labels`` (K,), then features, which are not compared: they show in
    the next frame's detections).

    Each expected box is matched, in order, to the unmatched actual box of
    its label with the highest IoU. The difference is the largest of the
    matched pairs' score differences and of ``score_tolerance / (1 -
    min_iou)`` times their IoU shortfalls ``1 - IoU``; infinite when the
    numbers of boxes differ or a box has no match of its label. At the
    tolerance ``score_tolerance``, pass means: the same number of boxes,
    the same labels, each pair's IoU >= ``min_iou`` and scores within
    ``score_tolerance``.

    With ``min_score`` (an int8 file, whose scores move near the score
    threshold), only the boxes scored at least ``min_score`` are held to
    it, both ways: each must match a box of the other list scored at least
    ``min_score - score_tolerance``.
    """
    if min_score > 0:
        return max(
            one_way(expected, actual, score_tolerance, min_iou, min_score),
            one_way(actual, expected, score_tolerance, min_iou,
                    min_score)), score_tolerance
    if len(expected[0]) != len(actual[0]):
        return float('inf'), score_tolerance
    return one_way(expected, actual, score_tolerance, min_iou,
                   0.), score_tolerance


def one_way(expected: List[np.ndarray], actual: List[np.ndarray],
            score_tolerance: float, min_iou: float, min_score: float) -> float:
    """:func:`compare_detections`' difference of the expected boxes scored
    at least ``min_score`` against the actual ones scored at least
    ``min_score - score_tolerance`` (all for ``min_score`` 0)."""
    (dets, labels), (other, other_labels) = expected[:2], actual[:2]
    dets, other = np.asarray(dets, np.float64), np.asarray(other, np.float64)
    free = other[:,
                 4] >= min_score - score_tolerance if min_score else (np.ones(
                     len(other), bool))
    worst = 0.
    for det, label in zip(dets, labels):
        if det[4] < min_score:
            continue
        ious = np.where(free & (other_labels == label),
                        box_iou(det[:4], other[:, :4]), -1.)
        match = int(ious.argmax()) if len(ious) else -1
        if match < 0 or ious[match] < 0:
            return float('inf')
        free[match] = False
        worst = max(worst, abs(det[4] - other[match, 4]),
                    (1 - ious[match]) * score_tolerance / (1 - min_iou))
    return worst


def box_iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """IoU of a box (4,) with boxes (K, 4); two empty boxes at the same
    place (within 1e-3 pixels, boxes clipped to the border) have IoU 1."""
    low = np.maximum(box[:2], boxes[:, :2])
    high = np.minimum(box[2:], boxes[:, 2:])
    inter = np.prod(np.clip(high - low, 0, None), axis=1)
    union = (
        np.prod(box[2:] - box[:2]) +
        np.prod(boxes[:, 2:] - boxes[:, :2], axis=1) - inter)
    same = np.abs(boxes - box).max(axis=1) <= 1e-3
    return np.where(union > 0, inter / np.maximum(union, 1e-12),
                    same.astype(float))


def graphs(model: OFFVideoDetector,
           shape: Optional[Tuple[int, int]] = None,
           num_segments: Optional[int] = None,
           batch_size: int = 1,
           dynamic: bool = False,
           max_topk: Optional[int] = None) -> List[Graph]:
    """The detector's one graph (:class:`VideoDetectorGraph`) at ``shape``
    (H, W; default: the test pipeline's resize scale). Detection is one
    frame per call at a fixed size: ``batch_size`` must be 1, and
    ``num_segments`` (recognizers) and ``dynamic`` do not apply.
    ``max_topk`` caps the k of every TopK (:class:`VideoDetectorGraph`).

    Example inputs: a random frame and, with OFF, the maps of another
    random frame as the previous frame's (``is_first`` 0).
    """
    if batch_size != 1:
        raise ValueError(f'--batch-size {batch_size}: the video detector '
                         'takes one frame per call; leave it at 1.')
    height, width = shape or input_shape(model.cfg)
    graph = VideoDetectorGraph(model, (height, width), max_topk).eval()
    generator = torch.Generator().manual_seed(0)
    device = next(model.parameters()).device
    frames = torch.randint(
        0, 256, (2, 1, 3, height, width),
        generator=generator).float().to(device)
    inputs = (frames[0], )
    input_names = ['img']
    if graph.off_maps:
        with torch.no_grad():
            prev = model.extract_frame_feats(graph.preprocess(frames[1]))
        inputs += tuple(prev[i] for i in graph.off_maps) + (torch.zeros(
            1, device=device), )
        input_names += [f'prev_{k}'
                        for k in range(len(graph.off_maps))] + ['is_first']
    metadata = dict(
        task=TASK,
        graph='video_detector',
        input_size=[height, width],
        off=model.off is not None,
        num_prev=len(graph.off_maps),
        max_topk=max_topk)
    classes = getattr(model, 'dataset_meta', {}).get('classes')
    if classes:
        metadata['classes'] = list(classes)
    return [
        Graph(
            '',
            graph,
            inputs,
            input_names, ['dets', 'labels'] +
            [f'feat_{k}' for k in range(len(graph.off_maps))],
            metadata=metadata,
            compare=compare_detections,
            float_modules=INT8_FLOAT,
            int8_compare=functools.partial(
                compare_detections,
                score_tolerance=.25,
                min_iou=.8,
                min_score=.5))
    ]


class ONNXVideoDetector:
    """An exported video detector on a runtime, in the place of the
    PyTorch model of ``iter_video_detections(model, frames)`` (``cfg``,
    ``dataset_meta``, ``reset`` and ``test_step`` as
    :class:`OFFVideoDetector` has them): online, each frame's maps computed
    once and fed back as the next frame's ``prev_*``; ``pred_instances``
    of each frame's ``DetDataSample`` as PyTorch gives them (boxes (K, 4)
    rescaled to the original frame by the pipeline's ``scale_factor``,
    scores (K,), labels (K,)).

    Args:
        config (Config): The config the file was exported from (its test
            pipeline and visualizer).
        onnx_file (str): The ``.onnx`` file of
            ``tools/deployment/export_onnx.py``.
        device (str): ``'cpu'``, ``'cuda'`` or ``'cuda:N'``.
        backend (str): ``'onnxruntime'`` or ``'openvino'``.
        threads (int, optional): The runtime's intra-op threads.
    """

    def __init__(self,
                 config: Config,
                 onnx_file: str,
                 device: str = 'cpu',
                 backend: str = 'onnxruntime',
                 threads: Optional[int] = None) -> None:
        self.cfg = config
        self.model = load_runtime(onnx_file, backend, device,
                                  threads).expect(TASK, 'video_detector')
        metadata = self.model.metadata
        init_default_scope(config.get('default_scope', 'mmdet'))
        if metadata.get('classes'):
            meta = dict(classes=tuple(metadata['classes']))
        else:
            dataset = copy.deepcopy(config.test_dataloader.dataset)
            meta = DATASETS.build(dict(dataset, lazy_init=True)).metainfo
        self.dataset_meta = {k.lower(): v for k, v in meta.items()}
        self.input_size = tuple(metadata['input_size'])
        # zeros in place of the previous frame's maps at a video's start
        self.first_prev = [
            np.zeros(shape, np.float32) for name, shape in zip(
                self.model.input_names, self.model.input_shapes)
            if name.startswith('prev_')
        ]
        self._last: Optional[Tuple[object, List[np.ndarray]]] = None

    def reset(self) -> None:
        """The next frame starts a video, whatever its ``video_id``."""
        self._last = None

    def test_step(self, data: Dict[str, list]) -> TrackSampleList:
        """Detections of each frame of ``data`` (``inputs``: (T, 3, H, W)
        frames per video, ``data_samples``: their ``TrackDataSample``), in
        order, into the frames' ``pred_instances``."""
        for frames, track in zip(data['inputs'], data['data_samples']):
            for frame, sample in zip(frames, track):
                sample.pred_instances = self.detect(frame, sample)
        return data['data_samples']

    def detect(self, frame: torch.Tensor, sample) -> InstanceData:
        """One frame (3, H, W) of the test pipeline -> its detections in
        the original frame's pixels."""
        if tuple(frame.shape[-2:]) != self.input_size:
            raise ValueError(
                f'{self.model.path} takes frames of '
                f'{self.input_size[0]}x{self.input_size[1]} (H x W) but the '
                f'test pipeline of {self.cfg.filename} resizes this video '
                f'to {frame.shape[-2]}x{frame.shape[-1]}; export again with '
                f'--shape {frame.shape[-2]} {frame.shape[-1]}.')
        inputs = [frame[None].float().cpu().numpy()]
        if self.first_prev:
            first = self._last is None or self._last[0] != sample.video_id
            inputs += (self.first_prev if first else
                       self._last[1]) + [np.array([first], np.float32)]
        dets, labels, *feats = self.model(*inputs)
        self._last = (sample.video_id, feats)
        results = InstanceData()
        scale = sample.metainfo.get('scale_factor', (1., 1.))
        results.bboxes = scale_boxes(
            torch.from_numpy(dets[:, :4]), [1 / s for s in scale])
        results.scores = torch.from_numpy(dets[:, 4])
        results.labels = torch.from_numpy(labels)
        return results


#: the metric of the accuracy table (ImageNet VID mAP@0.5)
METRIC = 'vid/mAP'


def calibration_inputs(model: OFFVideoDetector, graphs: List[Graph], num: int,
                       split: str) -> Dict[str, list]:
    """The graph's inputs on ``num`` frames spread over the config's
    ``split`` (its test pipeline, online order): the frame and, with OFF,
    the previous frame's maps (PyTorch, float) and ``is_first``."""
    graph = graphs[0].module
    loader = split_loader(model.cfg, split)
    indices = list(loader.sampler)

    def frame(index) -> Tensor:
        inputs = loader.collate_fn([loader.dataset[index]])['inputs'][0]
        if tuple(inputs.shape[-2:]) != graph.shape:
            raise ValueError(
                f'{model.cfg.filename}: the {split} pipeline resizes a frame '
                f'to {tuple(inputs.shape[-2:])}, the graph takes '
                f'{graph.shape}; calibrate with the --shape of the test '
                'pipeline.')
        return inputs[:1].float().to(next(model.parameters()).device)

    samples = []
    for i in spread(len(indices), num):
        img = frame(indices[i])
        if not graph.off_maps:
            samples.append((img.cpu().numpy(), ))
            continue
        first = i == 0 or indices[i - 1][0] != indices[i][0]
        with torch.no_grad():
            maps = model.extract_frame_feats(
                graph.preprocess(img if first else frame(indices[i - 1])))
        samples.append((img.cpu().numpy(),
                        *[maps[k].cpu().numpy() for k in graph.off_maps],
                        np.array([float(first)], np.float32)))
    return {'': samples}


def evaluation(cfg: Config,
               split: str,
               onnx_file: Optional[str] = None,
               backend: str = 'onnxruntime',
               model: Optional[OFFVideoDetector] = None) -> Dict[str, float]:
    """The config's ``<split>_evaluator`` (ImageNet VID mAP@0.5) on its
    ``split``, online: of the file ``onnx_file`` on ``backend``, or of the
    PyTorch ``model``."""
    if model is None:
        model = ONNXVideoDetector(cfg, onnx_file, backend=backend)
    else:
        model.reset()
    return evaluate(cfg, model.test_step, split)
