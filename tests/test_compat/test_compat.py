# Copyright (c) off_plugin authors. All rights reserved.
"""The upstream fixes of off_plugin.compat, exercised through the hosts."""
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.runner import Runner

import off_plugin  # noqa: F401
from off_plugin.core import OFFUnit


@pytest.fixture(scope='module')
def run_python():
    """``run_python(code)``: the output of ``code`` run in a fresh
    interpreter (a clean import state). The module's scripts all start at
    once: importing the hosts takes most of their time, on a core each."""
    procs = {
        code: subprocess.Popen(
            [sys.executable, '-c', textwrap.dedent(code)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for code in (ALL_HOSTS, MMACTION_MODELS)
    }

    def output(code):
        out, err = procs[code].communicate(timeout=600)
        assert procs[code].returncode == 0, err
        return out

    yield output
    for proc in procs.values():  # left running by a failed test
        proc.kill()
        proc.communicate()


ALL_HOSTS = """
    import off_plugin
    from mmengine.registry import DefaultScope
    from mmaction.utils import register_all_modules as mmaction_all
    from mmdet.utils import register_all_modules as mmdet_all
    from mmagic.utils import register_all_modules as mmagic_all
    for register in (mmaction_all, mmdet_all, mmagic_all):
        register(init_default_scope=False)
    from mmaction.registry import MODELS as ACTION
    from mmdet.registry import MODELS as DET
    from mmagic.registry import MODELS as EDIT
    for registry, model in ((ACTION, 'TSNHead'), (DET, 'RetinaNet'),
                            (EDIT, 'BasicVSRNet')):
        assert registry.get(model) is not None, model
        assert registry.get('OFFUnit') is off_plugin.core.OFFUnit
    print('ok')
"""


@pytest.mark.slow
def test_all_hosts_register_in_one_process_after_import(run_python):
    assert run_python(ALL_HOSTS).strip() == 'ok'


MMACTION_MODELS = """
    import off_plugin
    import mmaction.models
    from mmaction.registry import MODELS
    from mmaction.utils import register_all_modules
    register_all_modules()
    tsn = MODELS.build(dict(
        type='Recognizer2D',
        backbone=dict(type='ResNet', depth=18, pretrained=None),
        cls_head=dict(type='TSNHead', num_classes=3, in_channels=512)))
    print(type(tsn).__name__)
    try:
        MODELS.build(dict(type='DRN'))
    except ImportError as err:
        print(err)
"""


@pytest.mark.slow
def test_mmaction_models_import_and_drn_fails_clearly(run_python):
    lines = run_python(MMACTION_MODELS).strip().splitlines()
    assert lines[0] == 'Recognizer2D'
    assert 'mmaction2#2714' in lines[1] and 'DRN is not available' in lines[1]


@pytest.mark.parametrize('scope', ['mmaction', 'mmdet', 'mmagic'])
def test_each_host_registry_builds_off_unit_from_config(scope):
    from mmengine.registry import DefaultScope
    registry = __import__(f'{scope}.registry', fromlist=['MODELS']).MODELS
    with DefaultScope.overwrite_default_scope(scope):
        unit = registry.build(
            dict(type='OFFUnit', in_channels=16, reduce_channels=8))
    assert isinstance(unit, OFFUnit)
    assert unit(torch.randn(1, 2, 16, 4, 4)).shape == (1, 1, 24, 4, 4)


class ToyOFFModel(BaseModel):
    """A tiny classifier on the OFF of random segment features."""

    def __init__(self):
        super().__init__()
        self.off = OFFUnit(in_channels=3, reduce_channels=4)
        self.fc = nn.Linear(self.off.out_channels, 2)

    def forward(self, inputs, labels, mode='loss'):
        logits = self.fc(self.off(inputs).mean(dim=(1, 3, 4)))
        if mode == 'loss':
            return dict(loss=nn.functional.cross_entropy(logits, labels))
        return logits


class ToyDataset(torch.utils.data.Dataset):

    def __init__(self):
        generator = torch.Generator().manual_seed(0)
        self.inputs = torch.randn(16, 3, 3, 6, 6, generator=generator)
        self.labels = torch.randint(0, 2, (16, ), generator=generator)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return dict(inputs=self.inputs[i], labels=self.labels[i])


def make_runner(work_dir: Path, name: str, max_epochs: int, **kwargs):
    torch.manual_seed(0)
    return Runner(
        model=ToyOFFModel(),
        work_dir=str(work_dir),
        experiment_name=name,
        train_dataloader=dict(
            dataset=ToyDataset(),
            sampler=dict(type='DefaultSampler', shuffle=True, seed=0),
            collate_fn=dict(type='default_collate'),
            batch_size=4,
            num_workers=0),
        optim_wrapper=dict(
            optimizer=dict(type='SGD', lr=0.05, momentum=0.9)),
        param_scheduler=dict(type='MultiStepLR', milestones=[3], gamma=0.1),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', interval=1),
            logger=dict(type='LoggerHook', interval=100)),
        randomness=dict(seed=0),
        **kwargs)


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

    first = make_runner(tmp_path / 'resumed', 'interrupted', 4,
                        custom_hooks=[InterruptAfter(2)])
    with pytest.raises(Interrupted):
        first.train()
    assert (tmp_path / 'resumed' / 'epoch_2.pth').is_file()
    assert not (tmp_path / 'resumed' / 'epoch_3.pth').exists()

    epochs = EpochRecorder()
    second = make_runner(tmp_path / 'resumed', 'resumed', 4, resume=True,
                         custom_hooks=[epochs])
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
    fresh = make_runner(tmp_path / 'b', 'fresh', 1,
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
    torch.save(dict(state_dict=ToyOFFModel().state_dict(),
                    meta=dict(note=Payload(marker))), checkpoint)
    runner = make_runner(tmp_path / 'w', 'victim', 1,
                         load_from=str(checkpoint))
    with pytest.raises(pickle.UnpicklingError) as info:
        runner.load_or_resume()
    assert str(checkpoint) in str(info.value)
    assert 'add_safe_globals' in str(info.value)
    assert not marker.exists()


def test_checkpoint_failing_mid_write_leaves_the_previous_one(
        tmp_path, monkeypatch):
    """A disk that fills up while epoch 2's checkpoint is written: with
    ``max_keep_ckpts=1`` mmengine would already have deleted epoch 1's;
    the atomic writes keep it, ``last_checkpoint`` still names it, no part
    of epoch 2's is left, and ``resume`` goes on from it."""
    import errno
    import os
    work = tmp_path / 'work'
    policy = [dict(type='AtomicCheckpoints')]  # the policy under test
    runner = make_runner(work, 'full-disk', 3, custom_hooks=policy)
    checkpoint_hook, = (h for h in runner.hooks
                        if type(h).__name__ == 'CheckpointHook')
    checkpoint_hook.max_keep_ckpts = 1
    fsync = os.fsync
    written = []

    def fsync_until_full(fd):
        written.append(os.readlink(f'/proc/self/fd/{fd}'))
        if len(written) == 3:  # epoch_1.pth, last_checkpoint, epoch_2.pth
            raise OSError(errno.ENOSPC, 'No space left on device')
        fsync(fd)

    monkeypatch.setattr(os, 'fsync', fsync_until_full)
    with pytest.raises(OSError, match='No space left'):
        runner.train()
    monkeypatch.setattr(os, 'fsync', fsync)
    assert [os.path.basename(p) for p in written] == [
        '.epoch_1.pth.tmp-%d' % os.getpid(),
        '.last_checkpoint.tmp-%d' % os.getpid(),
        '.epoch_2.pth.tmp-%d' % os.getpid()]
    # besides the log folder (a time stamp)
    assert sorted(p for p in os.listdir(work) if not p[0].isdigit()) == [
        'epoch_1.pth', 'last_checkpoint']
    assert (work / 'last_checkpoint').read_text() == str(work / 'epoch_1.pth')
    saved = torch.load(work / 'epoch_1.pth', weights_only=False)
    assert saved['meta']['epoch'] == 1

    resumed = make_runner(work, 'resumed-after-full-disk', 3, resume=True,
                          custom_hooks=policy)
    resumed.train()
    assert resumed.epoch == 3 and resumed.iter == 12
