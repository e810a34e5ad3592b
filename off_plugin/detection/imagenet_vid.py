# Copyright (c) off_plugin authors. All rights reserved.
"""ImageNet VID (+ DET) for video object detection, on mmdet's
``BaseVideoDataset``."""
import json
import os.path as osp
import random
import warnings
from collections import defaultdict
from typing import Any, Dict, List, Optional, Sequence

import cv2
from mmdet.datasets import BaseVideoDataset
from mmdet.evaluation.functional import imagenet_vid_classes
from mmdet.registry import DATASETS
from mmengine.fileio import get_local_path
from mmengine.logging import print_log

from ..utils.video_io import frame_file_problem

REMAKE = ('(ImageNet VID: re-create the json with '
          'tools/dataset_converters/convert_imagenet_vid.py)')


@DATASETS.register_module()
class ImagenetVIDDataset(BaseVideoDataset):
    """ImageNet VID in COCO-VID json
    (``tools/dataset_converters/convert_imagenet_vid.py``), or any set in
    that layout (``metainfo=dict(classes=...)``).

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
      ``TrackImgSampler`` cannot index).

    Rules for bad input:

    - frames group by their images' ``video_id``; the json's ``videos``
      list is not read. A json where no image has ``video_id`` holds single
      images (one-frame videos); otherwise every image needs ``video_id``
      and a ``frame_id`` of its own in its video;
    - boxes are judged by ``bbox`` alone (``area`` is not read): boxes
      reaching outside the image are clipped to it, boxes with less than 1
      pixel of width or height inside it (zero or negative sizes included)
      are dropped; one warning per json counts both;
    - frames are read as the configs' ``LoadImageFromFile`` reads them
      (``color_type='color'``): 3-channel BGR, a grayscale frame repeated
      over the channels, the alpha channel of a 4-channel frame dropped;
    - errors, one line naming the json and the image / annotation id and
      the fix: a json that is not valid, an image without ``id``,
      ``file_name``, ``width`` or ``height``, repeated image or annotation
      ids, an annotation of no image or of a category id the json does not
      list, a category name outside ``classes`` (its boxes would be lost),
      and a frame file that is missing, empty, undecodable or a JPEG cut
      short.

    Args:
        det_ann_file (str, optional): COCO json of single images to join as
            one-frame videos (same categories). Defaults to None.
        *args, **kwargs: Arguments of ``BaseVideoDataset``.
    """

    METAINFO = dict(classes=tuple(imagenet_vid_classes()))

    def __init__(self,
                 *args,
                 det_ann_file: Optional[str] = None,
                 **kwargs) -> None:
        self.det_ann_file = det_ann_file
        super().__init__(*args, **kwargs)

    def load_data_list(self) -> List[dict]:
        videos = self._load_file(self.ann_file)
        if self.det_ann_file:
            first_id = max((v['video_id'] for v in videos), default=0) + 1
            for i, video in enumerate(self._load_file(self.det_ann_file)):
                video['video_id'] = first_id + i
                for frame in video['images']:
                    frame['video_id'] = first_id + i
                videos.append(video)
        return videos

    def _read_json(self, ann_file: str) -> dict:
        """The json of ``ann_file``, with ``images`` and ``categories``."""
        with get_local_path(ann_file, backend_args=self.backend_args) as path:
            try:
                with open(path) as f:
                    coco = json.load(f)
            except ValueError as err:
                raise ValueError(
                    f'{ann_file}: not a valid json file ({err}); it is '
                    f'truncated or damaged: write it again {REMAKE}.'
                ) from None
        for key in ('images', 'categories'):
            if not isinstance(coco, dict) or \
                    not isinstance(coco.get(key), list):
                raise ValueError(
                    f'{ann_file}: no {key!r} list, not a COCO-VID json '
                    '(images, annotations, categories); set ann_file to '
                    f'the right file {REMAKE}.')
        return coco

    @staticmethod
    def _check_keys(ann_file: str,
                    kind: str,
                    index: int,
                    entry: dict,
                    keys: Sequence[str],
                    rule: str = '') -> None:
        """One line naming the first of ``keys`` missing from ``entry``, the
        ``index``-th of its list."""
        missing = [key for key in keys if key not in entry]
        if missing:
            name = entry.get('id', f'at position {index}')
            if 'file_name' in entry:
                name = f'{name} ({entry["file_name"]})'
            raise ValueError(f'{ann_file}: {kind} {name} has no '
                             f'{missing[0]!r}; {rule}add it {REMAKE}.')

    def _images(self, ann_file: str, coco: dict) -> Dict[Any, dict]:
        """Images by id, checked."""
        images: Dict[Any, dict] = {}
        for index, image in enumerate(coco['images']):
            self._check_keys(ann_file, 'image', index, image,
                             ('id', 'file_name', 'width', 'height'))
            if image['id'] in images:
                raise ValueError(
                    f'{ann_file}: several images have the id {image["id"]}; '
                    f'give each image its own id {REMAKE}.')
            images[image['id']] = image
        if any('video_id' in image for image in images.values()):
            for index, image in enumerate(images.values()):
                self._check_keys(
                    ann_file, 'image', index, image, ('video_id', 'frame_id'),
                    'in a json of videos every image needs video_id and '
                    'frame_id (a json of single images has no video_id at '
                    'all): ')
        return images

    def _annotations(self, ann_file: str, coco: dict,
                     images: Dict[Any, dict]) -> Dict[Any, List[dict]]:
        """Annotations by image id, checked; sets ``cat_ids`` and
        ``cat2label`` for mmdet's parsing."""
        categories = {cat['id']: cat['name'] for cat in coco['categories']}
        classes = self.metainfo['classes']
        # json order, as mmdet's BaseVideoDataset and the VID metric
        self.cat_ids = [i for i, name in categories.items() if name in classes]
        self.cat2label = {cat_id: i for i, cat_id in enumerate(self.cat_ids)}
        anns = defaultdict(list)
        ann_ids = set()
        for index, ann in enumerate(coco.get('annotations', [])):
            self._check_keys(ann_file, 'annotation', index, ann,
                             ('id', 'image_id', 'category_id', 'bbox'))
            field = None
            if ann['id'] in ann_ids:
                field = 'an id used by an earlier annotation'
            elif ann['image_id'] not in images:
                field = f'image_id {ann["image_id"]}, which no image has'
            elif ann['category_id'] not in categories:
                field = (f'category_id {ann["category_id"]}, which is not '
                         f'among the categories {sorted(categories)}')
            if field:
                raise ValueError(f'{ann_file}: annotation {ann["id"]} has '
                                 f'{field}; fix or remove it {REMAKE}.')
            ann_ids.add(ann['id'])
            anns[ann['image_id']].append(ann)
        lost = sorted({
            ann['category_id']
            for image_anns in anns.values()
            for ann in image_anns if ann['category_id'] not in self.cat2label
        })
        if lost:
            raise ValueError(
                f'{ann_file}: boxes of the category ids {lost} '
                f'({", ".join(categories[i] for i in lost)}) would be lost: '
                f'their names are not among the {len(classes)} classes of '
                f'{type(self).__name__}. Set metainfo=dict(classes=...) in '
                'the dataset config to the classes of this file (and '
                'num_classes of the head), or convert the data with '
                'tools/dataset_converters/convert_imagenet_vid.py.')
        return anns

    def _load_file(self, ann_file: str) -> List[dict]:
        """Videos of one COCO-VID json, frames in ``frame_id`` order."""
        coco = self._read_json(ann_file)
        images = self._images(ann_file, coco)
        anns = self._annotations(ann_file, coco, images)
        is_vid = any('video_id' in image for image in images.values())
        self._boxes = dict(clipped=0, dropped=0, first=None)
        videos: Dict[Any, dict] = {}
        for img_id, image in images.items():
            video_id = image['video_id'] if is_vid else len(videos) + 1
            video = videos.setdefault(
                video_id,
                dict(
                    video_id=video_id,
                    images=[],
                    video_length=0,
                    ann_file=ann_file))
            video['images'].append(
                self.parse_data_info(
                    dict(
                        raw_img_info=dict(
                            image, img_id=img_id, video_id=video_id),
                        raw_ann_info=anns[img_id])))
            video['video_length'] += 1
        if self._boxes['first'] is not None:
            warnings.warn(
                f'{ann_file}: {self._boxes["clipped"]} boxes reached outside '
                'their image and were clipped to it, '
                f'{self._boxes["dropped"]} with less than 1 pixel of width '
                'or height inside it were dropped (first: annotation '
                f'{self._boxes["first"]}).')
        for video in videos.values() if is_vid else ():
            frames = video['images']
            frames.sort(key=lambda frame: frame['frame_id'])
            for a, b in zip(frames, frames[1:]):
                if a['frame_id'] == b['frame_id']:
                    raise ValueError(
                        f'{ann_file}: video {video["video_id"]} has several '
                        f'images with the same frame_id {a["frame_id"]} '
                        f'(images {a["img_id"]} and {b["img_id"]}); give '
                        'each frame of a video its own frame_id (0, 1, ... '
                        f'in time order) {REMAKE}.')
        return list(videos.values())

    def parse_data_info(self, raw_data_info: dict) -> dict:
        """Clip boxes to the image and drop those with less than 1 pixel of
        width or height in it (counted) before mmdet's parsing."""
        img = raw_data_info['raw_img_info']
        kept = []
        for ann in raw_data_info['raw_ann_info']:
            x, y, w, h = ann['bbox']
            x1, y1 = max(x, 0), max(y, 0)
            x2, y2 = min(x + w, img['width']), min(y + h, img['height'])
            changed = 'dropped' if x2 - x1 < 1 or y2 - y1 < 1 else \
                'clipped' if (x1, y1, x2, y2) != (x, y, x + w, y + h) else None
            if changed:
                self._boxes[changed] += 1
                if self._boxes['first'] is None:
                    self._boxes['first'] = ann['id']
            if changed != 'dropped':
                kept.append(
                    dict(
                        ann,
                        bbox=[x1, y1, x2 - x1, y2 - y1],
                        area=(x2 - x1) * (y2 - y1)))
        return super().parse_data_info(dict(raw_data_info, raw_ann_info=kept))

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
        return len(info['images'] if self.test_mode else info['key_frame_ids'])

    def prepare_data(self, idx: Any) -> Any:
        """``(video, i)``: the i-th frame (testing) or key frame
        (training) of a video, through the pipeline; a bad frame file is
        an error naming it."""
        video_idx, i = idx if isinstance(idx, tuple) else (idx, None)
        info = self.get_data_info(video_idx)
        if self.test_mode:
            center = i or 0
        else:
            keys = info['key_frame_ids']
            center = info['key_frame_id'] = keys[i] if i is not None else \
                random.choice(keys)
        try:
            data = super().prepare_data(idx) if self.test_mode else \
                self.pipeline(info)
        except Exception as err:
            error = self._frame_error(info, center, err)
            if error is None:
                raise
            raise error from err
        samples = data.get('data_samples') if isinstance(data, dict) else None
        for sample in getattr(samples, 'video_data_samples', []):
            path = sample.metainfo.get('img_path')
            if path and osp.isfile(path) and frame_file_problem(path):
                raise self._frame_error(info, center, OSError(path))
        return data

    def _frame_error(self, info: dict, center: int,
                     err: Exception) -> Optional[OSError]:
        """A one-line error naming the frame file behind ``err``: the frame
        it names, else the frame nearest to ``center`` whose file is bad;
        None if no frame file is at fault."""

        def named(frame: dict) -> bool:
            path = frame['img_path']
            return path == getattr(err, 'filename', None) or path in str(err)

        frames = sorted(
            enumerate(info['images']),
            key=lambda item: (not named(item[1]), abs(item[0] - center)))
        for _, frame in frames:
            path = frame['img_path']
            if not (named(frame) or osp.isfile(path)):
                continue  # not a local file: nothing to tell
            problem = frame_file_problem(path)
            if not problem and named(frame) and cv2.imread(path) is None:
                problem = 'cannot be decoded as an image'
            if problem:
                break
        else:
            return None
        where = (f'{info["ann_file"]}: image {frame["img_id"]} (video '
                 f'{info["video_id"]}, frame_id {frame.get("frame_id")}): '
                 f'frame {path} {problem}')
        if problem == 'is missing':
            return FileNotFoundError(
                f'{where}. Check data_prefix, or re-extract the frames; a '
                'json written by '
                'tools/dataset_converters/convert_imagenet_vid.py names '
                'files relative to <root>/Data/.')
        return OSError(f'{where}; re-extract the frame from the dataset '
                       'archive, or re-encode it.')
