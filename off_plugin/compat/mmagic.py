# Copyright (c) off_plugin authors. All rights reserved.
"""Fixes for mmagic 1.2.0."""
import warnings

import numpy as np

from . import upstream_fix


@upstream_fix(
    'mmagic', '1.2.0', upstream='numpy 2.0 removed np.bool8 (NEP 52)')
def numpy_2_bool8() -> None:
    """Let ``mmagic.utils`` import on numpy 2.

    Upstream bug: ``mmagic/utils/trans_utils.py`` reads ``np.bool8`` when
    it is imported, an alias of ``np.bool_`` that numpy 1.24 deprecated and
    numpy 2.0 removed, so ``import mmagic.utils`` (and with it
    ``register_all_modules`` and every MMagic tool) raises
    ``AttributeError`` on numpy 2, the numpy of Python 3.13. On numpy 1 the
    alias exists and nothing changes.

    Delete when: the pinned mmagic stops reading ``np.bool8`` (no release
    after 1.2.0 so far).
    """
    with warnings.catch_warnings():  # numpy 1 warns on the alias
        warnings.simplefilter('ignore', DeprecationWarning)
        if hasattr(np, 'bool8'):
            return
    np.bool8 = np.bool_


#: every fix of this module
FIXES = (numpy_2_bool8, )
