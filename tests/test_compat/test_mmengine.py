# Copyright (c) off_plugin authors. All rights reserved.
"""The fixes of off_plugin.compat.mmengine through mmengine's runner: resume
and load_from on torch >= 2.6 (open-mmlab/mmengine#1655), and a checkpoint
holding any other pickled object refused without running it."""
import os
import pickle
import socket
from pathlib import Path

import pytest
import torch
from mmengine.hooks import Hook
from tiny_runs import ToyOFFModel, make_runner


class Interrupted(Exception):
    pass


class InterruptAfter(Hook):
    """Kills training after ``epochs`` epochs, once their checkpoint is
    saved (a crash, a preempted job)."""
    priority = 'LOWEST'

    def __init__(self, epochs):
        self.epochs = epochs

    def after_train_epoch(self, runner):
        if runner.epoch + 1 == self.epochs:
            raise Interrupted


class EpochRecorder(Hook):

    def __init__(self):
        self.started = []

    def before_train_epoch(self, runner):
        self.started.append(runner.epoch)


def test_resume_continues_where_training_stopped(tmp_path):
    straight = make_runner(tmp_path / 'straight', 'straight', 4)
    straight.train()

    first = make_runner(
        tmp_path / 'resumed',
        'interrupted',
        4,
        custom_hooks=[InterruptAfter(2)])
    with pytest.raises(Interrupted):
        first.train()
    assert (tmp_path / 'resumed' / 'epoch_2.pth').is_file()
    assert not (tmp_path / 'resumed' / 'epoch_3.pth').exists()

    epochs = EpochRecorder()
    second = make_runner(
        tmp_path / 'resumed', 'resumed', 4, resume=True, custom_hooks=[epochs])
    second.train()
    assert epochs.started == [2, 3]  # epochs 0 and 1 are not run again
    assert second.epoch == 4 and second.iter == 16
    # Model, momentum, lr schedule and data order all came back: the resumed
    # run ends exactly where the uninterrupted one does.
    for (name, a), b in zip(straight.model.state_dict().items(),
                            second.model.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-6), name
    assert second.optim_wrapper.get_lr()['lr'] == pytest.approx([0.005])


def test_load_from_restores_the_weights(tmp_path):
    trained = make_runner(tmp_path / 'a', 'trained', 1)
    trained.train()
    fresh = make_runner(
        tmp_path / 'b',
        'fresh',
        1,
        load_from=str(tmp_path / 'a' / 'epoch_1.pth'))
    fresh.load_or_resume()
    for a, b in zip(trained.model.state_dict().values(),
                    fresh.model.state_dict().values()):
        assert torch.equal(a, b)


class Payload:
    """Unpickling it creates a file: proof that code ran."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return Path.touch, (self.marker, )


def test_checkpoint_with_arbitrary_object_is_refused(tmp_path):
    marker = tmp_path / 'code_ran'
    checkpoint = tmp_path / 'evil.pth'
    torch.save(
        dict(
            state_dict=ToyOFFModel().state_dict(),
            meta=dict(note=Payload(marker))), checkpoint)
    runner = make_runner(
        tmp_path / 'w', 'victim', 1, load_from=str(checkpoint))
    with pytest.raises(pickle.UnpicklingError) as info:
        runner.load_or_resume()
    assert str(checkpoint) in str(info.value)
    assert 'add_safe_globals' in str(info.value)
    assert not marker.exists()


def with_other_numpy_module_names(checkpoint: Path, out: Path) -> Path:
    """``checkpoint`` as the other numpy major writes it: numpy 2 pickles
    arrays and scalars through ``numpy._core.multiarray``, numpy 1 through
    ``numpy.core.multiarray`` (both import on either)."""
    import zipfile

    import numpy as np
    ours, theirs = b'numpy.core.multiarray', b'numpy._core.multiarray'
    if np.lib.NumpyVersion(np.__version__) >= '2.0.0':
        ours, theirs = theirs, ours
    with zipfile.ZipFile(checkpoint) as src, zipfile.ZipFile(out, 'w') as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename.endswith('data.pkl'):
                assert ours in data and theirs not in data
                data = data.replace(ours, theirs)
            dst.writestr(item, data)
    return out


def test_resume_from_a_checkpoint_of_the_other_numpy(tmp_path):
    first = make_runner(
        tmp_path / 'a', 'numpy_a', 2, custom_hooks=[InterruptAfter(1)])
    with pytest.raises(Interrupted):
        first.train()
    other = with_other_numpy_module_names(tmp_path / 'a' / 'epoch_1.pth',
                                          tmp_path / 'other.pth')
    epochs = EpochRecorder()
    second = make_runner(
        tmp_path / 'b',
        'numpy_b',
        2,
        resume=True,
        load_from=str(other),
        custom_hooks=[epochs])
    second.train()
    assert epochs.started == [1]


# Each fix without and with it, in fresh interpreters (tests/test_compat/
# conftest.py): mmengine 0.10.7 as released, then fixed.

MMENGINE_CHECKPOINT = '''
    import torch
    from mmengine.logging import MessageHub
    from mmengine.runner import CheckpointLoader
    hub = MessageHub.get_instance('run')
    hub.update_scalar('train/loss', 0.5)
    hub.update_info('iter', 3)
    torch.save(dict(message_hub=hub.state_dict(), state_dict={}), 'ckpt.pth')
    try:
        checkpoint = CheckpointLoader.load_checkpoint('ckpt.pth', 'cpu')
        print('loaded', sorted(checkpoint['message_hub']['log_scalars']))
    except Exception as err:
        print(type(err).__name__, str(err).splitlines()[0])
'''


@pytest.mark.parametrize('fixed', [False, True], ids=['bug', 'fix'])
def test_reproduce_mmengine_cannot_read_its_own_checkpoints(reproduce, fixed):
    """open-mmlab/mmengine#1655: torch >= 2.6 loads with weights_only."""
    from off_plugin.compat.mmengine import allow_mmengine_checkpoints
    out = reproduce(allow_mmengine_checkpoints if fixed else None,
                    MMENGINE_CHECKPOINT)
    if fixed:
        assert out == "loaded ['train/loss']"
    else:
        assert out.startswith('UnpicklingError Weights only load failed')


URL_CHECKPOINT = '''
    import os, os.path as osp, pickle, torch

    class Payload:
        def __reduce__(self):
            return (open, ('code_ran', 'w'))

    cache = osp.join(os.environ['TORCH_HOME'], 'hub', 'checkpoints')
    os.makedirs(cache)
    torch.save(dict(state_dict={}, meta=Payload()),
               osp.join(cache, 'evil.pth'))  # as if downloaded earlier
    from mmengine.runner import CheckpointLoader
    try:
        CheckpointLoader.load_checkpoint('https://example.invalid/evil.pth',
                                         'cpu')
    except pickle.UnpicklingError as err:
        print('refused' if 'evil.pth' in str(err) else err)
    print(osp.exists('code_ran'))
'''


@pytest.mark.parametrize('fixed', [False, True], ids=['bug', 'fix'])
def test_reproduce_url_checkpoints_run_pickled_code(reproduce, tmp_path,
                                                    fixed):
    """mmengine 0.10.7 loads URL checkpoints with weights_only=False: a
    pickled object in one runs its code while it is loaded."""
    from off_plugin.compat.mmengine import load_url_checkpoints_weights_only
    env = dict(os.environ, TORCH_HOME=str(tmp_path / 'torch'))
    out = reproduce(load_url_checkpoints_weights_only if fixed else None,
                    URL_CHECKPOINT, env)
    assert out == ('False' if fixed else 'True')  # the payload ran
    assert (tmp_path / 'code_ran').exists() is not fixed


CPU_LAUNCH = '''
    import torch
    from mmengine.dist import get_backend, init_dist
    from mmengine.model import MMDistributedDataParallel
    assert not torch.cuda.is_available()
    try:
        init_dist('pytorch')  # what `--launcher pytorch` does first
        ddp = MMDistributedDataParallel(module=torch.nn.Linear(2, 2),
                                        device_ids=[0])  # as the Runner
        print(get_backend(), type(ddp).__name__)
    except RuntimeError as err:
        print(str(err).splitlines()[0])
'''


@pytest.mark.parametrize('fixed', [False, True], ids=['bug', 'fix'])
def test_reproduce_launcher_pytorch_crashes_without_cuda(reproduce, fixed):
    """``--launcher pytorch`` (and the Runner's DDP) on a machine without
    CUDA: mmengine 0.10.7 calls torch.cuda.set_device unconditionally."""
    from off_plugin.compat.mmengine import run_distributed_on_cpu
    env = dict(
        os.environ,
        RANK='0',
        LOCAL_RANK='0',
        WORLD_SIZE='1',
        MASTER_ADDR='127.0.0.1',
        MASTER_PORT=str(free_port()),
        CUDA_VISIBLE_DEVICES='')
    out = reproduce(run_distributed_on_cpu if fixed else None, CPU_LAUNCH, env)
    if fixed:
        assert out == 'gloo MMDistributedDataParallel'
    else:
        assert out.startswith('Found no NVIDIA driver')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]
