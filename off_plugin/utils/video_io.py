# Copyright (c) off_plugin authors. All rights reserved.
"""Reading a whole video, a file or a folder of frames, with one-line errors
for bad input: the one frame reader of every tool and data helper."""
import os
import os.path as osp
from typing import Iterator, Optional, Tuple

import mmcv
import numpy as np

# Frames of a folder: these suffixes, in any case (ILSVRC's are .JPEG).
IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp')


def frame_file_problem(path: str) -> Optional[str]:
    """What is wrong with a local frame file, or None: missing, empty, or a
    JPEG cut short (no end-of-image marker in its last KiB), which OpenCV
    decodes without complaint, the lost part grey."""
    if not osp.isfile(path):
        return 'is missing'
    size = osp.getsize(path)
    if size == 0:
        return 'is empty (0 bytes)'
    with open(path, 'rb') as f:
        head = f.read(2)
        f.seek(max(size - 1024, 0))
        tail = f.read()
    if head == b'\xff\xd8' and b'\xff\xd9' not in tail:
        return 'is a truncated JPEG (no end-of-image marker)'
    return None


def read_video(video: str) -> Tuple[int, Iterator[np.ndarray]]:
    """Number of frames and an iterator over them (BGR, as OpenCV reads):
    a video file, or a folder of images in name order.

    Bad input is a ``ValueError`` (``FileNotFoundError`` if missing), one
    line naming the file and the fix: here for a file that is empty, not a
    video (or cut short before OpenCV can open it) or without frames; during
    iteration for a frame that does not decode: a video that stops before
    the frames it announces, an image of the folder that is empty, damaged
    or a JPEG cut short.
    """
    if osp.isdir(video):
        files = sorted(
            f for f in os.listdir(video) if f.lower().endswith(IMAGE_SUFFIXES))
        if not files:
            raise FileNotFoundError(
                f'{video}: no image ({", ".join(IMAGE_SUFFIXES)}) in this '
                'folder; pass a video file or a folder of frames.')
        return len(files), _read_images(video, files)
    if not osp.isfile(video):
        raise FileNotFoundError(f'{video}: no such video file or folder.')
    if osp.getsize(video) == 0:
        raise ValueError(f'{video}: the file is empty (0 bytes); pass a '
                         'complete video file or a folder of frames.')
    reader = mmcv.VideoReader(video)
    if not reader.opened or reader.frame_cnt < 0:
        raise ValueError(
            f'{video}: OpenCV cannot read this file as a video: it is not '
            'one, or it is damaged or cut short (an .mp4 cut short loses '
            'its index); re-download or re-encode it (ffmpeg -i IN '
            'OUT.mp4), or pass a folder of frames.')
    if reader.frame_cnt == 0:
        raise ValueError(f'{video}: the video has no frames; pass a video '
                         'with frames, or a folder of frames.')
    return reader.frame_cnt, _decode(reader, video)


def video_fps(video: str, default: float = 25.) -> float:
    """The frame rate of a video file; ``default`` for a folder of frames
    or a file that does not say."""
    if not osp.isfile(video):
        return default
    return mmcv.VideoReader(video).fps or default


def _decode(reader: mmcv.VideoReader, video: str) -> Iterator[np.ndarray]:
    """The frames of ``reader``; an error if fewer than it announces."""
    num_frames = 0
    for frame in reader:
        num_frames += 1
        yield frame
    if num_frames < reader.frame_cnt:
        raise ValueError(
            f'{video}: only {num_frames} of its {reader.frame_cnt} frames '
            'decode: the file is cut short or damaged; re-download or '
            're-encode it (ffmpeg -i IN OUT.mp4).')


def _read_images(folder: str, files: list) -> Iterator[np.ndarray]:
    """The images ``files`` of ``folder``; an error for one that is bad or
    of another size than the first."""
    first = None
    for name in files:
        path = osp.join(folder, name)
        problem = frame_file_problem(path)
        image = None if problem else mmcv.imread(path)
        if image is None:
            raise ValueError(
                f'frame {path} {problem or "cannot be decoded as an image"}; '
                're-extract it, or remove it from the folder.')
        if first is None:
            first = image.shape
        elif image.shape != first:
            raise ValueError(
                f'frame {path} is {image.shape[1]}x{image.shape[0]}, the '
                f'folder\'s first frame {first[1]}x{first[0]}; every frame '
                'of a video has one size: resize or remove it.')
        yield image
