# Copyright (c) off_plugin authors. All rights reserved.
"""Fixes for mmengine 0.10.7."""
import collections
import os.path as osp
import pickle
from types import FunctionType

import numpy as np
import torch


def history_buffer_method(owner: type, name: str):
    """Stands in for ``getattr`` while a checkpoint is unpickled.

    mmengine pickles ``HistoryBuffer._statistics_methods`` (``HistoryBuffer.min``
    and co.) as ``getattr(HistoryBuffer, 'min')``. Allowing the real
    ``getattr`` would let a checkpoint read any attribute of any object it
    builds; this allows exactly those look-ups: public functions defined on
    ``HistoryBuffer``.
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
    multiarray = np.core.multiarray
    numeric = '?' + np.typecodes['AllInteger'] + np.typecodes['AllFloat']
    dtype_classes = [type(np.dtype(code)) for code in numeric]
    return [
        HistoryBuffer, (history_buffer_method, '__builtin__.getattr'),
        (history_buffer_method, 'builtins.getattr'), collections.Counter,
        np.ndarray, np.dtype, multiarray._reconstruct, multiarray.scalar,
        *dict.fromkeys(dtype_classes)
    ]


def refused_checkpoint(filename: str,
                       err: pickle.UnpicklingError) -> pickle.UnpicklingError:
    """The error for a checkpoint that ``weights_only`` refused, naming the
    file and the way out."""
    return pickle.UnpicklingError(
        f'Refused to load the checkpoint {filename}: it holds a pickled '
        'Python object that is neither a tensor, a plain container nor a '
        'type that mmengine writes, and unpickling it could run arbitrary '
        'code. Use checkpoints saved by mmengine or '
        'torch.save(model.state_dict()); if you trust this file, allow its '
        'type with torch.serialization.add_safe_globals([...]) before '
        f'loading. torch said: {err}')


def allow_mmengine_checkpoints() -> None:
    """Let ``resume=True`` and ``load_from`` read mmengine checkpoints on
    torch >= 2.6 without turning off ``weights_only``.

    Upstream bug: mmengine 0.10.7 calls ``torch.load`` without
    ``weights_only``; torch >= 2.6 defaults it to True, and the checkpoints
    mmengine writes hold the types of :func:`mmengine_checkpoint_types`, so
    loading raises ``UnpicklingError`` (open-mmlab/mmengine#1655; fixed on
    mmengine's main branch by open-mmlab/mmengine#1650, not released).
    Here those types, and only those, join torch's allow-list: a checkpoint
    that holds any other pickled object is still refused, and the refusal
    names the file.

    Delete when: the pinned mmengine is a release that loads its own
    checkpoints on torch >= 2.6.
    """
    torch.serialization.add_safe_globals(mmengine_checkpoint_types())

    from mmengine.runner.checkpoint import CheckpointLoader
    load_from_local = CheckpointLoader._schemes['']
    if getattr(load_from_local, 'names_refused_file', False):
        return

    def load_local_checkpoint(filename, map_location):
        try:
            return load_from_local(filename, map_location)
        except pickle.UnpicklingError as err:
            raise refused_checkpoint(filename, err) from err

    load_local_checkpoint.names_refused_file = True
    CheckpointLoader.register_scheme('', load_local_checkpoint, force=True)


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
    if getattr(checkpoint.load_url, 'weights_only', False):
        return

    def load_url(url, model_dir=None, map_location=None, progress=True):
        try:
            return torch.hub.load_state_dict_from_url(
                url, model_dir=model_dir, map_location=map_location,
                progress=progress, weights_only=True)
        except pickle.UnpicklingError as err:
            cache = model_dir or osp.join(torch.hub.get_dir(), 'checkpoints')
            raise refused_checkpoint(
                f'{url} (cached in {cache})', err) from err

    load_url.weights_only = True
    checkpoint.load_url = load_url


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
    if not getattr(init_pytorch, 'cpu_aware', False):

        def _init_dist_pytorch(backend, init_backend='torch', **kwargs):
            if torch.cuda.is_available() or init_backend != 'torch':
                return init_pytorch(backend, init_backend, **kwargs)
            torch.distributed.init_process_group(
                backend='gloo' if backend == 'nccl' else backend, **kwargs)

        _init_dist_pytorch.cpu_aware = True
        utils._init_dist_pytorch = _init_dist_pytorch

    ddp_init = MMDistributedDataParallel.__init__
    if not getattr(ddp_init, 'cpu_aware', False):

        def __init__(self, module, *args, **kwargs):
            if not torch.cuda.is_available():
                kwargs['device_ids'] = None
            ddp_init(self, module, *args, **kwargs)

        __init__.cpu_aware = True
        MMDistributedDataParallel.__init__ = __init__
