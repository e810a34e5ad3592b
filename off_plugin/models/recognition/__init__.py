# Copyright (c) off_plugin authors. All rights reserved.
"""Action recognition with OFF on MMAction2."""
from .off_head import OFFHead
from .off_recognizer import OFFRecognizer

__all__ = ['OFFHead', 'OFFRecognizer']
