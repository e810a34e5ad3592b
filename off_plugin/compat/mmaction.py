# Copyright (c) off_plugin authors. All rights reserved.
"""Fixes for mmaction2 1.2.0."""
import importlib.abc
import importlib.machinery
import importlib.util
import sys

from . import upstream_fix

_DRN_PACKAGE = 'mmaction.models.localizers.drn'


class MissingDRN:
    """Stands in for ``mmaction.models.localizers.DRN`` where the wheel lacks
    it; building it raises an error that says so."""

    def __init__(self, *args, **kwargs) -> None:
        raise ImportError(
            'DRN is not available: the mmaction2 1.2.0 wheel does not ship '
            'mmaction/models/localizers/drn/ (open-mmlab/mmaction2#2714). '
            'Install mmaction2 from a source checkout of v1.2.0 '
            '(pip install --no-deps -e <mmaction2 repo>) to use DRN.')


class _MissingDRNFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves a placeholder for the package ``mmaction.models.localizers.drn``
    (:func:`fill_mmaction_drn_hole`). It sits at the end of ``sys.meta_path``:
    it is asked only after the normal finders failed, so a complete
    installation is used as it is. The placeholder registers
    :class:`MissingDRN` as ``DRN``."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname in (_DRN_PACKAGE, f'{_DRN_PACKAGE}.drn'):
            return importlib.util.spec_from_loader(
                fullname, self, is_package=fullname == _DRN_PACKAGE)
        return None

    def create_module(self, spec):
        return None  # the default module object

    def exec_module(self, module) -> None:
        if module.__name__ == f'{_DRN_PACKAGE}.drn':
            from mmaction.registry import MODELS
            MODELS.register_module('DRN', module=MissingDRN)
            module.DRN = MissingDRN


@upstream_fix('mmaction2', '1.2.0', 'open-mmlab/mmaction2#2714')
def fill_mmaction_drn_hole() -> None:
    """Let ``import mmaction.models`` work with the mmaction2 1.2.0 wheel.

    Upstream bug: open-mmlab/mmaction2#2714. ``localizers/__init__.py``
    imports ``.drn.drn.DRN``, but the 1.2.0 wheel lacks the package, so
    ``import mmaction.models`` fails. A finder of last resort
    (:class:`_MissingDRNFinder`) serves a placeholder whose ``DRN`` raises
    an error that says so.

    Delete when: the pinned mmaction2 is a release whose wheel ships
    ``localizers/drn`` (none after 1.2.0 so far).
    """
    if not any(isinstance(f, _MissingDRNFinder) for f in sys.meta_path):
        sys.meta_path.append(_MissingDRNFinder())


#: every fix of this module
FIXES = (fill_mmaction_drn_hole, )
