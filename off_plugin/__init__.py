# Copyright (c) off_plugin authors. All rights reserved.
"""Optical Flow guided Feature (OFF) for MMAction2, MMDetection and MMagic.

One entry point per task: ``custom_imports=dict(imports=[
'off_plugin.recognition'], allow_failed_imports=False)`` in a config (or
``off_plugin.detection``, ``off_plugin.restoration``) applies the fixes its
hosts need and registers its modules, importing no other host.
``off_plugin.all_tasks`` imports every task whose host is installed.

``import off_plugin`` itself imports no task: Python imports a package
before any of its submodules, so the package cannot import tasks without
every single-task entry point paying for all of them. A task is imported
when it is named (``import off_plugin.recognition``, ``from off_plugin
import recognition``) or first used as an attribute (``off_plugin.
detection``, through the module ``__getattr__`` of PEP 562).

``off_plugin.startup`` runs at interpreter start in an environment made
by ``tools/setup_env.sh``: the fixes that must precede a host's own import.

The plugin's reliability policies (exact resume, atomic checkpoints, stop on
a non-finite loss) are hooks a config selects:
``configs/_base_/off_policies.py``.
"""
import importlib

from .version import __version__, version_info

__all__ = ['__version__', 'version_info']


def __getattr__(name: str):
    """``off_plugin.<task>``: import the task on first use."""
    from .utils.hosts import TASKS
    if name in TASKS:
        return importlib.import_module(f'{__name__}.{name}')
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
