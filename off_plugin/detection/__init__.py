# Copyright (c) off_plugin authors. All rights reserved.
"""Video object detection with OFF on MMDetection.

``custom_imports=dict(imports=['off_plugin.detection'])`` in a config
applies the fixes mmengine 0.10.7 and MMDetection 3.3.0 need on this stack
(:mod:`off_plugin.compat`) and registers the modules below in MMDetection's
registries; nothing of MMAction2 or MMagic is imported.
"""
from ..compat import apply_task_fixes

apply_task_fixes('detection')

from .. import core, engine  # noqa: F401
from .imagenet_vid import ImagenetVIDDataset
from .inference import (inference_video_detector, init_video_detector,
                        iter_video_detections)
from .off_refiner import OFFRefiner
from .off_video_detector import OFFVideoDetector
from .ref_frame_sampling import NeighbourRefFrameSample
from .rfcn import PSRoIExtractor, RFCNBBoxHead, RFCNRoIHead
from .vid_metric import ImagenetVIDMetric

__all__ = [
    'ImagenetVIDDataset', 'ImagenetVIDMetric', 'NeighbourRefFrameSample',
    'OFFRefiner', 'OFFVideoDetector', 'PSRoIExtractor', 'RFCNBBoxHead',
    'RFCNRoIHead', 'inference_video_detector', 'init_video_detector',
    'iter_video_detections'
]
