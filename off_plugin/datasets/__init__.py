# Copyright (c) off_plugin authors. All rights reserved.
from .transforms import FormatRGBDiff, IntervalConsistentSampleFrames

__all__ = ['FormatRGBDiff', 'IntervalConsistentSampleFrames']
