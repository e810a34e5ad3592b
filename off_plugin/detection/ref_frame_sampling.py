# Copyright (c) off_plugin authors. All rights reserved.
import random
from typing import List, Sequence, Tuple, Union

from mmdet.datasets.transforms import BaseFrameSample, UniformRefFrameSample
from mmdet.registry import TRANSFORMS


@TRANSFORMS.register_module()
class NeighbourRefFrameSample(UniformRefFrameSample):
    """One reference frame for a key frame: a neighbour of the same video.

    The reference is drawn uniformly from the frames at offsets
    ``frame_range[0] .. frame_range[1]`` from the key frame, the key frame
    itself excluded. Where no such frame exists (the edge of a video, a
    one-frame video such as an ImageNet DET image) the key frame is its own
    reference, as in online testing, where a video's first frame has no
    predecessor. ``frame_range=(-1, -1)`` is the test-time pairing (the
    previous frame); a backward range such as ``(-3, -1)`` keeps the
    direction of time of testing while varying the interval.

    Outputs two frames in time order with ``key_frame_flags``, as mmdet's
    ``UniformRefFrameSample`` (``PackTrackInputs`` turns them into
    ``key_frames_inds`` / ``ref_frames_inds``).

    Args:
        frame_range (int | Sequence[int]): Offsets of the candidates; an int
            r means (-r, r). Defaults to (-1, -1).
        collect_video_keys (list[str]): Video-level keys copied to frames.
    """

    def __init__(self,
                 frame_range: Union[int, Sequence[int]] = (-1, -1),
                 collect_video_keys: List[str] = ['video_id', 'video_length']):
        if isinstance(frame_range, int):
            frame_range = (-abs(frame_range), abs(frame_range))
        if len(frame_range) != 2 or frame_range[0] > frame_range[1]:
            raise ValueError(
                'NeighbourRefFrameSample: frame_range must be an int or '
                f'(low, high) offsets with low <= high, got {frame_range}.')
        # UniformRefFrameSample's own checks want low <= 0 <= high.
        BaseFrameSample.__init__(self, collect_video_keys)
        self.num_ref_imgs = 1
        self.filter_key_img = True
        self.frame_range = tuple(frame_range)

    def sampling_frames(self, video_length: int,
                        key_frame_id: int) -> Tuple[List[int], List[bool]]:
        low, high = self.frame_range
        candidates = [
            i for i in range(key_frame_id + low, key_frame_id + high + 1)
            if 0 <= i < video_length and i != key_frame_id
        ]
        ref = random.choice(candidates) if candidates else key_frame_id
        frames = sorted((key_frame_id, ref))
        flags = [False, False]
        flags[frames.index(key_frame_id)] = True
        return frames, flags
