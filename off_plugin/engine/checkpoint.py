# Copyright (c) off_plugin authors. All rights reserved.
"""Checkpoint files: reading one and whether it belongs to this model (one
rule for every place that loads one: resuming a run, stage 2's
``feature_checkpoint``, the BN-Inception weights, the video detector, the
inference APIs)."""
import os.path as osp
from typing import Iterable, Mapping, Optional

from mmengine.runner import CheckpointLoader


class CheckpointMismatchError(ValueError):
    """A checkpoint whose weights are not the model's (one-line message)."""


def read_checkpoint(filename: str) -> dict:
    """A checkpoint file (or URL, ``torchvision://`` ...) loaded on the CPU
    by mmengine's ``CheckpointLoader``; a missing local file is a one-line
    ``FileNotFoundError`` naming it."""
    if '://' not in str(filename) and not osp.isfile(filename):
        raise FileNotFoundError(
            f'{filename}: no such checkpoint file; pass the .pth of a run of '
            'this config (in its work_dir).')
    return CheckpointLoader.load_checkpoint(
        str(filename), map_location='cpu', logger=None)


def checkpoint_weights(checkpoint: Mapping) -> dict:
    """The weights of a loaded checkpoint (its ``state_dict``, or the
    checkpoint itself if it is one), without DistributedDataParallel's
    ``module.`` prefix."""
    state = checkpoint.get('state_dict', checkpoint)
    return {k.removeprefix('module.'): v for k, v in state.items()}


def check_checkpoint_weights(own: Mapping,
                             theirs: Mapping,
                             filename: Optional[str],
                             what: str,
                             fix: str,
                             may_miss: Iterable[str] = ()) -> None:
    """Refuse ``theirs`` unless it holds exactly the weights of ``own`` (both
    name -> tensor): none missing (but those whose names start with one of
    ``may_miss``), none unknown, every shape the same.

    The ``CheckpointMismatchError`` is one line: ``<filename>: not a
    checkpoint of <what> (<counts, an example of each>). <fix>``.
    """
    may_miss = tuple(may_miss)
    missing = [
        k for k in own if k not in theirs and not k.startswith(may_miss)
    ]
    unknown = [k for k in theirs if k not in own]
    reshaped = [
        f'{k} {tuple(theirs[k].shape)} vs {tuple(own[k].shape)}' for k in own
        if k in theirs and hasattr(theirs[k], 'shape')
        and tuple(theirs[k].shape) != tuple(own[k].shape)
    ]
    if not (missing or unknown or reshaped):
        return
    found = '; '.join(f'{len(keys)} {kind} (e.g. {keys[0]})'
                      for kind, keys in (('weights missing', missing),
                                         ('unknown weights', unknown),
                                         ('weights of another shape',
                                          reshaped)) if keys)
    raise CheckpointMismatchError(
        f'{filename or "the checkpoint"}: not a checkpoint of {what} '
        f'({found}). {fix}')
