# Copyright (c) off_plugin authors. All rights reserved.
from .transforms import IntervalConsistentSampleFrames

__all__ = ['IntervalConsistentSampleFrames']
