# Copyright (c) off_plugin authors. All rights reserved.
from .imagenet_vid import ImagenetVIDDataset
from .transforms import (CheckFrames, FormatRGBDiff,
                         IntervalConsistentSampleFrames,
                         NeighbourRefFrameSample)
from .vimeo90k import Vimeo90KSeptupletDataset

__all__ = [
    'CheckFrames', 'FormatRGBDiff', 'ImagenetVIDDataset',
    'IntervalConsistentSampleFrames', 'NeighbourRefFrameSample',
    'Vimeo90KSeptupletDataset'
]
