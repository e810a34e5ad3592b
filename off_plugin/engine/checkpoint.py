# Copyright (c) off_plugin authors. All rights reserved.
"""Checkpoint files: does one belong to this model (one rule for every
place that loads one: resuming a run, stage 2's ``feature_checkpoint``, the
video detector, the inference APIs), and writing one atomically."""
import contextlib
import glob
import os
import os.path as osp
from typing import Callable, Iterable, Mapping, Optional


class CheckpointMismatchError(ValueError):
    """A checkpoint whose weights are not the model's (one-line message)."""


def read_checkpoint(filename: str) -> dict:
    """A checkpoint file (or URL) loaded on the CPU, as mmengine loads it;
    a missing local file is a one-line ``FileNotFoundError`` naming it."""
    from mmengine.runner.checkpoint import _load_checkpoint
    if '://' not in str(filename) and not osp.isfile(filename):
        raise FileNotFoundError(
            f'{filename}: no such checkpoint file; pass the .pth of a run of '
            'this config (in its work_dir).')
    return _load_checkpoint(str(filename), map_location='cpu')


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
    found = '; '.join(
        f'{len(keys)} {kind} (e.g. {keys[0]})'
        for kind, keys in (('weights missing', missing),
                           ('unknown weights', unknown),
                           ('weights of another shape', reshaped)) if keys)
    raise CheckpointMismatchError(
        f'{filename or "the checkpoint"}: not a checkpoint of {what} '
        f'({found}). {fix}')


def remove_stale_temporaries(filepath: str) -> None:
    """Delete the temporary files a killed writer of ``filepath`` left
    (``.<name>.tmp-<pid>`` beside it)."""
    directory, name = osp.split(osp.abspath(filepath))
    for stale in glob.glob(osp.join(directory, f'.{glob.escape(name)}.tmp-*')):
        with contextlib.suppress(OSError):
            os.remove(stale)


def replace_atomically(filepath: str, write: Callable) -> None:
    """Call ``write(f)`` on a temporary file next to ``filepath`` (same
    directory, so same file system), flush it to disk and rename it into
    place: readers see the old file or the whole new one, never a part.
    Temporary files left by a killed writer of the same file are deleted
    first (one writer per file, as a run's checkpoints have)."""
    remove_stale_temporaries(filepath)
    directory, name = osp.split(osp.abspath(filepath))
    tmp = osp.join(directory, f'.{name}.tmp-{os.getpid()}')
    try:
        with open(tmp, 'wb') as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filepath)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
