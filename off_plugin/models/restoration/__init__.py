# Copyright (c) off_plugin authors. All rights reserved.
"""Video compression artifact removal with OFF on MMagic."""
from .dncnn import DnCNN, DnCNNOFF
from .inference import restore_frames
from .off_restorer import OFFRestorer

__all__ = ['DnCNN', 'DnCNNOFF', 'OFFRestorer', 'restore_frames']
