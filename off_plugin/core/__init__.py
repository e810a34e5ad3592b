# Copyright (c) off_plugin authors. All rights reserved.
"""The OFF unit and the OFF sub-network, shared by the three tasks.

Nothing here imports a host package (MMAction2, MMDetection, MMagic) or
mmcv, only torch and mmengine: the modules register in mmengine's root
``MODELS`` registry, which is the parent of every host's, so each host's
configs build them by their type name.
"""
from .conv import ConvAct
from .off_sub_network import Bottleneck, OFFSubNetwork
from .off_unit import SPATIAL_KERNELS, OFFUnit

__all__ = [
    'Bottleneck', 'ConvAct', 'OFFSubNetwork', 'OFFUnit', 'SPATIAL_KERNELS'
]
