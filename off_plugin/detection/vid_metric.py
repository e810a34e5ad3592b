# Copyright (c) off_plugin authors. All rights reserved.
"""ImageNet VID mAP@0.5 (the ILSVRC2015 VID devkit's rule) as an mmdet
metric for the video test loop."""
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmdet.datasets.api_wrappers import COCO
from mmdet.evaluation.functional import eval_map
from mmdet.evaluation.functional.mean_ap import tpfp_imagenet
from mmdet.evaluation.metrics import BaseVideoMetric
from mmdet.registry import METRICS
from mmdet.structures import DetDataSample
from mmengine.fileio import get_local_path
from mmengine.logging import MMLogger


def tpfp_vid_devkit(det_bboxes: np.ndarray, gt_bboxes: np.ndarray,
                    gt_bboxes_ignore: np.ndarray, *args,
                    **kwargs) -> Tuple[np.ndarray, np.ndarray]:
    """mmdet's ``tpfp_imagenet`` with the devkit's IoU.

    ``tpfp_imagenet`` of mmdet 3.3.0 measures the IoU against
    ``gt_bboxes - 1``, a one-pixel shift of the ground truth that the devkit
    (``eval_vid_detection.m``) does not make. Shifting the ground truth by +1
    here cancels it exactly; widths, heights, hence the small-box thresholds
    ``min(0.5, wh / ((w + 10) * (h + 10)))``, do not depend on it. The other
    arguments are those of ``tpfp_imagenet``.
    """
    return tpfp_imagenet(det_bboxes, gt_bboxes + 1, gt_bboxes_ignore + 1,
                         *args, **kwargs)


@METRICS.register_module()
class ImagenetVIDMetric(BaseVideoMetric):
    """ImageNet VID mAP: VOC area AP per class at IoU 0.5, with the ILSVRC
    rule for small boxes, averaged over the classes that have ground truth.

    It takes what mmdet's video test loop gives a metric (``TrackDataSample``
    dicts) in both test modes: a whole video per step or one frame per step
    (then ``video_data_samples[0]`` is scored), as ``CocoVideoMetric`` does.
    Results are collected from all ranks and evaluated on the main process.

    - Ground truth, in original-image coordinates as the predictions: the
      frame's boxes in ``ann_file`` (COCO json, read with the COCO api and
      mapped to labels as the dataset does, like ``CocoMetric``), or without
      ``ann_file`` the ``instances`` meta field that ``PackTrackInputs``
      packs by default (the dataset's parsed annotations, which it stripped
      of boxes under 1 px). Crowd boxes are ignored. Never ``gt_instances``:
      they went through the test pipeline (``Resize`` scales them by
      ``scale_factor``, flips move them), whereas ``pred_instances`` are
      rescaled to the original image.
    - Matching: mmdet's ``eval_map`` with the ImageNet rule
      ``tpfp_imagenet`` (a ground-truth box of w x h is matched at IoU
      ``min(iou_thr, wh / ((w + 10) * (h + 10)))``; a detection may take
      another free ground truth when its best one is taken), corrected by
      :func:`tpfp_vid_devkit`. Ignored boxes match without counting.
    - A class without ground truth gets AP 0 in the table and is left out of
      the mean, as in ``eval_map``; mAP is 0 if no class has ground truth.
    - Classes: ``dataset_meta['classes']``, any number of them.

    The result key is ``'mAP'``, logged as ``'vid/mAP'`` with the default
    prefix, so that it coexists with ``CocoVideoMetric`` (``'coco/...'``) in
    one ``val_evaluator`` list.

    Args:
        ann_file (str, optional): COCO(-VID) json of the ground truth.
            Defaults to None: the ``instances`` of the data samples.
        iou_thr (float): IoU threshold for boxes that are not small (the
            devkit's ``defaultIOUthr``). Defaults to 0.5.
        use_legacy_coordinate (bool): Measure widths, heights and
            intersections as ``x2 - x1 + 1`` (inclusive pixel coordinates).
            The devkit does, hence True; its boxes are the XML's ``xmin``
            ... ``ymax``, which a COCO json stores as ``w = xmax - xmin``.
            Defaults to True.
        classwise (bool): Whether to log the per-class table (gts, dets,
            recall, AP). Defaults to True.
        nproc (int): Processes that ``eval_map`` uses to match the frames.
            Defaults to 4.
        collect_device (str): Device used to collect results from the
            ranks, 'cpu' only (``collect_tracking_results``). Defaults to
            'cpu'.
        prefix (str, optional): Prefix of the metric names. Defaults to
            None, i.e. ``default_prefix`` 'vid'.
        backend_args (dict, optional): Arguments of the file backend that
            reads ``ann_file``. Defaults to None.
    """

    default_prefix: Optional[str] = 'vid'

    def __init__(self,
                 ann_file: Optional[str] = None,
                 iou_thr: float = 0.5,
                 use_legacy_coordinate: bool = True,
                 classwise: bool = True,
                 nproc: int = 4,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 backend_args: Optional[dict] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.iou_thr = iou_thr
        self.use_legacy_coordinate = use_legacy_coordinate
        self.classwise = classwise
        self.nproc = nproc
        self._coco_api: Optional[COCO] = None
        if ann_file is not None:
            with get_local_path(
                    ann_file, backend_args=backend_args) as local_path:
                self._coco_api = COCO(local_path)
        # category id -> label, set on first use (needs dataset_meta)
        self.cat2label: Optional[Dict[int, int]] = None

    def process_video(self, data_samples: List[DetDataSample]) -> None:
        """Store every frame of a whole video."""
        for data_sample in data_samples:
            self.process_frame(data_sample.to_dict())

    def process_image(self, data_samples: List[DetDataSample],
                      video_len: int) -> None:
        """Store the frame of a one-frame step."""
        self.process_frame(data_samples[0].to_dict())

    def process_frame(self, data_sample: dict) -> None:
        """Store the ground truth and the per-class detections of a frame.

        Args:
            data_sample (dict): A ``DetDataSample`` as dict, with
                ``pred_instances``, ``img_id`` and, without ``ann_file``, the
                ``instances`` meta field.
        """
        if self._coco_api is not None:
            instances = self._instances_in_ann_file(data_sample['img_id'])
        else:
            assert 'instances' in data_sample, \
                'ground truth is required for evaluation when `ann_file` ' \
                'is not provided: keep `instances` in the meta keys of ' \
                'PackTrackInputs'
            instances = data_sample['instances']
        bboxes = np.array([ins['bbox'] for ins in instances],
                          dtype=np.float32).reshape(-1, 4)
        labels = np.array([ins['bbox_label'] for ins in instances],
                          dtype=np.int64)
        ignore = np.array([ins.get('ignore_flag', 0) for ins in instances],
                          dtype=bool)
        ann = dict(
            bboxes=bboxes[~ignore],
            labels=labels[~ignore],
            bboxes_ignore=bboxes[ignore],
            labels_ignore=labels[ignore])

        pred = data_sample['pred_instances']
        pred_bboxes = pred['bboxes'].cpu().numpy()
        pred_scores = pred['scores'].cpu().numpy()
        pred_labels = pred['labels'].cpu().numpy()
        dets = []
        for label in range(len(self.dataset_meta['classes'])):
            index = pred_labels == label
            dets.append(
                np.hstack([pred_bboxes[index], pred_scores[index, None]]))
        self.results.append((ann, dets))

    def _instances_in_ann_file(self, img_id: int) -> List[dict]:
        """The boxes of an image in ``ann_file``, as dataset instances."""
        if self.cat2label is None:
            # in the json's order, as BaseVideoDataset and CocoDataset do
            cat_ids = self._coco_api.get_cat_ids(
                cat_names=self.dataset_meta['classes'])
            self.cat2label = {cat_id: i for i, cat_id in enumerate(cat_ids)}
        instances = []
        for ann in self._coco_api.load_anns(
                self._coco_api.get_ann_ids(img_ids=[img_id])):
            if ann.get('ignore', False) or \
                    ann['category_id'] not in self.cat2label:
                continue
            x1, y1, w, h = ann['bbox']
            instances.append(
                dict(
                    bbox=[x1, y1, x1 + w, y1 + h],
                    bbox_label=self.cat2label[ann['category_id']],
                    ignore_flag=int(ann.get('iscrowd', 0))))
        return instances

    def compute_metrics(self, results: Sequence[tuple]) -> Dict[str, float]:
        """Compute the mAP of the collected frames.

        Args:
            results (Sequence[tuple]): ``(ann, dets)`` of every frame.

        Returns:
            Dict[str, float]: ``{'mAP': mean AP}``.
        """
        logger: MMLogger = MMLogger.get_current_instance()
        gts, preds = zip(*results)
        # `tpfp_fn` picks the ImageNet rule; `dataset='vid'` would too, but
        # would name the table's rows after the 30 VID classes whatever the
        # dataset's classes are (IndexError beyond 30).
        mean_ap, _ = eval_map(
            preds,
            gts,
            iou_thr=self.iou_thr,
            dataset=self.dataset_meta['classes'],
            logger=logger if self.classwise else 'silent',
            tpfp_fn=tpfp_vid_devkit,
            nproc=self.nproc,
            use_legacy_coordinate=self.use_legacy_coordinate,
            eval_mode='area')
        return dict(mAP=float(mean_ap))
