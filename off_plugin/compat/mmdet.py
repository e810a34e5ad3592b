# Copyright (c) off_plugin authors. All rights reserved.
"""Fixes for mmdet 3.3.0."""
import functools

from . import upstream_fix


@upstream_fix('mmdet', '3.3.0', patches='mmdet.datasets')
def repr_of_pack_track_inputs() -> None:
    """Let ``repr`` print a pipeline that packs video frames.

    Upstream bug: ``PackTrackInputs.__repr__`` reads
    ``self.default_meta_keys``, which ``__init__`` never sets (it keeps them
    in ``meta_keys``), so printing the transform, a ``Compose`` or a dataset
    holding it raises ``AttributeError``.

    Delete when: the pinned mmdet sets the attribute it prints (no release
    after 3.3.0 so far).
    """
    from mmdet.datasets.transforms import PackTrackInputs

    @functools.wraps(PackTrackInputs.__repr__)
    def __repr__(self) -> str:
        return f'{type(self).__name__}(meta_keys={self.meta_keys})'

    PackTrackInputs.__repr__ = __repr__


#: every fix of this module
FIXES = (repr_of_pack_track_inputs, )
