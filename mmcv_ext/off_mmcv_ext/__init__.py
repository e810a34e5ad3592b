# Copyright (c) off_plugin authors. All rights reserved.
"""``mmcv._ext`` for mmcv-lite, on torchvision's prebuilt kernels.

mmcv-lite is mmcv's pure-Python wheel: the same Python files as the compiled
mmcv, without the extension module ``mmcv._ext``, so ``import mmcv.ops``
(which mmdet and mmagic do at module level) fails. :func:`install`, run at
interpreter start by ``off_mmcv_ext.pth``, appends a finder to
``sys.meta_path`` that serves ``mmcv._ext`` from :mod:`off_mmcv_ext.ops`.

It is the last finder asked: where a compiled ``mmcv._ext`` exists (the full
mmcv build), Python's own path finder finds it first and this one is never
used. Only the name ``mmcv._ext`` is served; ``mmcv._ext.__file__`` is
``off_mmcv_ext/ops.py``.
"""
import importlib.abc
import importlib.util
import os.path as osp
import sys

__version__ = '1.0.0'

EXT_NAME = 'mmcv._ext'


class MMCVExtFinder(importlib.abc.MetaPathFinder):
    """Finds ``mmcv._ext`` in :mod:`off_mmcv_ext.ops` (nothing else)."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != EXT_NAME:
            return None
        return importlib.util.spec_from_file_location(
            EXT_NAME, osp.join(osp.dirname(__file__), 'ops.py'))


def install() -> None:
    """Append the finder to ``sys.meta_path`` (once)."""
    if not any(isinstance(f, MMCVExtFinder) for f in sys.meta_path):
        sys.meta_path.append(MMCVExtFinder())
