# Copyright (c) off_plugin authors. All rights reserved.
"""Optical Flow guided Feature (OFF) for MMAction2, MMDetection and MMagic.

``custom_imports=dict(imports=['off_plugin'], allow_failed_imports=False)`` in
a config is all it takes: importing the package first applies the fixes for
upstream bugs of the pinned OpenMMLab releases (:mod:`off_plugin.compat`),
then registers the plugin's modules in the host registries and gives every
runner the reliability hooks of :mod:`off_plugin.engine`.
"""
from . import compat

compat.apply_all()

from . import datasets, engine, evaluation, models  # noqa: E402,F401

engine.add_reliability_hooks()
from .version import __version__, version_info  # noqa: E402

__all__ = ['__version__', 'version_info']
