# Copyright (c) off_plugin authors. All rights reserved.
"""Training-loop hooks shared by the three tasks."""
from .hooks import (BadSampleSkipper, FiniteLossHook, SkipBadSamplesHook,
                    add_reliability_hooks)

__all__ = ['BadSampleSkipper', 'FiniteLossHook', 'SkipBadSamplesHook',
           'add_reliability_hooks']
