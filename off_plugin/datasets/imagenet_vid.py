# Copyright (c) off_plugin authors. All rights reserved.
"""ImageNet VID (+ DET) for video object detection, on mmdet's
``BaseVideoDataset``."""
import random
import warnings
from typing import Any, List, Optional

from mmdet.datasets import BaseVideoDataset
from mmdet.evaluation.functional import imagenet_vid_classes
from mmdet.registry import DATASETS
from mmengine.logging import print_log


@DATASETS.register_module()
class ImagenetVIDDataset(BaseVideoDataset):
    """ImageNet VID in COCO-VID json (``tools/convert_imagenet_vid.py``), or
    any set in that layout (``metainfo=dict(classes=...)``).

    Differences from ``BaseVideoDataset``, which the paper's protocol needs:

    - frames are in ``frame_id`` order and none is dropped: frames without
      boxes stay in their video as reference frames;
    - in training, only the key frames are visited: those with
      ``is_vid_train_frame`` (when the json has the flag; FGFA's 15 frames
      per snippet) that have boxes (``filter_cfg.filter_empty_gt``, default
      True) and are at least ``filter_cfg.min_size`` (default 32) pixels.
      mmdet's ``TrackImgSampler`` draws (video, i) for the i-th key frame;
    - ``det_ann_file``: ImageNet DET images (no ``video_id``) joined as
      one-frame videos of the same dataset (not a ``ConcatDataset``, which
      ``TrackImgSampler`` cannot index);
    - boxes reaching outside the image are clipped (counted in a warning);
      a category outside ``classes`` is an error, not silently dropped; a
      missing frame file is an error that names the frame and its video.

    Args:
        det_ann_file (str, optional): COCO json of single images to join as
            one-frame videos (same categories). Defaults to None.
        *args, **kwargs: Arguments of ``BaseVideoDataset``.
    """

    METAINFO = dict(classes=tuple(imagenet_vid_classes()))

    def __init__(self, *args, det_ann_file: Optional[str] = None,
                 **kwargs) -> None:
        self.det_ann_file = det_ann_file
        super().__init__(*args, **kwargs)

    def load_data_list(self) -> List[dict]:
        self._num_clipped = 0
        videos = self._load_file(self.ann_file)
        if self.det_ann_file:
            first_id = max((v['video_id'] for v in videos), default=0) + 1
            for i, video in enumerate(self._load_file(self.det_ann_file)):
                video['video_id'] = first_id + i
                video['images'][0]['video_id'] = first_id + i
                videos.append(video)
        if self._num_clipped:
            warnings.warn(
                f'{self.ann_file}: {self._num_clipped} boxes reached outside '
                'their image and were clipped to it.')
        return videos

    def _load_file(self, ann_file: str) -> List[dict]:
        """Videos of one COCO-VID json, frames in ``frame_id`` order."""
        main_file, self.ann_file = self.ann_file, ann_file
        try:
            videos = super().load_data_list()
        finally:
            self.ann_file = main_file
        # mmdet keeps only the boxes of categories named in `classes`
        unknown = sorted(c for c, images in self.cat_img_map.items()
                         if images and c not in self.cat_ids)
        if unknown:
            raise ValueError(
                f'{ann_file}: boxes of the category ids {unknown} would be '
                f'lost: their names are not among the '
                f'{len(self.metainfo["classes"])} classes of '
                f'{type(self).__name__}. Set metainfo=dict(classes=...) in '
                'the dataset config to the classes of this file (and '
                'num_classes of the head), or convert the data with '
                'tools/convert_imagenet_vid.py.')
        for video in videos:
            frames = video['images']
            frames.sort(key=lambda frame: frame.get('frame_id', 0))
            ids = [frame.get('frame_id', 0) for frame in frames]
            if len(set(ids)) != len(ids):
                raise ValueError(
                    f'{ann_file}: video {video["video_id"]} has several '
                    'images with the same frame_id; every frame of a video '
                    'needs its own frame_id (0, 1, ...). Re-create the json '
                    'with tools/convert_imagenet_vid.py.')
        return videos

    def parse_data_info(self, raw_data_info: dict) -> dict:
        """Clip boxes to the image (counted) before mmdet's parsing, which
        drops boxes wholly outside it and zero-area boxes."""
        img = raw_data_info['raw_img_info']
        for ann in raw_data_info['raw_ann_info']:
            x, y, w, h = ann['bbox']
            x1, y1 = max(x, 0), max(y, 0)
            x2, y2 = min(x + w, img['width']), min(y + h, img['height'])
            if (x1, y1, x2, y2) != (x, y, x + w, y + h) and \
                    x2 > x1 and y2 > y1:
                self._num_clipped += 1
                ann['bbox'] = [x1, y1, x2 - x1, y2 - y1]
                ann['area'] = (x2 - x1) * (y2 - y1)
        return super().parse_data_info(raw_data_info)

    def filter_data(self) -> List[dict]:
        """Keep every frame; mark each video's training key frames
        (``key_frame_ids``) and drop videos without one (training only)."""
        if self.test_mode:
            return self.data_list
        cfg = self.filter_cfg or {}
        min_size = cfg.get('min_size', 32)
        need_boxes = cfg.get('filter_empty_gt', True)
        videos = []
        for video in self.data_list:
            video['key_frame_ids'] = [
                i for i, frame in enumerate(video['images'])
                if frame.get('is_vid_train_frame', True) and (
                    frame['instances'] or not need_boxes)
                and min(frame['width'], frame['height']) >= min_size
            ]
            if video['key_frame_ids']:
                videos.append(video)
        print_log(
            f'{type(self).__name__}: {len(videos)} of {len(self.data_list)} '
            'videos have training key frames, '
            f'{sum(len(v["key_frame_ids"]) for v in videos)} in all.',
            'current')
        return videos

    def get_len_per_video(self, idx: int) -> int:
        """Frames the sampler visits: all in testing, the key frames in
        training."""
        info = self.get_data_info(idx)
        return len(info['images'] if self.test_mode else
                   info['key_frame_ids'])

    def prepare_data(self, idx: Any) -> Any:
        """``(video, i)``: the i-th frame (testing) or key frame
        (training) of a video, through the pipeline."""
        try:
            if self.test_mode:
                return super().prepare_data(idx)
            video_idx, i = idx if isinstance(idx, tuple) else (idx, None)
            info = self.get_data_info(video_idx)
            keys = info['key_frame_ids']
            info['key_frame_id'] = keys[i] if i is not None else \
                random.choice(keys)
            return self.pipeline(info)
        except FileNotFoundError as err:
            raise FileNotFoundError(
                f'{self.ann_file}: frame {err.filename or err} is missing. '
                'Check data_prefix, or re-extract the frames; a json written '
                'by tools/convert_imagenet_vid.py names files relative to '
                '<root>/Data/.') from err
