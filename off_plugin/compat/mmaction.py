# Copyright (c) off_plugin authors. All rights reserved.
"""Fixes for mmaction2 1.2.0."""
import importlib.abc
import importlib.machinery
import importlib.util
import sys

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
    """Serves a placeholder for the package ``mmaction.models.localizers.drn``.

    Upstream bug: open-mmlab/mmaction2#2714. ``localizers/__init__.py``
    imports ``.drn.drn.DRN``, but the 1.2.0 wheel lacks the package, so
    ``import mmaction.models`` fails. This finder sits at the end of
    ``sys.meta_path``: it is asked only after the normal finders failed, so a
    complete installation is used as it is. The placeholder registers
    :class:`MissingDRN` as ``DRN``.

    Delete when: the pinned mmaction2 is a release whose wheel ships
    ``localizers/drn`` (none after 1.2.0 so far).
    """

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


def fill_mmaction_drn_hole() -> None:
    """Let ``import mmaction.models`` work with the mmaction2 1.2.0 wheel."""
    if not any(isinstance(f, _MissingDRNFinder) for f in sys.meta_path):
        sys.meta_path.append(_MissingDRNFinder())


def name_files_in_decoding_errors() -> None:
    """Make MMAction2's decoders say which file they could not read.

    Upstream behaviour: a corrupt or truncated video makes ``DecordInit``
    raise ``RuntimeError: Error reading 5000 bytes...`` and a corrupt frame
    makes ``RawFrameDecode`` fail on ``None`` later on, neither naming the
    file, so one bad file among 13,000 cannot be found.
    The wrapped transforms raise the same error type with the file (or frame
    directory) and what to do, the original error chained.

    Delete when: mmaction2's loaders name the file in their errors.
    """
    from mmaction.datasets.transforms import loading

    def naming(transform, key, what):
        if getattr(transform, 'names_file', False):
            return transform

        def wrapped(self, results):
            try:
                return transform(self, results)
            except Exception as err:
                if getattr(err, 'names_file', False):
                    raise
                message = (
                    f'{type(self).__name__} could not read {what} '
                    f'{results.get(key)!r}: {err}. The file is corrupt, '
                    'truncated or not a video; re-encode or re-download it, '
                    'or drop it from the annotation file.')
                try:
                    new = type(err)(message)
                except Exception:  # an error type with other arguments
                    new = RuntimeError(message)
                new.names_file = True
                raise new from err

        wrapped.names_file = True
        return wrapped

    def check_frames(decode):
        """RawFrameDecode: mmcv returns None for an unreadable image."""

        def transform(self, results):
            results = decode(self, results)
            if any(img is None for img in results['imgs']):
                raise ValueError('a frame did not decode (None)')
            return results

        return transform

    for cls, key, what in ((loading.DecordInit, 'filename', 'the video'),
                           (loading.DecordDecode, 'filename', 'the video'),
                           (loading.RawFrameDecode, 'frame_dir',
                            'a frame in')):
        transform = cls.transform
        if cls is loading.RawFrameDecode and not getattr(
                transform, 'names_file', False):
            transform = check_frames(transform)
        cls.transform = naming(transform, key, what)
