# Copyright (c) off_plugin authors. All rights reserved.
from .checks import CheckFrames
from .formatting import FormatRGBDiff
from .sampling import IntervalConsistentSampleFrames

__all__ = ['CheckFrames', 'FormatRGBDiff', 'IntervalConsistentSampleFrames']
