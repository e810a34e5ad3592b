# Copyright (c) off_plugin authors. All rights reserved.
"""A NaN or infinite loss stops the run at once, naming the iteration, the
losses and the checkpoint to resume from; nothing is saved after it."""
import re

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner
from tiny_runs import restorer_config

import off_plugin.restoration  # noqa: F401
from off_plugin.engine import FiniteLossHook


def test_a_diverging_config_stops_at_its_first_nan_loss(tmp_path):
    """DnCNN_OFF(3) with Adam at lr 1e4: the weights blow up within a few
    iterations. Checkpoints every 2 iterations: the run must stop at the
    first iteration whose loss is not finite and name the last one saved."""
    config = restorer_config(
        tmp_path, '''
        optim_wrapper = dict(optimizer=dict(lr=1e4))
        train_cfg = dict(max_iters=50, val_interval=100)
        default_hooks = dict(checkpoint=dict(interval=2),
                             logger=dict(interval=1))
        ''')
    cfg = Config.fromfile(config)
    cfg.work_dir = str(tmp_path / 'work')
    runner = Runner.from_cfg(cfg)
    assert sum(isinstance(h, FiniteLossHook) for h in runner.hooks) == 1
    with pytest.raises(FloatingPointError) as info:
        runner.train()
    message = str(info.value)
    assert '\n' not in message
    stopped = int(re.search(r'at iteration (\d+)', message).group(1))
    assert 1 < stopped < 50
    assert re.search(r'loss = (nan|inf)', message)
    saved = sorted((tmp_path / 'work').glob('iter_*.pth'))
    last = max(saved, key=lambda p: int(p.stem.split('_')[1]))
    # every 2 iterations up to the one before the divergence, none after
    assert int(last.stem.split('_')[1]) == (stopped - 1) // 2 * 2
    assert f'resume from it (--resume {last})' in message
    weights = torch.load(last, weights_only=False)['state_dict']
    assert all(
        torch.isfinite(w).all() for w in weights.values()
        if w.is_floating_point())


class StubRunner:
    """What FiniteLossHook reads of a runner."""

    def __init__(self, loss_scaler=None):
        from mmengine.logging import MessageHub
        self.optim_wrapper = type('OptimWrapper', (),
                                  dict(loss_scaler=loss_scaler))()
        self.message_hub = MessageHub.get_instance('finite_loss_test')
        self.iter, self.epoch = 0, 0


def amp_step(scaler, weight, loss):
    """One mixed-precision step as AmpOptimWrapper takes it: the scaled
    loss backwards, the step (skipped on inf / NaN gradients), update."""
    optimizer = torch.optim.SGD([weight], lr=0.1)
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()


def test_an_overflow_the_amp_loss_scaler_skipped_is_not_divergence(caplog):
    """A loss scaler halves its scale and skips the step when the scaled
    gradients overflow: the weights are unchanged, training goes on; only
    ``max_amp_skips`` such steps in a row stop the run."""
    scaler = torch.amp.GradScaler('cpu', init_scale=2.**16)
    runner = StubRunner(scaler)
    hook = FiniteLossHook(max_amp_skips=2)
    weight = torch.nn.Parameter(torch.ones(3))
    for i in range(3):
        runner.iter = i
        hook.before_train_iter(runner, i)
        loss = (weight * float('inf')).sum()
        amp_step(scaler, weight, loss)
        if i < 2:  # skipped by the scaler: logged, not raised
            hook.after_train_iter(runner, i, outputs=dict(loss=loss))
    assert torch.equal(weight.detach(), torch.ones(3))
    assert scaler.get_scale() == 2.**13
    # the third skip in a row is one more than max_amp_skips
    with pytest.raises(FloatingPointError, match='3 steps in a row skipped'):
        hook.after_train_iter(runner, 2, outputs=dict(loss=loss))
    # a finite loss resets the count
    hook.amp_skips = 2
    hook.before_train_iter(runner, 3)
    hook.after_train_iter(runner, 3, outputs=dict(loss=torch.tensor(1.)))
    assert hook.amp_skips == 0


def test_a_nan_loss_whose_step_was_taken_stops_an_amp_run():
    """A NaN loss with a loss scaler that did not lower its scale (the step
    was taken, or no scaler is enabled) is divergence."""
    scaler = torch.amp.GradScaler('cpu', init_scale=2.**16)
    for runner in (StubRunner(scaler), StubRunner(None)):
        hook = FiniteLossHook()
        hook.before_train_iter(runner, 0)
        with pytest.raises(
                FloatingPointError, match=r'iteration 1 .*loss_cls = nan'):
            hook.after_train_iter(
                runner,
                0,
                outputs=dict(
                    loss_cls=torch.tensor(float('nan')),
                    acc=torch.tensor(float('nan'))))
