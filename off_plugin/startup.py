# Copyright (c) off_plugin authors. All rights reserved.
"""Fixes that must run before a host module does, in every process.

Some upstream bugs crash while a host module is being imported, and some
processes import it before a config's ``custom_imports`` can import the
plugin: ``mim train mmagic`` runs MMagic's ``tools/train.py``, whose first
lines import ``mmagic.utils``. ``tools/setup_env.sh`` puts ``import
off_plugin.startup; off_plugin.startup.install()`` in the environment's
``off_plugin.pth``, which Python's ``site`` runs at interpreter start.

:func:`install` adds a finder that waits for the host modules named in
:data:`BEFORE_IMPORT` and, right before one is imported, applies its fixes
(functions of :mod:`off_plugin.compat`, each naming its bug). It finds
nothing itself: the usual finders import the module. Until a listed module
is imported nothing else is imported, so a process that never imports it
pays a few microseconds.
"""
import importlib
import importlib.abc
import sys

#: host module -> the fixes (``module:function``) to apply before it runs
BEFORE_IMPORT = {
    'mmagic.utils.trans_utils': ('off_plugin.compat.mmagic:numpy_2_bool8', ),
    # `mim download` imports no part of the plugin
    'mim': ('off_plugin.compat.openmim:download_entries_without_weights', ),
}


class BeforeImport(importlib.abc.MetaPathFinder):
    """Applies the fixes of :data:`BEFORE_IMPORT` when a module named there
    is about to be imported; finds no module."""

    def find_spec(self, fullname, path=None, target=None):
        for fix in BEFORE_IMPORT.get(fullname, ()):
            module, _, function = fix.partition(':')
            getattr(importlib.import_module(module), function)()
        return None


def install() -> None:
    """Put the finder first in ``sys.meta_path`` (once)."""
    if not any(isinstance(f, BeforeImport) for f in sys.meta_path):
        sys.meta_path.insert(0, BeforeImport())
