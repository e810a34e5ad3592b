# Copyright (c) off_plugin authors. All rights reserved.
"""Fixes for bugs of the pinned OpenMMLab releases on today's torch and numpy.

mmengine 0.10.7, mmcv 2.1.0, mmdet 3.3.0, mmaction2 1.2.0 and mmagic 1.2.0
are the last releases; they predate torch 2.6. ``import off_plugin`` calls
:func:`apply_all` once, before anything imports the hosts' model packages, so
a config needs nothing but ``custom_imports=dict(imports=['off_plugin'])``.

Every fix names the upstream bug it covers and when it can be deleted. Fixes
that need no code are pins in ``requirements/constraints.txt``.
"""
import collections
import importlib.abc
import importlib.machinery
import importlib.util
import os
import pickle
import sys
from types import FunctionType

import numpy as np
import torch

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
            raise pickle.UnpicklingError(
                f'Refused to load the checkpoint {filename}: it holds a '
                'pickled Python object that is neither a tensor, a plain '
                'container nor a type that mmengine writes, and unpickling '
                'it could run arbitrary code. Use checkpoints saved by '
                'mmengine or torch.save(model.state_dict()); if you trust '
                'this file, allow its type with '
                'torch.serialization.add_safe_globals([...]) before loading. '
                f'torch said: {err}') from err

    load_local_checkpoint.names_refused_file = True
    CheckpointLoader.register_scheme('', load_local_checkpoint, force=True)


def silence_albumentations_update_check() -> None:
    """Keep ``import mmagic.datasets`` off the network.

    Upstream behaviour: albumentations 1.4 (imported by
    ``mmagic.datasets.transforms``) asks PyPI for a newer version on every
    import, which waits on machines without network and warns everywhere
    else. Its documented switch turns that off unless the user set it.

    Delete when: mmagic no longer imports albumentations at module level.
    """
    os.environ.setdefault('NO_ALBUMENTATIONS_UPDATE', '1')


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


def apply_all() -> None:
    """Apply every fix; safe to call more than once."""
    silence_albumentations_update_check()
    fill_mmaction_drn_hole()
    allow_mmengine_checkpoints()
    name_files_in_decoding_errors()
    run_distributed_on_cpu()
