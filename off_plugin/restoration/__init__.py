# Copyright (c) off_plugin authors. All rights reserved.
"""Video compression artifact removal with OFF on MMagic.

``custom_imports=dict(imports=['off_plugin.restoration'])`` in a config
applies the fixes mmengine 0.10.7 needs on this stack
(:mod:`off_plugin.compat`) and registers the modules below in MMagic's
registries; nothing of MMAction2 or MMDetection is imported. ``ClipPSNR``
registers when ``mmagic.evaluation`` is imported (as MMagic's registry does
to build a metric): that package, with MMagic's optional imports behind it,
costs a second that a task only restoring frames does not pay.
"""
import importlib

from ..compat import apply_task_fixes

apply_task_fixes('restoration')

from .. import core, engine  # noqa: F401
from ..utils.hosts import import_with
from .checks import CheckFrames
from .dncnn import DnCNN, DnCNNOFF
from .inference import (inference_restorer, init_restorer,
                        iter_restored_frames, restore_frames)
from .off_restorer import OFFRestorer
from .vimeo90k import Vimeo90KSeptupletDataset

__all__ = [
    'CheckFrames', 'ClipPSNR', 'DnCNN', 'DnCNNOFF', 'OFFRestorer',
    'Vimeo90KSeptupletDataset', 'inference_restorer', 'init_restorer',
    'iter_restored_frames', 'restore_frames'
]

import_with(f'{__name__}.clip_psnr', 'mmagic.evaluation')


def __getattr__(name: str):
    if name == 'ClipPSNR':  # imports mmagic.evaluation
        return importlib.import_module(f'{__name__}.clip_psnr').ClipPSNR
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
