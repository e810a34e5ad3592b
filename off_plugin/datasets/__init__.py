# Copyright (c) off_plugin authors. All rights reserved.
from .transforms import (CheckFrames, FormatRGBDiff,
                         IntervalConsistentSampleFrames)
from .vimeo90k import Vimeo90KSeptupletDataset

__all__ = [
    'CheckFrames', 'FormatRGBDiff', 'IntervalConsistentSampleFrames',
    'Vimeo90KSeptupletDataset'
]
