# Copyright (c) off_plugin authors. All rights reserved.
"""Optical Flow guided Feature (OFF) for MMAction2, MMDetection and MMagic.

One entry point per task: ``custom_imports=dict(imports=[
'off_plugin.recognition'], allow_failed_imports=False)`` in a config (or
``off_plugin.detection``, ``off_plugin.restoration``) applies the fixes its
hosts need and registers its modules, importing no other host. ``import
off_plugin`` imports every task whose host is installed and skips the
others; importing a skipped task names the package it needs.

The plugin's reliability policies (exact resume, atomic checkpoints, stop on
a non-finite loss) are hooks a config selects:
``configs/_base_/off_policies.py``.
"""
import importlib
import sys

from .utils.hosts import TASKS, host_installed
from .version import __version__, version_info

__all__ = ['__version__', 'version_info']


def _importing_a_submodule() -> bool:
    """Whether this package is being imported on the way to one of its
    submodules (``import off_plugin.recognition``, which Python begins by
    importing ``off_plugin``): then only that submodule is wanted. Reads
    the names importlib is loading from its frames; where it cannot tell,
    the answer is no, and every task is imported (slower, not wrong)."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == '_find_and_load' and str(
                frame.f_locals.get('name', '')).startswith(__name__ + '.'):
            return True
        frame = frame.f_back
    return False


if not _importing_a_submodule():
    for _task in TASKS:
        if host_installed(_task):
            importlib.import_module(f'{__name__}.{_task}')
