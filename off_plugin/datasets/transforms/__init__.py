# Copyright (c) off_plugin authors. All rights reserved.
from .checks import CheckFrames
from .formatting import FormatRGBDiff
from .ref_frame_sampling import NeighbourRefFrameSample
from .sampling import IntervalConsistentSampleFrames

__all__ = [
    'CheckFrames', 'FormatRGBDiff', 'IntervalConsistentSampleFrames',
    'NeighbourRefFrameSample'
]
