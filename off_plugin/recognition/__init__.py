# Copyright (c) off_plugin authors. All rights reserved.
"""Action recognition with OFF on MMAction2.

``custom_imports=dict(imports=['off_plugin.recognition'])`` in a config
applies the fixes mmengine 0.10.7 and MMAction2 1.2.0 need on this stack
(:mod:`off_plugin.compat`) and registers the modules below in MMAction2's
registries; nothing of MMDetection or MMagic is imported.
"""
from ..compat import apply_task_fixes

apply_task_fixes('recognition')

from .. import core, engine  # noqa: F401
from .bninception import BNInception
from .checks import (CheckedDecordDecode, CheckedDecordInit,
                     CheckedRawframeDataset, CheckedRawFrameDecode,
                     CheckedVideoDataset)
from .formatting import FormatRGBDiff
from .off_head import OFFHead
from .off_recognizer import OFFRecognizer
from .sampling import IntervalConsistentSampleFrames
from .score_fusion import (check_same_videos, fuse_scores, load_dumped_scores,
                           search_weights, top_k_accuracy)

__all__ = [
    'BNInception', 'CheckedDecordDecode', 'CheckedDecordInit',
    'CheckedRawFrameDecode', 'CheckedRawframeDataset', 'CheckedVideoDataset',
    'FormatRGBDiff', 'IntervalConsistentSampleFrames', 'OFFHead',
    'OFFRecognizer', 'check_same_videos', 'fuse_scores', 'load_dumped_scores',
    'search_weights', 'top_k_accuracy'
]
