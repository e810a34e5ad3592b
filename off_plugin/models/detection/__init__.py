# Copyright (c) off_plugin authors. All rights reserved.
from .off_refiner import OFFRefiner
from .off_video_detector import OFFVideoDetector
from .rfcn import PSRoIExtractor, RFCNBBoxHead, RFCNRoIHead

__all__ = [
    'OFFRefiner', 'OFFVideoDetector', 'PSRoIExtractor', 'RFCNBBoxHead',
    'RFCNRoIHead'
]
