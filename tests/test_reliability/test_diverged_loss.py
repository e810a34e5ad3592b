# Copyright (c) off_plugin authors. All rights reserved.
"""A NaN or infinite loss stops the run at once, naming the iteration, the
losses and the checkpoint to resume from; nothing is saved after it."""
import re

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

import off_plugin  # noqa: F401
from off_plugin.engine import FiniteLossHook
from tiny_runs import restorer_config


def test_a_diverging_config_stops_at_its_first_nan_loss(tmp_path):
    """DnCNN_OFF(3) with Adam at lr 1e4: the weights blow up within a few
    iterations. Checkpoints every 2 iterations: the run must stop at the
    first iteration whose loss is not finite and name the last one saved."""
    config = restorer_config(tmp_path, '''
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
    assert all(torch.isfinite(w).all() for w in weights.values()
               if w.is_floating_point())
