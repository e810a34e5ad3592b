# Copyright (c) off_plugin authors. All rights reserved.
"""The restoration tier: its host only, the task imported (with its
upstream fixes) before any test module imports the host."""
import pytest
from restoration_clips import make_restoration_clips

from off_plugin.restoration.vimeo90k import compress_septuplets


@pytest.fixture(scope='package')
def tiny_vimeo(tmp_path_factory):
    """A few real 32x24 septuplets in the Vimeo-90K layout, JPEG 2000 q40."""
    root = tmp_path_factory.mktemp('vimeo_septuplet')
    make_restoration_clips(str(root), size=(32, 24))
    for name, keep in (('sep_trainlist.txt', 4), ('sep_vallist.txt', 2),
                       ('sep_testlist.txt', 2)):
        clips = (root / name).read_text().split()[:keep]
        (root / name).write_text(''.join(c + '\n' for c in clips))
    assert compress_septuplets(str(root), [40]) == []
    return root
