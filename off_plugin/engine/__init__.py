# Copyright (c) off_plugin authors. All rights reserved.
"""What the three tasks share around training (mmengine only): the
checkpoint rules and the reliability policies, hooks a config selects."""
import os.path as osp

from .checkpoint import (CheckpointMismatchError, check_checkpoint_weights,
                         checkpoint_weights, read_checkpoint)
from .hooks import (AtomicCheckpointHook, BadSampleSkipper, ExactResumeHook,
                    FiniteLossHook, SkipBadSamplesHook)

#: the ``_base_`` file of the policies, for a config of your own
POLICIES = osp.join(
    osp.dirname(osp.dirname(osp.abspath(__file__))), '.mim', 'configs',
    '_base_', 'off_policies.py')

__all__ = [
    'AtomicCheckpointHook', 'BadSampleSkipper', 'CheckpointMismatchError',
    'ExactResumeHook', 'FiniteLossHook', 'POLICIES', 'SkipBadSamplesHook',
    'check_checkpoint_weights', 'checkpoint_weights', 'read_checkpoint'
]
