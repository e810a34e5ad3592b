# Copyright (c) off_plugin authors. All rights reserved.
"""Fixes for mmengine 0.10.7."""
import collections
import contextlib
import glob
import io
import os
import os.path as osp
import pickle
import re
import zipfile
from types import FunctionType

import numpy as np
import torch


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
    """The error for a checkpoint that ``weights_only`` refused, in one line
    naming the file, the refused type and the way out."""
    lines = [re.sub(r'\x1b\[[0-9;]*m', '', line).strip()
             for line in str(err).splitlines()]
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
    if getattr(load_from_local, 'names_refused_file', False):
        return

    def load_local_checkpoint(filename, map_location):
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


def replace_atomically(filepath: str, write) -> None:
    """Call ``write(f)`` on a temporary file next to ``filepath`` (same
    directory, so same file system), flush it to disk and rename it into
    place: readers see the old file or the whole new one, never a part.
    A temporary file left by a killed writer is deleted by the next write
    of the same file."""
    directory, name = osp.split(osp.abspath(filepath))
    for stale in glob.glob(osp.join(directory, f'.{glob.escape(name)}.tmp-*')):
        with contextlib.suppress(OSError):
            os.remove(stale)
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


class DeferredRemoval:
    """A file backend whose ``remove`` and ``rmtree`` only note the path
    (in ``doomed``); everything else goes to ``backend``."""

    def __init__(self, backend, doomed: list) -> None:
        self._backend = backend
        self._doomed = doomed

    def __getattr__(self, name):
        return getattr(self._backend, name)

    def remove(self, path) -> None:
        self._doomed.append((self._backend.remove, path))

    def rmtree(self, path) -> None:
        self._doomed.append((self._backend.rmtree, path))


def atomic_checkpoints() -> None:
    """Write checkpoints and ``last_checkpoint`` atomically, and delete an
    old checkpoint only once the new one is in place, so that a run killed
    at any moment (pre-emption, out of memory, a full disk) leaves the
    previous checkpoint intact for ``--resume``.

    Upstream bugs, mmengine 0.10.7: ``LocalBackend.put`` (through which
    ``save_checkpoint`` writes) and ``put_text`` open the target itself with
    ``'wb'`` / ``'w'``, so a killed write leaves a truncated checkpoint
    under the final name; ``CheckpointHook`` writes ``last_checkpoint`` the
    same way, and with ``max_keep_ckpts`` it deletes the oldest kept
    checkpoint *before* saving the new one (with ``max_keep_ckpts=1``, a
    kill during the save leaves no checkpoint at all). Here local writes go
    to a temporary file in the same directory, flushed and renamed into
    place (:func:`replace_atomically`), and the hook's deletions wait until
    the new checkpoint and ``last_checkpoint`` are written.

    Delete when: mmengine writes checkpoints atomically and prunes after
    saving (not the case up to 0.10.7).
    """
    from mmengine.fileio.backends import LocalBackend
    from mmengine.hooks import CheckpointHook, checkpoint_hook

    if getattr(LocalBackend.put, 'atomic', False):
        return

    def put(self, obj: bytes, filepath) -> None:
        os.makedirs(osp.dirname(osp.abspath(filepath)), exist_ok=True)
        replace_atomically(filepath, lambda f: f.write(obj))

    def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
        put(self, obj.encode(encoding), filepath)

    def open_atomically(file, mode='r', *args, **kwargs):
        """The hook module's ``open``: writes of whole files (``'w'``)
        replace them atomically, everything else is the builtin."""
        if mode != 'w':
            return open(file, mode, *args, **kwargs)
        return AtomicTextFile(file)

    save_with_step = CheckpointHook._save_checkpoint_with_step

    def _save_checkpoint_with_step(self, runner, step, meta):
        backend, doomed = self.file_backend, []
        self.file_backend = DeferredRemoval(backend, doomed)
        try:
            save_with_step(self, runner, step, meta)
        finally:
            self.file_backend = backend
        for remove, path in doomed:  # the new checkpoint is in place
            remove(path)

    put.atomic = True
    LocalBackend.put = put
    LocalBackend.put_text = put_text
    checkpoint_hook.open = open_atomically
    CheckpointHook._save_checkpoint_with_step = _save_checkpoint_with_step


class AtomicTextFile(io.StringIO):
    """A text file opened for writing whose content replaces ``path``
    atomically when it is closed without an error."""

    def __init__(self, path) -> None:
        super().__init__()
        self.path = path

    def __exit__(self, exc_type, *exc):
        if exc_type is None:
            text = self.getvalue().encode()
            replace_atomically(self.path, lambda f: f.write(text))
        return super().__exit__(exc_type, *exc)


def random_state() -> dict:
    """The states of the random generators training draws from: torch's
    (CPU and every CUDA device), NumPy's and Python's."""
    import random
    state = dict(torch=torch.get_rng_state(), numpy=np.random.get_state(),
                 python=random.getstate())
    if torch.cuda.is_available():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_random_state(state: dict) -> None:
    """Restore what :func:`random_state` returned."""
    import random
    torch.set_rng_state(state['torch'])
    np.random.set_state(state['numpy'])
    random.setstate(state['python'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


def check_same_model(model: torch.nn.Module, filename: str,
                     checkpoint: dict) -> None:
    """Refuse, in one line, a checkpoint whose weights are not exactly
    ``model``'s (:func:`~off_plugin.engine.checkpoint.check_checkpoint_weights`
    has the rule)."""
    from ..engine.checkpoint import (check_checkpoint_weights,
                                     checkpoint_weights)
    check_checkpoint_weights(
        model.state_dict(), checkpoint_weights(checkpoint), filename,
        what='this model, so it cannot be resumed',
        fix='Resume from a checkpoint of this config\'s own run (its '
        'work_dir), or start from those weights with load_from.')


def resume_exactly() -> None:
    """Make ``resume`` continue the interrupted run exactly, or refuse.

    Upstream gaps, mmengine 0.10.7:

    - Checkpoints hold the model, optimizer, schedulers and message hub,
      not the random generators' states; ``resume`` seeds them afresh from
      ``randomness.seed``, so every dropout mask and augmentation after the
      resume point differs from the uninterrupted run. Here checkpoints get
      ``random_state`` (torch CPU / CUDA, NumPy, Python; rank 0's, the rank
      that writes them), restored at the end of ``Runner.resume`` (not by
      ``load_from``) on every rank where ranks draw alike (the default,
      ``diff_rank_seed=False``; otherwise on rank 0 only). Checkpoints
      without it resume as before.
    - ``resume`` loads the weights with ``strict=False``: a checkpoint of
      another model (another config's work_dir, a wrong path) resumes with
      a warning and trains on a partly random model. Here it is refused
      (:func:`check_same_model`).

    Exact where nothing random runs between the checkpoint and the next
    training iteration of the uninterrupted run but what the resumed run
    repeats: epoch-based loops with ``num_workers=0`` or non-persistent
    workers and no validation at that epoch, iteration-based loops with
    ``num_workers >= 1`` (mmengine replays the skipped batches in the
    workers). A validation after the checkpoint, persistent workers across
    epochs, or ``num_workers=0`` in an iteration-based loop shift the
    draws: the resumed run is then equal in distribution, not bit for bit.

    Delete when: mmengine saves and restores the generators' states and
    resumes strictly.
    """
    from mmengine.dist import get_rank
    from mmengine.model import is_model_wrapper
    from mmengine.runner import Runner
    call_hook, resume = Runner.call_hook, Runner.resume
    if getattr(resume, 'exactly', False):
        return

    def call_hook_for_resume(self, fn_name: str, **kwargs) -> None:
        checkpoint = kwargs.get('checkpoint')
        if fn_name == 'before_save_checkpoint':
            checkpoint['random_state'] = random_state()
        elif fn_name == 'after_load_checkpoint' and \
                '_resuming_from' in self.__dict__:
            model = self.model.module if is_model_wrapper(
                self.model) else self.model
            check_same_model(model, self._resuming_from, checkpoint)
            self._loaded_random_state = checkpoint.get('random_state')
        call_hook(self, fn_name, **kwargs)

    def resume_exactly_(self, filename, *args, **kwargs) -> None:
        self._resuming_from = filename
        try:
            resume(self, filename, *args, **kwargs)
        finally:
            del self._resuming_from
        # last: resume may seed the generators again (another seed)
        state = self.__dict__.pop('_loaded_random_state', None)
        diff_rank_seed = (self._randomness_cfg or {}).get(
            'diff_rank_seed', False)
        if state is not None and (get_rank() == 0 or not diff_rank_seed):
            set_random_state(state)

    resume_exactly_.exactly = True
    Runner.call_hook = call_hook_for_resume
    Runner.resume = resume_exactly_
