# Copyright (c) off_plugin authors. All rights reserved.
"""Fixes for mmagic 1.2.0."""
import os


def silence_albumentations_update_check() -> None:
    """Keep ``import mmagic.datasets`` off the network.

    Upstream behaviour: albumentations 1.4 (imported by
    ``mmagic.datasets.transforms``) asks PyPI for a newer version on every
    import, which waits on machines without network and warns everywhere
    else. Its documented switch turns that off unless the user set it.

    Delete when: mmagic no longer imports albumentations at module level.
    """
    os.environ.setdefault('NO_ALBUMENTATIONS_UPDATE', '1')
