# Copyright (c) off_plugin authors. All rights reserved.
"""Training with 2 processes on CPU (gloo) through the standard launcher,
``mim train <host> <config> --gpus 2 --launcher pytorch``: OFF stage 2 on
MMAction2, DnCNN_OFF(3) on MMagic and the OFF video detector on MMDetection
end with the same weights on both ranks. Where two GPUs exist the same runs
go on NCCL, one GPU a rank (``-m gpu``)."""
import contextlib
import json
import os
import signal
import socket
import textwrap

import pytest
import torch
from tiny_runs import (detector_config, errors_of, mim_train,
                       recognizer_config, restorer_config)

pytestmark = pytest.mark.slow  # mim train runs: whole processes

# Saves every rank's weights before and after training (only rank 0 writes
# checkpoints), and where it trained.
RANK_HOOK = '''
import json
import os.path as osp
import torch
import torch.distributed as dist
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS


@HOOKS.register_module()
class SaveRankWeightsHook(Hook):
    def save(self, runner, when):
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        assert type(runner.model).__name__ == 'MMDistributedDataParallel'
        torch.save(model.state_dict(), osp.join(
            runner.work_dir, f'{when}_rank{get_rank()}.pth'))

    def before_train(self, runner):
        self.save(runner, 'start')

    def after_train(self, runner):
        self.save(runner, 'end')
        model = runner.model.module
        with open(osp.join(runner.work_dir, f'rank{get_rank()}.json'),
                  'w') as f:
            json.dump(dict(backend=dist.get_backend(),
                           device=str(next(model.parameters()).device)), f)
'''

BN_STATISTICS = ('running_mean', 'running_var', 'num_batches_tracked')

# What every run adds to the task's tiny config.
SETTINGS = {
    'mmaction':
    '''
        train_cfg = dict(max_epochs=1, val_interval=100)
        ''',
    'mmagic':
    '''
        train_cfg = dict(max_iters=3, val_interval=100)
        ''',
    'mmdet':
    '''
        train_cfg = dict(max_epochs=1, val_interval=100)
        default_hooks = dict(checkpoint=dict(interval=1))
        ''',
}
RANKS = '''
custom_imports = dict(imports=['off_plugin.all_tasks', 'rank_hook'],
                      allow_failed_imports=False)
custom_hooks = [dict(type='SaveRankWeightsHook')]
'''

# host -> the config written for it
RUNS = {
    'mmaction': recognizer_config,
    'mmagic': restorer_config,
    'mmdet': detector_config
}


@pytest.fixture(scope='module')
def train_two_processes(tmp_path_factory):
    """``train_two_processes(host)``: the work dir of ``mim train`` with 2 CPU
    processes, and every rank's weights before and after training. The
    hosts' runs go at once: a run spends most of its time importing the
    hosts, on fewer cores than there are."""
    with contextlib.ExitStack() as sockets:  # ports no process listens on
        free = [sockets.enter_context(socket.socket()) for _ in RUNS]
        for sock in free:
            sock.bind(('127.0.0.1', 0))
        ports = [sock.getsockname()[1] for sock in free]
    runs = {}
    for (host, make_config), port in zip(RUNS.items(), ports):
        tmp_path = tmp_path_factory.mktemp(host)
        config = make_config(tmp_path, RANKS + textwrap.dedent(SETTINGS[host]))
        (tmp_path / 'rank_hook.py').write_text(RANK_HOOK)
        runs[host] = tmp_path, mim_train(
            host,
            config,
            tmp_path / 'work',
            '--gpus',
            '2',
            '--launcher',
            'pytorch',
            '--port',
            str(port),
            pythonpath=tmp_path,
            log=tmp_path / 'train')

    def finished(host):
        tmp_path, proc = runs[host]
        proc.wait(timeout=600)
        assert proc.returncode == 0, errors_of(tmp_path / 'train')

        def weights(when):
            return [
                torch.load(tmp_path / 'work' / f'{when}_rank{r}.pth')
                for r in (0, 1)
            ]

        return tmp_path / 'work', weights('start'), weights('end')

    yield finished
    for _, proc in runs.values():  # left running by a failed test
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def assert_same_and_trained(start, end, prefix):
    for key, value in end[0].items():
        # DDP broadcasts BatchNorm statistics from rank 0 before each
        # forward; after the last one every rank keeps its own
        if key.endswith(BN_STATISTICS):
            continue
        assert torch.equal(value, end[1][key]), key
    moved = [
        k for k, v in start[1].items() if k.startswith(prefix)
        and v.is_floating_point() and not torch.equal(v, end[1][k])
    ]
    assert len(moved) > 10


def test_off_recognizer_two_cpu_processes_end_with_the_same_weights(
        train_two_processes):
    work, start, end = train_two_processes('mmaction')
    saved = torch.load(work / 'epoch_1.pth')['state_dict']
    for key, value in end[0].items():
        assert torch.equal(value, saved[key]), key
    tsn = torch.load(work.parent / 'tsn.pth')['state_dict']
    for key, value in tsn.items():  # frozen on both ranks
        assert torch.equal(end[1][key], value), key
    # the OFF sub-network did train (2 iterations of 2 videos a rank)
    assert_same_and_trained(start, end, 'off_head')


def test_off_restorer_two_cpu_processes_end_with_the_same_weights(
        train_two_processes):
    _, start, end = train_two_processes('mmagic')
    assert_same_and_trained(start, end, 'generator')


def test_off_video_detector_two_cpu_processes_end_with_the_same_weights(
        train_two_processes):
    work, start, end = train_two_processes('mmdet')
    saved = torch.load(work / 'epoch_1.pth')['state_dict']
    for key, value in end[0].items():
        assert torch.equal(value, saved[key]), key
    # 16 key frames, 2 a rank and step: 4 steps moved the OFF refiner
    assert_same_and_trained(start, end, 'off.')


def where_ranks_trained(work):
    return [json.loads((work / f'rank{r}.json').read_text()) for r in (0, 1)]


@pytest.mark.skipif(torch.cuda.is_available(), reason='trains on the GPUs')
def test_cpu_processes_train_on_gloo(train_two_processes):
    work, _, _ = train_two_processes('mmaction')
    assert where_ranks_trained(work) == [dict(backend='gloo', device='cpu')
                                         ] * 2


@pytest.mark.gpu
@pytest.mark.skipif(
    torch.cuda.device_count() < 2, reason='needs two CUDA GPUs')
@pytest.mark.parametrize('host', list(RUNS))
def test_two_gpus_train_on_nccl(train_two_processes, host):
    work, _, _ = train_two_processes(host)
    assert where_ranks_trained(work) == [
        dict(backend='nccl', device=f'cuda:{rank}') for rank in (0, 1)
    ]
