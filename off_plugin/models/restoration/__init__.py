# Copyright (c) off_plugin authors. All rights reserved.
"""Video compression artifact removal with OFF on MMagic."""
from .dncnn import DnCNN, DnCNNOFF
from .off_restorer import OFFRestorer

__all__ = ['DnCNN', 'DnCNNOFF', 'OFFRestorer']
