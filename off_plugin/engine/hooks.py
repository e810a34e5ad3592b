# Copyright (c) off_plugin authors. All rights reserved.
"""Hooks that keep a long run from failing silently: a diverged loss stops
it at once, and (opt-in) a few unreadable samples are skipped, counted and
named instead of ending it."""
import logging
import multiprocessing
from typing import Callable, Optional

import torch
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.registry import HOOKS


@HOOKS.register_module()
class FiniteLossHook(Hook):
    """Stop training at the first iteration whose loss is NaN or infinite.

    Every loss the model logs (``loss`` and its parts, ``loss_cls`` ...) is
    checked after each iteration, before the checkpoint hook may save the
    broken weights, and the run ends with one line naming the iteration, the
    losses that are not finite and the last checkpoint written, the one to
    resume from (with a lower learning rate or gradient clipping). Added to
    every runner by ``import off_plugin``.
    """
    priority = 'ABOVE_NORMAL'  # before CheckpointHook and LoggerHook

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        losses = {
            name: float(value.detach() if isinstance(value, torch.Tensor)
                        else value)
            for name, value in (outputs or {}).items()
            if 'loss' in name and isinstance(value, (torch.Tensor, float))
        }
        bad = {name: v for name, v in losses.items()
               if not torch.isfinite(torch.tensor(v))}
        if not bad:
            return
        last = runner.message_hub.get_info('last_ckpt')
        saved = (f'the last checkpoint is {last}: resume from it '
                 f'(--resume {last})' if last else 'no checkpoint was saved')
        raise FloatingPointError(
            f'Training diverged at iteration {runner.iter + 1} (epoch '
            f'{runner.epoch + 1}): '
            + ', '.join(f'{n} = {v}' for n, v in bad.items())
            + f'; nothing was saved after it, {saved} with a lower '
            'optim_wrapper.optimizer.lr or optim_wrapper.clip_grad.')


class BadSampleSkipper:
    """Stands in for a dataset's ``prepare_data``: a sample whose loading
    raises is logged in one line and skipped (``None`` makes mmengine's
    ``BaseDataset`` draw another), up to ``max_skips`` in the run; one more
    is an error. ``skipped`` counts in shared memory, across workers."""

    def __init__(self, prepare: Callable, max_skips: int,
                 skipped) -> None:
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
                    f'skip_bad_samples: bad sample {idx} is one more than '
                    f'the {self.max_skips} this run may skip; fix or remove '
                    f'the bad files, or raise skip_bad_samples. ({err})'
                ) from err
            print_log(
                f'skip_bad_samples: skipped sample {idx} ({count} of at '
                f'most {self.max_skips}): {type(err).__name__}: {err}',
                logger='current', level=logging.WARNING)
            return None


@HOOKS.register_module()
class SkipBadSamplesHook(Hook):
    """Skip up to ``max_skips`` training samples that fail to load (a
    corrupt video, a missing frame), one warning line each, with a count at
    the end of every epoch. Without it (the default) the first bad sample
    stops the run, naming its file, and nothing partial is saved. Config:
    ``skip_bad_samples = N`` (``import off_plugin`` adds this hook)."""
    priority = 'VERY_HIGH'

    def __init__(self, max_skips: int) -> None:
        if max_skips < 1:
            raise ValueError(f'skip_bad_samples must be >= 1, got '
                             f'{max_skips}; leave it unset to stop at the '
                             'first bad sample.')
        self.max_skips = max_skips
        self.skipped = multiprocessing.Value('i', 0)
        self.at_epoch_start = 0

    def before_train(self, runner) -> None:
        dataset = runner.train_dataloader.dataset
        if not hasattr(dataset, 'prepare_data'):
            raise TypeError(
                f'skip_bad_samples needs a dataset with prepare_data '
                f'(mmengine BaseDataset), got {type(dataset).__name__}.')
        dataset.prepare_data = BadSampleSkipper(
            dataset.prepare_data, self.max_skips, self.skipped)

    def before_train_epoch(self, runner) -> None:
        self.at_epoch_start = self.skipped.value

    def after_train_epoch(self, runner) -> None:
        total = self.skipped.value
        print_log(
            f'skip_bad_samples: {total - self.at_epoch_start} bad samples '
            f'skipped in epoch {runner.epoch + 1}, {total} of at most '
            f'{self.max_skips} in the run.', logger='current',
            level=logging.WARNING if total > self.at_epoch_start else
            logging.INFO)


def add_reliability_hooks() -> None:
    """Give every runner a :class:`FiniteLossHook` and, when its config
    sets ``skip_bad_samples = N``, a :class:`SkipBadSamplesHook`."""
    from mmengine.runner import Runner
    register_hooks = Runner.register_hooks
    if getattr(register_hooks, 'reliability', False):
        return

    def register_with_reliability(self, default_hooks=None,
                                  custom_hooks=None) -> None:
        custom_hooks = list(custom_hooks or [])
        types = [
            getattr(h['type'], '__name__', h['type'])
            if isinstance(h, dict) else type(h).__name__
            for h in custom_hooks
        ]
        if 'FiniteLossHook' not in types:
            custom_hooks.append(dict(type='FiniteLossHook'))
        max_skips = (self.cfg or {}).get('skip_bad_samples')
        if max_skips is not None and 'SkipBadSamplesHook' not in types:
            custom_hooks.append(
                dict(type='SkipBadSamplesHook', max_skips=max_skips))
        register_hooks(self, default_hooks, custom_hooks)

    register_with_reliability.reliability = True
    Runner.register_hooks = register_with_reliability


__all__ = ['FiniteLossHook', 'SkipBadSamplesHook', 'BadSampleSkipper',
           'add_reliability_hooks']
