# Copyright (c) off_plugin authors. All rights reserved.
"""Feature generation sub-networks missing from the host packages."""
from .bninception import BNInception

__all__ = ['BNInception']
