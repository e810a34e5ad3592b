# Copyright (c) off_plugin authors. All rights reserved.
"""Fixes for bugs of the pinned OpenMMLab releases on today's torch and numpy.

A fix changes upstream code without which something on this stack crashes
or silently computes a wrong result. One module per host; every fix names
the upstream bug (issue or PR where one exists), the release it was
written for and when it can go, and keeps the name and signature of what it
wraps. Each task applies the fixes of the packages it uses when it is
imported (``off_plugin.recognition``: mmengine's and MMAction2's, ...), so a
config needs nothing but ``custom_imports``; a fix of a host module that the
task itself does not import (e.g. ``mmaction.datasets``) is applied right
after that module is imported, so a task costs no import time of its own.
Fixes that need no code are pins in ``requirements/constraints.txt``.

What the plugin adds on purpose (exact resume, atomic checkpoints, stopping
on a non-finite loss, ...) is not here: those are policies, components a
config selects (:mod:`off_plugin.engine`, ``configs/_base_/off_policies.py``).
"""
import functools
import importlib
import importlib.metadata
import warnings
from typing import Callable, Optional, Sequence

import wrapt

from ..utils.hosts import require_host
from .upstream_warnings import (UPSTREAM_WARNINGS, pythonwarnings,
                                silence_upstream_warnings)

__all__ = [
    'UPSTREAM_WARNINGS', 'apply_fixes', 'apply_task_fixes', 'pythonwarnings',
    'silence_upstream_warnings', 'upstream_fix'
]

#: task -> the modules of this package whose ``FIXES`` it applies
TASK_FIXES = dict(
    recognition=('mmengine', 'mmaction'),
    detection=('mmengine', 'mmdet'),
    restoration=('mmengine', 'mmagic'))


def upstream_fix(dist: str,
                 version: str,
                 upstream: Optional[str] = None,
                 patches: Optional[str] = None):
    """Declare the decorated function a fix of ``dist``'s release ``version``
    (``upstream``: the issue or PR, e.g. ``'open-mmlab/mmengine#1655'``;
    ``patches``: the host module it changes, if :func:`apply_fixes` is to
    wait until something imports it).

    The returned function applies the fix once per process and only if
    ``version`` is the installed one; with another version it warns once,
    naming the fix, and leaves upstream alone. It returns whether the fix is
    applied.
    """

    def decorate(apply: Callable[[], None]) -> Callable[[], bool]:

        @functools.wraps(apply)
        def apply_once() -> bool:
            if apply_once.applied is None:
                installed = importlib.metadata.version(dist)
                apply_once.applied = installed == version
                if apply_once.applied:
                    apply()
                else:
                    summary = (apply.__doc__ or '').strip().split('\n')[0]
                    warnings.warn(
                        f'off_plugin: the fix {apply.__module__}.'
                        f'{apply.__name__} ({summary}) was written for '
                        f'{dist} {version}; {dist} {installed} is '
                        'installed, so it is not applied. Check whether '
                        f'{dist} {installed} still needs it' +
                        (f' ({upstream})' if upstream else '') + '.',
                        stacklevel=2)
            return apply_once.applied

        apply_once.applied = None
        apply_once.dist, apply_once.version = dist, version
        apply_once.upstream, apply_once.patches = upstream, patches
        return apply_once

    return decorate


def apply_fixes(fixes: Sequence[Callable[[], bool]]) -> None:
    """Apply ``fixes`` (functions made by :func:`upstream_fix`), after the
    upstream warnings nobody can act on are silenced: now, or, for a fix
    that ``patches`` a module not imported yet, right after it is."""
    silence_upstream_warnings()
    for fix in fixes:
        if fix.patches is None:
            fix()
        else:
            wrapt.register_post_import_hook(
                lambda _, fix=fix: fix(), fix.patches)


def apply_task_fixes(task: str) -> None:
    """What a task's entry point does first: check that its host is
    installed (else an ImportError naming the package and the extra), then
    apply the fixes of the packages it uses (:data:`TASK_FIXES`)."""
    require_host(task)
    for name in TASK_FIXES[task]:
        apply_fixes(importlib.import_module(f'{__name__}.{name}').FIXES)
