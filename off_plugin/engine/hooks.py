# Copyright (c) off_plugin authors. All rights reserved.
"""The plugin's reliability policies, as hooks a config selects.

``configs/_base_/off_policies.py`` gathers the default ones (every config of
the project selects them): :class:`AtomicCheckpointHook` as
``default_hooks.checkpoint``, :class:`ExactResumeHook` and
:class:`FiniteLossHook` in ``custom_hooks``. :class:`SkipBadSamplesHook` is
opt-in. None of them is added to a runner its config does not name.
"""
import contextlib
import logging
import multiprocessing
import os.path as osp
import random
from typing import Callable, Optional

import numpy as np
import torch
from mmengine.dist import get_rank, is_main_process
from mmengine.fileio.backends import LocalBackend
from mmengine.hooks import CheckpointHook, Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS
from mmengine.runner import find_latest_checkpoint

from ..utils.fileio import atomic_write
from .checkpoint import check_checkpoint_weights, checkpoint_weights


@HOOKS.register_module()
class FiniteLossHook(Hook):
    """Stop training at the first iteration whose loss is NaN or infinite.

    Every loss the model logs (``loss`` and its parts, ``loss_cls`` ...) is
    checked after each iteration, before the checkpoint hook may save the
    broken weights, and the run ends with one line naming the iteration, the
    losses that are not finite and the last checkpoint written, the one to
    resume from (with a lower learning rate or gradient clipping).

    With mixed precision (``AmpOptimWrapper``) a non-finite loss whose
    gradients made the loss scaler skip the step (it lowered its scale; the
    weights are unchanged) is not divergence: it is logged and training goes
    on, unless ``max_amp_skips`` steps in a row were skipped so.
    """
    priority = 'ABOVE_NORMAL'  # before CheckpointHook and LoggerHook

    def __init__(self, max_amp_skips: int = 10) -> None:
        self.max_amp_skips = max_amp_skips
        self.amp_skips = 0
        self.scale = None

    @staticmethod
    def _loss_scaler(runner):
        return getattr(runner.optim_wrapper, 'loss_scaler', None)

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch=None) -> None:
        scaler = self._loss_scaler(runner)
        self.scale = scaler.get_scale() if scaler is not None and \
            scaler.is_enabled() else None

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        losses = {
            name:
            float(value.detach() if isinstance(value, torch.Tensor) else value)
            for name, value in (outputs or {}).items()
            if 'loss' in name and isinstance(value, (torch.Tensor, float))
        }
        bad = {name: v for name, v in losses.items() if not np.isfinite(v)}
        if not bad:
            self.amp_skips = 0
            return
        described = ', '.join(f'{n} = {v}' for n, v in bad.items())
        if self.scale is not None and \
                self._loss_scaler(runner).get_scale() < self.scale:
            self.amp_skips += 1
            if self.amp_skips <= self.max_amp_skips:
                print_log(
                    f'FiniteLossHook: iteration {runner.iter + 1}: '
                    f'{described}; the AMP loss scaler skipped the step '
                    f'({self.amp_skips} in a row of at most '
                    f'{self.max_amp_skips}).',
                    logger='current',
                    level=logging.WARNING)
                return
            described += (f' ({self.amp_skips} steps in a row skipped by '
                          'the AMP loss scaler)')
        last = runner.message_hub.get_info('last_ckpt')
        saved = (f'the last checkpoint is {last}: resume from it '
                 f'(--resume {last})' if last else 'no checkpoint was saved')
        raise FloatingPointError(
            f'Training diverged at iteration {runner.iter + 1} (epoch '
            f'{runner.epoch + 1}): {described}; nothing was saved after it, '
            f'{saved} with a lower optim_wrapper.optimizer.lr or '
            'optim_wrapper.clip_grad.')


def random_state() -> dict:
    """The states of the random generators training draws from: torch's
    (CPU and every CUDA device), NumPy's and Python's."""
    state = dict(
        torch=torch.get_rng_state(),
        numpy=np.random.get_state(),
        python=random.getstate())
    if torch.cuda.is_available():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_random_state(state: dict) -> None:
    """Restore what :func:`random_state` returned."""
    torch.set_rng_state(state['torch'])
    np.random.set_state(state['numpy'])
    random.setstate(state['python'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


@HOOKS.register_module()
class ExactResumeHook(Hook):
    """Make ``resume`` continue the interrupted run exactly, or refuse.

    mmengine's checkpoints hold the model, optimizer, schedulers and message
    hub, not the random generators' states, and ``resume`` loads weights with
    ``strict=False``. With this hook:

    - checkpoints get ``random_state`` (torch CPU / CUDA, NumPy, Python;
      rank 0's, the rank that writes them), restored when training starts
      after a resume (not after ``load_from``), as the last ``before_train``
      hook, on every rank where ranks draw alike (the default,
      ``diff_rank_seed=False``; otherwise on rank 0 only). Checkpoints
      without it resume as before;
    - resuming from a checkpoint of another model (another config's
      work_dir, a wrong path) is refused in one line naming the file, instead
      of a warning and a partly random model.

    Exact where nothing random runs between the checkpoint and the next
    training iteration of the uninterrupted run but what the resumed run
    repeats: epoch-based loops with ``num_workers=0`` or non-persistent
    workers and no validation at that epoch, iteration-based loops with
    ``num_workers >= 1`` (mmengine replays the skipped batches in the
    workers). A validation after the checkpoint, persistent workers across
    epochs, or ``num_workers=0`` in an iteration-based loop shift the
    draws: the resumed run is then equal in distribution, not bit for bit.

    ``resume``, ``load_from`` and ``randomness`` are read from the config
    the runner was built from (``runner.cfg``; mmengine keeps them in
    private attributes only): a runner of ``Runner.from_cfg``, as the hosts'
    ``tools/train.py`` and ``mim train`` build it.
    """
    priority = 'LOWEST'  # its before_train restores the states: last

    def __init__(self) -> None:
        self.loaded_state = None

    def before_run(self, runner) -> None:
        if not runner.cfg:
            raise ValueError(
                'ExactResumeHook: the runner has no config (runner.cfg) to '
                'read resume and load_from from; build it with '
                'Runner.from_cfg(cfg).')

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['random_state'] = random_state()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if not runner.cfg.get('resume'):  # load_from: the weights only
            return
        filename = runner.cfg.get('load_from') or find_latest_checkpoint(
            runner.work_dir)
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        check_checkpoint_weights(
            model.state_dict(),
            checkpoint_weights(checkpoint),
            filename,
            what='this model, so it cannot be resumed',
            fix='Resume from a checkpoint of this config\'s own run (its '
            'work_dir), or start from those weights with load_from.')
        self.loaded_state = checkpoint.get('random_state')

    def before_train(self, runner) -> None:
        state, self.loaded_state = self.loaded_state, None
        diff_rank_seed = (runner.cfg.get('randomness')
                          or {}).get('diff_rank_seed', False)
        if state is not None and (get_rank() == 0 or not diff_rank_seed):
            set_random_state(state)


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook`` (same arguments) that never leaves a
    part-written checkpoint: a run killed at any moment (pre-emption, out of
    memory, a full disk) keeps its previous checkpoint for ``--resume``.

    Into a local ``out_dir`` each checkpoint is written through
    :func:`~off_plugin.utils.fileio.atomic_write` (``.<name>.tmp-<pid>``
    beside it, flushed to disk, renamed into place), ``last_checkpoint``
    likewise, and with ``max_keep_ckpts`` the oldest
    checkpoint is deleted after the new one is in place, not before as
    upstream does (with ``max_keep_ckpts=1`` a kill during the save left no
    checkpoint at all). Other storage backends and the ``save_best``
    checkpoint are written as upstream writes them. Configs select it as
    ``default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook'))``
    (mmengine merges the dict: the host's ``interval`` and ``save_best``
    stay).
    """

    def _save_checkpoint_with_step(self, runner, step: int,
                                   meta: dict) -> None:
        doomed = []
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and
                                            self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                doomed.append(self.keep_ckpt_ids.popleft())
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids',
                                           list(self.keep_ckpt_ids))
        filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        atomic = type(self.file_backend) is LocalBackend and \
            is_main_process()  # the rank that writes the file
        with (atomic_write(self.last_ckpt)
              if atomic else contextlib.nullcontext(filename)) as saved:
            runner.save_checkpoint(
                self.out_dir,
                osp.basename(saved),
                self.file_client_args,
                save_optimizer=self.save_optimizer,
                save_param_scheduler=self.save_param_scheduler,
                meta=meta,
                by_epoch=self.by_epoch,
                backend_args=self.backend_args,
                **self.args)
        if not is_main_process():
            return
        with atomic_write(osp.join(runner.work_dir, 'last_checkpoint')) as \
                tmp, open(tmp, 'w') as f:
            f.write(self.last_ckpt)
        for old in doomed:  # the new checkpoint is in place
            path = self.file_backend.join_path(self.out_dir,
                                               self.filename_tmpl.format(old))
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):  # DeepSpeed checkpoints
                self.file_backend.rmtree(path)


class BadSampleSkipper:
    """Stands in for a dataset's ``prepare_data``: a sample whose loading
    raises is logged in one line and skipped (``None`` makes mmengine's
    ``BaseDataset`` draw another), up to ``max_skips`` in the run; one more
    is an error. ``skipped`` counts in shared memory, across workers."""

    def __init__(self, prepare: Callable, max_skips: int, skipped) -> None:
        self.prepare = prepare
        self.max_skips = max_skips
        self.skipped = skipped

    def __call__(self, idx: int):
        try:
            return self.prepare(idx)
        except Exception as err:
            with self.skipped.get_lock():
                self.skipped.value += 1
                count = self.skipped.value
            if count > self.max_skips:
                raise RuntimeError(
                    f'SkipBadSamplesHook: bad sample {idx} is one more than '
                    f'the {self.max_skips} this run may skip; fix or remove '
                    'the bad files, or raise its max_skips. '
                    f'({err})') from err
            print_log(
                f'SkipBadSamplesHook: skipped sample {idx} ({count} of at '
                f'most {self.max_skips}): {type(err).__name__}: {err}',
                logger='current',
                level=logging.WARNING)
            return None


@HOOKS.register_module()
class SkipBadSamplesHook(Hook):
    """Skip up to ``max_skips`` training samples that fail to load (a
    corrupt video, a missing frame), one warning line each, with a count at
    the end of every epoch. Without it (the default) the first bad sample
    stops the run, naming its file, and nothing partial is saved. Config:
    ``custom_hooks = [dict(type='SkipBadSamplesHook', max_skips=N)]``."""
    priority = 'VERY_HIGH'

    def __init__(self, max_skips: int) -> None:
        if max_skips < 1:
            raise ValueError(f'SkipBadSamplesHook: max_skips must be >= 1, '
                             f'got {max_skips}; leave the hook out to stop '
                             'at the first bad sample.')
        self.max_skips = max_skips
        self.skipped = multiprocessing.Value('i', 0)
        self.at_epoch_start = 0

    def before_train(self, runner) -> None:
        dataset = runner.train_dataloader.dataset
        if not hasattr(dataset, 'prepare_data'):
            raise TypeError(
                f'SkipBadSamplesHook needs a dataset with prepare_data '
                f'(mmengine BaseDataset), got {type(dataset).__name__}.')
        dataset.prepare_data = BadSampleSkipper(dataset.prepare_data,
                                                self.max_skips, self.skipped)

    def before_train_epoch(self, runner) -> None:
        self.at_epoch_start = self.skipped.value

    def after_train_epoch(self, runner) -> None:
        total = self.skipped.value
        print_log(
            f'SkipBadSamplesHook: {total - self.at_epoch_start} bad samples '
            f'skipped in epoch {runner.epoch + 1}, {total} of at most '
            f'{self.max_skips} in the run.',
            logger='current',
            level=logging.WARNING
            if total > self.at_epoch_start else logging.INFO)


__all__ = [
    'AtomicCheckpointHook', 'BadSampleSkipper', 'ExactResumeHook',
    'FiniteLossHook', 'SkipBadSamplesHook', 'random_state', 'set_random_state'
]
