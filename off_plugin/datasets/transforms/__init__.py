# Copyright (c) off_plugin authors. All rights reserved.
from .sampling import IntervalConsistentSampleFrames

__all__ = ['IntervalConsistentSampleFrames']
