# Copyright (c) off_plugin authors. All rights reserved.
"""TV-L1 optical flow into MMAction2's rawframe layout.

A video ``<out_root>/<name>/`` gets ``x_00001.jpg, y_00001.jpg, ...`` (one
pair per adjacent frame pair, ``filename_tmpl='{}_{:05d}.jpg'`` with
``modality='Flow'``) and optionally ``img_00001.jpg, ...`` (the RGB frames),
the layout of MMAction2's ``RawframeDataset``. Flow is clipped to
``[-bound, bound]`` pixels and stored as ``(f + bound) * 255 / (2 * bound)``
(TSN's dense_flow convention: 128 is no motion).
"""
import os
import os.path as osp
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

from off_plugin.utils.fileio import atomic_write
from off_plugin.utils.video_io import read_video

DONE_FILE = '.flow_done'


def tvl1_flow(frames: np.ndarray, bound: float = 20.) -> np.ndarray:
    """TV-L1 flow between adjacent frames: (L, H, W, 3) BGR ->
    (L-1, H, W, 2) uint8 (x, y), quantised as described in the module."""
    tvl1 = cv2.optflow.DualTVL1OpticalFlow_create()
    gray = [cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) for f in frames]
    flows = [tvl1.calc(a, b, None) for a, b in zip(gray[:-1], gray[1:])]
    flows = np.clip(np.stack(flows), -bound, bound)
    return np.round((flows + bound) * (255. / (2 * bound))).astype(np.uint8)


def extract_video_flow(video: str,
                       out_dir: str,
                       bound: float = 20.,
                       size: Optional[Tuple[int, int]] = None,
                       with_rgb: bool = False) -> int:
    """Write the flow (and optionally the frames) of ``video`` into
    ``out_dir``; returns the number of flow frames.

    Resumable and safe to interrupt: the frames are written to a temporary
    directory (:func:`~off_plugin.utils.fileio.atomic_write`) that replaces
    ``out_dir`` only when complete; a complete ``out_dir`` (with its
    done-marker) is left as it is.
    """
    done = osp.join(out_dir, DONE_FILE)
    if osp.exists(done):
        with open(done) as f:
            return int(f.read())
    frames = read_video(video)[1]
    if size is not None:
        frames = (
            cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames)
    frames = np.stack(list(frames))
    if len(frames) < 2:
        raise ValueError(f'{video}: one frame only; optical flow needs two.')
    flow = tvl1_flow(frames, bound)
    with atomic_write(out_dir.rstrip('/')) as tmp:
        os.makedirs(tmp)
        for i, (fx, fy) in enumerate(zip(flow[..., 0], flow[..., 1]), 1):
            cv2.imwrite(osp.join(tmp, f'x_{i:05d}.jpg'), fx)
            cv2.imwrite(osp.join(tmp, f'y_{i:05d}.jpg'), fy)
        if with_rgb:
            for i, frame in enumerate(frames, 1):
                cv2.imwrite(osp.join(tmp, f'img_{i:05d}.jpg'), frame)
        with open(osp.join(tmp, DONE_FILE), 'w') as f:
            f.write(str(len(flow)))
    return len(flow)


def rawframe_annotations(video_lines: Sequence[str],
                         counts: Sequence[int]) -> list:
    """MMAction2 video-list lines (``path label``) -> rawframe-list lines
    (``dir num_frames label``), ``dir`` the path without its extension."""
    lines = []
    for line, count in zip(video_lines, counts):
        path, *labels = line.split()
        lines.append(' '.join([osp.splitext(path)[0], str(count), *labels]))
    return lines
