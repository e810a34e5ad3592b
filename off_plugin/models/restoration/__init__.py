# Copyright (c) off_plugin authors. All rights reserved.
"""Video compression artifact removal with OFF on MMagic."""
from .dncnn import DnCNN, DnCNNOFF
from .inference import (inference_restorer, init_restorer,
                        iter_restored_frames, restore_frames)
from .off_restorer import OFFRestorer

__all__ = [
    'DnCNN', 'DnCNNOFF', 'OFFRestorer', 'init_restorer', 'inference_restorer',
    'iter_restored_frames', 'restore_frames'
]
