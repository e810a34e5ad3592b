# Copyright (c) off_plugin authors. All rights reserved.
from typing import Optional

import numpy as np
from mmaction.registry import TRANSFORMS
from mmcv.transforms import BaseTransform


@TRANSFORMS.register_module()
class IntervalConsistentSampleFrames(BaseTransform):
    """Sample segments with the same interval in training and testing.

    OFF's temporal difference approximates df/dt only if the time between
    adjacent segments is the same in training (few segments, to save memory)
    and testing (many segments), Sec. 4.2.3 of the paper. A video of ``L``
    frames is divided into ``num_segments`` (beta) segments of
    ``interval = floor(L / beta)`` frames; a clip starts at a seed ``p`` and
    takes ``num_clips`` segments ``p, p + interval, ...``:

    - training (``mode='interval'``, the paper): ``num_clips`` (alpha)
      segments, ``p`` drawn from ``{0, ..., L - 1 - (alpha - 1) * interval}``
      (less the frames a segment spans, see ``clip_len``);
    - testing: all ``num_segments`` segments, centred in the video;
    - ``mode='positions'`` (the authors' Caffe data layer,
      ``video_data_layer.cpp``): ``num_segments`` positions
      ``step = floor((L - new_length) / (num_segments - 1))`` apart over the
      whole video, ``new_length`` the frames a segment spans. Testing: the
      0-based first frames ``min(1 + i * step, L - new_length)``, i = 0 ..
      ``num_segments - 1`` (the layer reads the 1-based files ``offset + 1
      ...``, i.e. the 0-based frames ``offset ...``). Training:
      ``num_clips`` consecutive positions from a first one drawn from
      ``range(max_start)``, each with its own offset drawn from ``{0, ...,
      step - new_length}`` (1 where ``step <= new_length``) in place of the
      1. ``step = 0`` (``L - new_length < num_segments - 1``): every segment
      at frame 0.

    Each segment contributes ``clip_len`` frames ``frame_interval`` apart (1
    for RGB, 5 for stacked optical flow, 6 for 5 RGB differences):
    ``new_length = (clip_len - 1) * frame_interval + 1``. ``start_index``
    (1 for MMAction2's rawframes) is added last.

    Short videos: the interval (``mode='interval'``) is at least 1 frame;
    frame indices past the last frame repeat the last frame (a still tail:
    its temporal differences are zero). Videos of 0 frames raise an error
    naming the file.

    Required keys: ``total_frames``, ``start_index``. Added keys:
    ``frame_inds``, ``clip_len``, ``frame_interval``, ``num_clips``,
    ``segment_interval`` (the interval, or ``step``).

    Args:
        num_clips (int): Segments per clip in training (alpha).
        num_segments (int): Segments the video is divided into (beta); also
            the segments per clip in testing.
        clip_len (int): Frames per segment. Defaults to 1.
        frame_interval (int): Frames between those of one segment.
            Defaults to 1.
        mode (str): ``'interval'`` (the paper) or ``'positions'`` (the
            authors' code). Defaults to ``'interval'``.
        max_start (int, optional): ``'positions'`` only: first positions are
            drawn from ``range(max_start)``; the authors' code used 17 with
            25 positions and 7 segments. Defaults to all that fit,
            ``num_segments - num_clips + 1``.
        test_mode (bool): Testing: all segments, no randomness. Defaults to
            False.
    """

    def __init__(self,
                 num_clips: int,
                 num_segments: int,
                 clip_len: int = 1,
                 frame_interval: int = 1,
                 mode: str = 'interval',
                 max_start: Optional[int] = None,
                 test_mode: bool = False) -> None:
        if mode not in ('interval', 'positions'):
            raise ValueError(f'IntervalConsistentSampleFrames: mode={mode!r};'
                             " use 'interval' or 'positions'.")
        if mode == 'positions' and num_segments < 2:
            raise ValueError(
                'IntervalConsistentSampleFrames: mode=\'positions\' needs '
                f'num_segments >= 2 (got {num_segments}).')
        if not 1 <= num_clips <= num_segments:
            raise ValueError(
                f'IntervalConsistentSampleFrames: num_clips={num_clips} must '
                f'be between 1 and num_segments={num_segments}.')
        fits = num_segments - num_clips + 1
        if max_start is not None and not 1 <= max_start <= fits:
            raise ValueError(
                f'IntervalConsistentSampleFrames: max_start={max_start} must '
                f'be between 1 and num_segments - num_clips + 1 = {fits}.')
        self.num_clips = num_clips
        self.num_segments = num_segments
        self.clip_len = clip_len
        self.frame_interval = frame_interval
        self.mode = mode
        self.max_start = max_start or fits
        self.test_mode = test_mode

    def segment_starts(self, total_frames: int) -> tuple:
        """0-based first frame of every sampled segment, and the
        interval."""
        span = (self.clip_len - 1) * self.frame_interval
        count = self.num_segments if self.test_mode else self.num_clips
        if self.mode == 'positions':
            return self.caffe_starts(total_frames, span + 1, count)
        interval = max(1, total_frames // self.num_segments)
        room = total_frames - 1 - (count - 1) * interval - span
        if self.test_mode:
            seed = max(room, 0) // 2
        else:
            seed = np.random.randint(room + 1) if room > 0 else 0
        return seed + interval * np.arange(count), interval

    def caffe_starts(self, total_frames: int, new_length: int,
                     count: int) -> tuple:
        """The authors' positions (``mode='positions'``)."""
        last = max(total_frames - new_length, 0)
        step = last // (self.num_segments - 1)
        if step == 0:
            return np.zeros(count, np.int64), step
        if self.test_mode:
            return np.minimum(1 + step * np.arange(count), last), step
        first = np.random.randint(self.max_start)
        offsets = (
            np.random.randint(step - new_length +
                              1, size=count) if step > new_length else 1)
        return np.minimum(offsets + step * (first + np.arange(count)),
                          last), step

    def transform(self, results: dict) -> dict:
        total_frames = results['total_frames']
        if total_frames < 1:
            source = results.get('filename', results.get('frame_dir', '?'))
            raise ValueError(
                f'{source}: the video has no frames (total_frames='
                f'{total_frames}); it is empty or corrupt. Re-encode or '
                'remove it from the annotation file.')
        starts, interval = self.segment_starts(total_frames)
        frame_inds = (
            starts[:, None] + np.arange(self.clip_len) * self.frame_interval)
        frame_inds = np.minimum(frame_inds.reshape(-1), total_frames - 1)
        results['frame_inds'] = (frame_inds + results['start_index']).astype(
            np.int32)
        results['clip_len'] = self.clip_len
        results['frame_interval'] = self.frame_interval
        results['num_clips'] = len(starts)
        results['segment_interval'] = interval
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_clips={self.num_clips}, '
                f'num_segments={self.num_segments}, '
                f'clip_len={self.clip_len}, '
                f'frame_interval={self.frame_interval}, mode={self.mode!r}, '
                f'max_start={self.max_start}, test_mode={self.test_mode})')
