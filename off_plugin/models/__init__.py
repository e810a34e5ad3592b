# Copyright (c) off_plugin authors. All rights reserved.
from .backbones import BNInception
from .detection import (OFFRefiner, OFFVideoDetector, PSRoIExtractor,
                        RFCNBBoxHead, RFCNRoIHead)
from .off_sub_network import OFFSubNetwork
from .off_unit import SPATIAL_KERNELS, OFFUnit
from .recognition import OFFHead, OFFRecognizer
from .restoration import DnCNN, DnCNNOFF, OFFRestorer

__all__ = [
    'BNInception', 'OFFUnit', 'SPATIAL_KERNELS', 'OFFSubNetwork', 'OFFHead',
    'OFFRecognizer', 'DnCNN', 'DnCNNOFF', 'OFFRestorer', 'OFFRefiner',
    'OFFVideoDetector', 'PSRoIExtractor', 'RFCNBBoxHead', 'RFCNRoIHead'
]
