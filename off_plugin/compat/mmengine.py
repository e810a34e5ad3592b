# Copyright (c) off_plugin authors. All rights reserved.
"""Fixes for mmengine 0.10.7."""
import collections
import functools
import os.path as osp
import pickle
import re
import zipfile
from types import FunctionType

import numpy as np
import torch

from . import upstream_fix


def history_buffer_method(owner: type, name: str):
    """Stands in for ``getattr`` while a checkpoint is unpickled.

    mmengine pickles ``HistoryBuffer._statistics_methods``
    (``HistoryBuffer.min`` and co.) as ``getattr(HistoryBuffer, 'min')``.
    Allowing the real ``getattr`` would let a checkpoint read any attribute
    of any object it builds; this allows exactly those look-ups: public
    functions defined on ``HistoryBuffer``.
    """
    from mmengine.logging import HistoryBuffer
    if (owner is HistoryBuffer and not name.startswith('_')
            and isinstance(vars(HistoryBuffer).get(name), FunctionType)):
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'getattr({owner!r}, {name!r}) is not allowed in a checkpoint.')


def mmengine_checkpoint_types() -> list:
    """What mmengine's Runner writes into checkpoints besides tensors and
    plain containers, in the form of ``torch.serialization.add_safe_globals``:
    the message hub's ``HistoryBuffer`` (numpy arrays and its statistics
    methods inside), numpy scalars in the runtime information and the
    ``Counter`` of ``MultiStepLR``'s milestones."""
    from mmengine.logging import HistoryBuffer
    numeric = '?' + np.typecodes['AllInteger'] + np.typecodes['AllFloat']
    dtype_classes = [type(np.dtype(code)) for code in numeric]
    # numpy 2 (Python 3.13) moved numpy.core to numpy._core: a checkpoint
    # names the module of the numpy that wrote it; both read with either.
    # (the functions an array and a scalar pickle with)
    reconstruct = np.zeros(0).__reduce__()[0]
    scalar = np.float64(0).__reduce__()[0]
    numpy_names = [(function, f'{module}.multiarray.{function.__name__}')
                   for function in (reconstruct, scalar)
                   for module in ('numpy.core', 'numpy._core')]
    return [
        HistoryBuffer, (history_buffer_method, '__builtin__.getattr'),
        (history_buffer_method, 'builtins.getattr'), collections.Counter,
        np.ndarray, np.dtype, *numpy_names, *dict.fromkeys(dtype_classes)
    ]


def refused_checkpoint(filename: str,
                       err: pickle.UnpicklingError) -> pickle.UnpicklingError:
    """The error for a checkpoint that ``weights_only`` refused, in one line
    naming the file, the refused type and the way out."""
    lines = [
        re.sub(r'\x1b\[[0-9;]*m', '', line).strip()
        for line in str(err).splitlines()
    ]
    refused = next((line for line in lines if 'Unsupported global' in line),
                   lines[0] if lines else '')
    return pickle.UnpicklingError(
        f'Refused to load the checkpoint {filename}: it holds a pickled '
        'Python object that is neither a tensor, a plain container nor a '
        'type that mmengine writes, and unpickling it could run arbitrary '
        'code. Use checkpoints saved by mmengine or '
        'torch.save(model.state_dict()); if you trust this file, allow its '
        'type with torch.serialization.add_safe_globals([...]) before '
        f'loading. torch said: {refused}')


def unreadable_checkpoint(filename: str, err: Exception) -> RuntimeError:
    """The error for a checkpoint file torch cannot read at all (truncated,
    empty, not a checkpoint), naming the file and the way out."""
    size = osp.getsize(filename)
    cause = str(err).splitlines()[0] if str(err) else ''
    return RuntimeError(
        f'Cannot read the checkpoint {filename} ({size} bytes): it is '
        'truncated, empty or not a PyTorch checkpoint '
        f'({type(err).__name__}: {cause}). Download or copy it again, or '
        'resume / load from another checkpoint.')


@upstream_fix('mmengine', '0.10.7', 'open-mmlab/mmengine#1655')
def allow_mmengine_checkpoints() -> None:
    """Let ``resume=True`` and ``load_from`` read mmengine checkpoints on
    torch >= 2.6 without turning off ``weights_only``; name the file when
    one cannot be read.

    Upstream bug: mmengine 0.10.7 calls ``torch.load`` without
    ``weights_only``; torch >= 2.6 defaults it to True, and the checkpoints
    mmengine writes hold the types of :func:`mmengine_checkpoint_types`, so
    loading raises ``UnpicklingError`` (open-mmlab/mmengine#1655; fixed on
    mmengine's main branch by open-mmlab/mmengine#1650, not released).
    Here those types, and only those, join torch's allow-list: a checkpoint
    that holds any other pickled object is still refused, and the refusal
    names the file. A file torch cannot read at all (truncated, empty, not
    a checkpoint: torch says "PytorchStreamReader failed ..." or raises
    ``EOFError`` / ``KeyError`` without the file's name) gets one line
    naming it.

    Delete when: the pinned mmengine is a release that loads its own
    checkpoints on torch >= 2.6.
    """
    torch.serialization.add_safe_globals(mmengine_checkpoint_types())

    from mmengine.runner.checkpoint import CheckpointLoader
    load_from_local = CheckpointLoader._schemes['']

    @functools.wraps(load_from_local)
    def load_naming_the_file(filename, map_location):
        try:
            return load_from_local(filename, map_location)
        except pickle.UnpicklingError as err:
            raise refused_checkpoint(filename, err) from err
        except (RuntimeError, EOFError, KeyError, ValueError) as err:
            # a whole zip archive failing is not about the file's bytes
            # (e.g. CUDA tensors on a CPU-only machine): torch's message
            if zipfile.is_zipfile(filename) and \
                    'PytorchStreamReader' not in str(err):
                raise
            raise unreadable_checkpoint(filename, err) from err

    CheckpointLoader.register_scheme('', load_naming_the_file, force=True)


@upstream_fix('mmengine', '0.10.7')
def load_url_checkpoints_weights_only() -> None:
    """Load checkpoints given as URLs (``load_from``, ``pretrained``,
    ``feature_checkpoint``, ``torchvision://``) with ``weights_only`` on,
    as local files are.

    Upstream bug: mmengine 0.10.7's ``load_from_http`` downloads through
    ``torch.hub.load_state_dict_from_url``, whose ``weights_only`` defaults
    to False, so a downloaded checkpoint may run arbitrary code while it is
    unpickled; local files get torch's safe default. Here the same function
    is called with ``weights_only=True``: the download, the cache
    (``$TORCH_HOME/hub/checkpoints``), the hash check of ``-<sha256
    prefix>.pth`` names and rank 0 downloading first in distributed runs are
    unchanged. A refused file is named with the URL and the cache path.

    Delete when: mmengine loads URL checkpoints with ``weights_only=True``.
    """
    from mmengine.runner import checkpoint

    @functools.wraps(checkpoint.load_url)
    def load_url(url, model_dir=None, map_location=None, progress=True):
        try:
            return torch.hub.load_state_dict_from_url(
                url,
                model_dir=model_dir,
                map_location=map_location,
                progress=progress,
                weights_only=True)
        except pickle.UnpicklingError as err:
            cache = model_dir or osp.join(torch.hub.get_dir(), 'checkpoints')
            raise refused_checkpoint(f'{url} (cached in {cache})',
                                     err) from err

    checkpoint.load_url = load_url


@upstream_fix('mmengine', '0.10.7')
def run_distributed_on_cpu() -> None:
    """Let ``--launcher pytorch`` train on CPUs (gloo), e.g. to test
    multi-process training without GPUs.

    Upstream behaviour: mmengine's PyTorch launcher calls
    ``torch.cuda.set_device(local_rank)`` and the Runner wraps the model in
    DDP with ``device_ids=[local_rank]``, so without CUDA ``init_dist``
    fails with "Found no NVIDIA driver" and DDP refuses a CPU module with
    device ids. Without CUDA the launcher now only initialises the process
    group (``nccl`` becomes ``gloo``) and DDP gets ``device_ids=None``; with
    CUDA nothing changes.

    Delete when: mmengine supports distributed training on CPU.
    """
    from mmengine.dist import utils
    from mmengine.model import MMDistributedDataParallel

    init_pytorch = utils._init_dist_pytorch

    @functools.wraps(init_pytorch)
    def _init_dist_pytorch(backend, init_backend='torch', **kwargs):
        if torch.cuda.is_available() or init_backend != 'torch':
            return init_pytorch(backend, init_backend, **kwargs)
        torch.distributed.init_process_group(
            backend='gloo' if backend == 'nccl' else backend, **kwargs)

    utils._init_dist_pytorch = _init_dist_pytorch
    ddp_init = MMDistributedDataParallel.__init__

    @functools.wraps(ddp_init)
    def __init__(self, module, *args, **kwargs):
        if not torch.cuda.is_available():
            kwargs['device_ids'] = None
        ddp_init(self, module, *args, **kwargs)

    MMDistributedDataParallel.__init__ = __init__


#: every fix of this module, in the order they are applied
FIXES = (allow_mmengine_checkpoints, load_url_checkpoints_weights_only,
         run_distributed_on_cpu)
