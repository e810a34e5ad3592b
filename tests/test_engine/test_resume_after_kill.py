# Copyright (c) off_plugin authors. All rights reserved.
"""Killed runs resume with nothing lost, through the real commands.

For each task (OFF stage 2 on MMAction2, DnCNN_OFF(3) on MMagic, the OFF
video detector on MMDetection) one ``mim train`` runs to the end, and a
second lineage of the same config and seed is killed twice with SIGKILL and
resumed each time with ``mim train ... --resume``:

1. killed after an iteration some way past its first checkpoint;
2. resumed, then killed in the middle of writing its second checkpoint
   (half of the file on disk), with ``max_keep_ckpts=1``, so that the
   previous checkpoint is the only one;
3. resumed again, to the end.

The lineage must end exactly where the uninterrupted run does: the same
weights, bit for bit, the same number of iterations, the same losses and
learning rate at every iteration after the resume, each iteration logged
once. OFF stage 2's frozen feature network stays the stage-1 checkpoint.
"""
import json
import os
import signal
import textwrap
from pathlib import Path

import pytest
import torch
from tiny_runs import (custom_hooks_with_policies, detector_config, errors_of,
                       mim_train, recognizer_config, restorer_config)

pytestmark = pytest.mark.slow  # mim train runs: whole processes

# Kills this process (SIGKILL, nothing can clean up) after iteration
# ``after_iter`` (its hooks, checkpoints and logging included), or once
# half of the checkpoint file ``while_writing`` is written.
KILL_HOOK = '''
import builtins
import os
import signal

from mmengine.hooks import Hook
from mmengine.registry import HOOKS


class HalfWriteThenDie:
    def __init__(self, file):
        self.file = file

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.file.close()

    def __getattr__(self, name):
        return getattr(self.file, name)

    def write(self, data):
        self.file.write(data[:len(data) // 2])
        self.file.flush()
        os.fsync(self.file.fileno())
        os.kill(os.getpid(), signal.SIGKILL)


@HOOKS.register_module()
class KillHook(Hook):
    priority = 'LOWEST'

    def __init__(self, after_iter=None, while_writing=None):
        self.after_iter = after_iter
        self.while_writing = while_writing

    def before_train(self, runner):
        if self.while_writing is None:
            return
        real_open, target = builtins.open, self.while_writing

        def open_(file, mode='r', *args, **kwargs):
            f = real_open(file, mode, *args, **kwargs)
            name = os.path.basename(str(file))
            if 'w' in mode and (name == target
                                or name.startswith(f'.{target}.tmp-')):
                return HalfWriteThenDie(f)
            return f

        builtins.open = open_

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if runner.iter + 1 == self.after_iter:
            os.kill(os.getpid(), signal.SIGKILL)
'''

# The tiny schedule of each task: iterations in all, the iteration after
# which the first kill falls, the checkpoint being written at the second
# kill and the one left before it (the checkpoint of iteration
# ``resumed_at``, where both resumes start), the last checkpoint.
TASKS = {
    'mmaction':
    dict(
        make_config=recognizer_config,
        iters=12,
        first_kill=6,
        second_kill=('epoch_2.pth', 8),
        kept=('epoch_1.pth', 4),
        last='epoch_3.pth',
        settings='''
        train_cfg = dict(max_epochs=3, val_interval=100)
        default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=1),
                             logger=dict(interval=1))
        '''),
    'mmagic':
    dict(
        make_config=restorer_config,
        iters=6,
        first_kill=3,
        second_kill=('iter_4.pth', 4),
        kept=('iter_2.pth', 2),
        last='iter_6.pth',
        settings='''
        train_cfg = dict(max_iters=6, val_interval=100)
        default_hooks = dict(checkpoint=dict(interval=2, max_keep_ckpts=1),
                             logger=dict(interval=1))
        train_dataloader = dict(num_workers=1)
        '''),
    'mmdet':
    dict(
        make_config=detector_config,
        iters=12,
        first_kill=6,
        second_kill=('epoch_2.pth', 8),
        kept=('epoch_1.pth', 4),
        last='epoch_3.pth',
        settings='''
        train_cfg = dict(max_epochs=3, val_interval=100)
        default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=1),
                             logger=dict(interval=1))
        '''),
}


def logged(work: Path, run: int) -> list:
    """The per-iteration scalars (iter, loss, lr) the ``run``-th run of
    ``work`` logged, in its time-stamped log folder."""
    stamps = sorted(p for p in work.iterdir() if p.name[0].isdigit())
    lines = (stamps[run] / 'vis_data' / 'scalars.json').read_text()
    return [
        json.loads(line) for line in lines.splitlines() if '"loss"' in line
    ]


COMMON = '''
custom_imports = dict(imports=['off_plugin.all_tasks', 'kill_hook'],
                      allow_failed_imports=False)
randomness = dict(seed=0)
'''


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    """Per task: the uninterrupted run and the killed lineage, all tasks at
    once (a run spends most of its time importing the hosts)."""
    procs, out = {}, {}
    for host, task in TASKS.items():
        tmp = tmp_path_factory.mktemp(host)
        (tmp / 'kill_hook.py').write_text(KILL_HOOK)
        config = task['make_config'](tmp, COMMON +
                                     textwrap.dedent(task['settings']))
        kills = {}
        for name, hook in (('kill1', f'after_iter={task["first_kill"]}'),
                           ('kill2',
                            f'while_writing={task["second_kill"][0]!r}')):
            kills[name] = tmp / f'{name}.py'
            kills[name].write_text(
                f"_base_ = ['{config}']\n" +
                custom_hooks_with_policies(f'dict(type="KillHook", {hook})'))
        out[host] = dict(tmp=tmp, config=config, kills=kills)
        procs[host, 'straight'] = mim_train(
            host,
            config,
            tmp / 'straight',
            pythonpath=tmp,
            log=tmp / 'straight')
        procs[host, 'kill1'] = mim_train(
            host,
            kills['kill1'],
            tmp / 'lineage',
            pythonpath=tmp,
            log=tmp / 'kill1')
    # every lineage goes on once its previous run has ended
    for (host, name), proc in list(procs.items()):
        proc.wait(timeout=600)
        tmp = out[host]['tmp']
        out[host][name] = proc.returncode, errors_of(tmp / name)
        if name == 'kill1':
            procs[host, 'kill2'] = mim_train(
                host,
                out[host]['kills']['kill2'],
                tmp / 'lineage',
                '--resume',
                pythonpath=tmp,
                log=tmp / 'kill2')
    for host in TASKS:
        tmp = out[host]['tmp']
        proc = procs[host, 'kill2']
        proc.wait(timeout=600)
        out[host]['kill2'] = proc.returncode, errors_of(tmp / 'kill2')
        # what the second kill left, before the last resume
        lineage = tmp / 'lineage'
        out[host]['left'] = sorted(
            p.name for p in lineage.iterdir()
            if not p.name[0].isdigit() and not p.name.endswith('.py'))
        out[host]['last_checkpoint'] = (lineage /
                                        'last_checkpoint').read_text()
        procs[host, 'resume'] = mim_train(
            host,
            out[host]['config'],
            lineage,
            '--resume',
            pythonpath=tmp,
            log=tmp / 'resume')
    for host in TASKS:
        proc = procs[host, 'resume']
        proc.wait(timeout=600)
        out[host]['resume'] = proc.returncode, errors_of(out[host]['tmp'] /
                                                         'resume')
    yield out
    for proc in procs.values():  # left running by a failed run
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.mark.parametrize('host', list(TASKS))
def test_killed_twice_and_resumed_ends_as_the_uninterrupted_run(runs, host):
    task, run = TASKS[host], runs[host]
    for name in ('straight', 'resume'):
        assert run[name][0] == 0, run[name][1]
    for name in ('kill1', 'kill2'):  # the training process died by the kill
        assert run[name][0] != 0, run[name][1]
        assert 'died with <Signals.SIGKILL: 9>' in run[name][1], run[name][1]

    # the kill while writing left the previous checkpoint, named by
    # last_checkpoint, and no part of the new one under a checkpoint name
    kept, resumed_at = task['kept']
    lineage, straight = run['tmp'] / 'lineage', run['tmp'] / 'straight'
    assert run['last_checkpoint'] == str(lineage / kept)
    assert [n for n in run['left'] if n.endswith('.pth')] == [kept]

    # each iteration logged once: the first run up to its kill, each resume
    # from the checkpoint on, to the kill and to the end
    iters = task['iters']
    expected = {
        0: range(1, task['first_kill'] + 1),
        1: range(resumed_at + 1, task['second_kill'][1] + 1),
        2: range(resumed_at + 1, iters + 1)
    }
    uninterrupted = {log['iter']: log for log in logged(straight, 0)}
    assert list(uninterrupted) == list(range(1, iters + 1))
    for i, steps in expected.items():
        logs = logged(lineage, i)
        assert [log['iter'] for log in logs] == list(steps)
        # the same losses and learning rates as the uninterrupted run
        for log in logs:
            for key in ('loss', 'lr'):
                assert log[key] == uninterrupted[log['iter']][key], (
                    i, log['iter'], key)

    # the same weights, bit for bit, after the same number of iterations
    ends = [
        torch.load(d / task['last'], weights_only=False)
        for d in (straight, lineage)
    ]
    assert ends[0]['meta']['iter'] == ends[1]['meta']['iter'] == iters
    assert ends[0]['state_dict'].keys() == ends[1]['state_dict'].keys()
    for key, value in ends[0]['state_dict'].items():
        assert torch.equal(value, ends[1]['state_dict'][key]), key
    if host == 'mmaction':  # stage 2: the feature network stayed frozen
        tsn = torch.load(run['tmp'] / 'tsn.pth')['state_dict']
        for key, value in tsn.items():
            assert torch.equal(ends[1]['state_dict'][key], value), key
