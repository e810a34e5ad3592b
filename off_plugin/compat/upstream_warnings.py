# Copyright (c) off_plugin authors. All rights reserved.
"""The upstream deprecation warnings a user of the pinned stack cannot act
on, in one place.

Each entry hides exactly one known message (by its start, category and,
where the message is generic, the module that warns), says where it comes
from and when it can go. Everything else, errors included, still shows.
The same table serves this process (:func:`silence_upstream_warnings`) and
the ``mim`` subprocesses the demos start (:func:`pythonwarnings`), whose
scripts import mmengine before ``custom_imports`` imports off_plugin.
"""
import os
import re
import warnings
from typing import NamedTuple


class UpstreamWarning(NamedTuple):
    message: str  # the start of the message, literal
    category: type
    module: str  # the module that warns, exact; '' for any
    source: str  # who triggers it, why nobody here can fix it
    delete_when: str


UPSTREAM_WARNINGS = (
    UpstreamWarning(
        'pkg_resources is deprecated as an API', UserWarning, '',
        'mmengine 0.10.7 (utils/package_utils.py, config inheritance from '
        '`mmaction::`) and openmim import pkg_resources; setuptools < 81 is '
        'pinned so that it still exists (requirements/constraints.txt)',
        'mmengine and openmim releases use importlib.metadata'),
    UpstreamWarning(
        'Importing from timm.models.layers is deprecated', FutureWarning,
        'timm.models.layers',
        'mmaction2 1.2.0 (models/multimodal) imports timm.models.layers',
        'mmaction2 imports timm.layers'),
    *(UpstreamWarning(
        '', FutureWarning, module,
        'mmagic 1.2.0 imports diffusers modules by their pre-0.26 paths '
        '(diffusers 0.28.2 is pinned: newer ones lack modules mmagic needs)',
        'mmagic imports the new paths or drops diffusers')
      for module in ('diffusers.models.transformers.transformer_2d',
                     'diffusers.models.dual_transformer_2d',
                     'diffusers.models.unet_2d_condition')),
)


def silence_upstream_warnings() -> None:
    """Ignore the warnings of :data:`UPSTREAM_WARNINGS` in this process,
    and keep albumentations off the network.

    albumentations 1.4 (imported by mmdet's and mmagic's transforms, and by
    MMAction2 through mmdet) asks PyPI for a newer version on every import,
    which waits on machines without network and warns everywhere else. Its
    documented switch turns that off unless the user set it. (Delete when:
    the hosts no longer import albumentations at module level.)
    """
    os.environ.setdefault('NO_ALBUMENTATIONS_UPDATE', '1')
    for entry in UPSTREAM_WARNINGS:
        warnings.filterwarnings(
            'ignore',
            message=re.escape(entry.message),
            category=entry.category,
            module=re.escape(entry.module) + r'\Z' if entry.module else '')


def pythonwarnings() -> str:
    """:data:`UPSTREAM_WARNINGS` as a ``PYTHONWARNINGS`` value for a
    subprocess, after the filters already in the environment."""
    filters = [
        f'ignore:{entry.message}:{entry.category.__name__}:{entry.module}'
        for entry in UPSTREAM_WARNINGS
    ]
    current = os.environ.get('PYTHONWARNINGS')
    return ','.join(([current] if current else []) + filters)
