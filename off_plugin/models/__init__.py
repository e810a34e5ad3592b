# Copyright (c) off_plugin authors. All rights reserved.
from .off_unit import SPATIAL_KERNELS, OFFUnit

__all__ = ['OFFUnit', 'SPATIAL_KERNELS']
