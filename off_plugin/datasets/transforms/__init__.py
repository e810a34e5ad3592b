# Copyright (c) off_plugin authors. All rights reserved.
from .formatting import FormatRGBDiff
from .sampling import IntervalConsistentSampleFrames

__all__ = ['FormatRGBDiff', 'IntervalConsistentSampleFrames']
