# Copyright (c) off_plugin authors. All rights reserved.
"""Tiny training runs: of the three tasks through the real command, ``mim
train``, for the tests that start whole processes (several ranks, kills and
resumes): the data and a config for each task, and the command; and a toy
mmengine runner on OFF features, in this process (:func:`make_runner`).

Each ``*_config(tmp_path, settings)`` writes a small data set under
``tmp_path`` and ``tmp_path/<name>.py``, a config that inherits the task's
demo config and ends with ``settings`` (hooks, schedule, ...)."""
import os
import os.path as osp
import subprocess
import sys
import textwrap
from pathlib import Path

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.model import BaseModel
from mmengine.registry import DefaultScope
from mmengine.runner import Runner
from motion_videos import make_motion_videos
from moving_objects import make_moving_objects

import off_plugin  # noqa: F401
from off_plugin.core import OFFUnit

ROOT = Path(__file__).resolve().parent.parent
RECOGNITION = ROOT / 'configs' / 'recognition' / 'off'
STAGE1 = RECOGNITION / 'tsn_r18_1xb8-8seg-4e_motion-demo-rgb.py'
STAGE2 = RECOGNITION / 'off_r18_1xb8-5of8seg-10e_motion-demo-rgb.py'
DETECTION = (
    ROOT / 'configs' / 'detection' / 'off' /
    'off-ms_rfcn_r18-tiny_1xb8-5e_moving-objects.py')
RESTORATION = (
    ROOT / 'configs' / 'restoration' / 'off' /
    'dncnn-off3-c32_1xb8-800iter_restoration-demo-q40.py')


def custom_hooks_with_policies(*hooks: str) -> str:
    """A config line adding ``hooks`` (``dict(...)`` texts) to the
    ``custom_hooks`` of its ``_base_``, a config of the project (the
    plugin's policy hooks), which a config's own ``custom_hooks`` would
    replace."""
    return 'custom_hooks = _base_.custom_hooks + [{}]\n'.format(
        ', '.join(hooks))


def run_script(code: str) -> str:
    """The output of ``code`` run in a fresh interpreter (a clean import
    state)."""
    proc = subprocess.run(
        [sys.executable, '-c', textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=600)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def write_config(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


def recognizer_config(tmp_path: Path, settings: str) -> Path:
    """OFF stage 2 on 8 motion videos (4 iterations of 2 an epoch), from a
    stage-1 TSN of random weights, ``tmp_path/tsn.pth``."""
    from mmaction.registry import MODELS
    data = tmp_path / 'data'
    make_motion_videos(str(data), num_train=8, num_val=2)
    with DefaultScope.overwrite_default_scope('mmaction'):
        tsn = MODELS.build(Config.fromfile(STAGE1).model)
    torch.save({'state_dict': tsn.state_dict()}, tmp_path / 'tsn.pth')
    return _with_settings(
        write_config(
            tmp_path / 'off_recognizer.py', f'''\
        _base_ = ['{STAGE2}']
        model = dict(feature_checkpoint='{tmp_path / "tsn.pth"}')
        train_dataloader = dict(
            batch_size=2, num_workers=0, persistent_workers=False,
            dataset=dict(ann_file='{data / "train.txt"}',
                         data_prefix=dict(video='{data / "videos"}')))
        val_dataloader = dict(
            num_workers=0, persistent_workers=False,
            dataset=dict(ann_file='{data / "val.txt"}',
                         data_prefix=dict(video='{data / "videos"}')))
        test_dataloader = val_dataloader
        param_scheduler = []
        '''), settings)


def restorer_config(tmp_path: Path, settings: str) -> Path:
    """DnCNN_OFF(3) on 8 compressed clips (4 iterations of 2 a pass)."""
    from restoration_clips import make_restoration_clips

    from off_plugin.restoration.vimeo90k import compress_septuplets
    data = tmp_path / 'vimeo'
    make_restoration_clips(str(data), size=(80, 64))  # >= the patch
    clips = []
    for name, keep in (('sep_trainlist.txt', 8), ('sep_vallist.txt', 2),
                       ('sep_testlist.txt', 2)):
        kept = (data / name).read_text().split()[:keep]
        (data / name).write_text(''.join(c + '\n' for c in kept))
        clips += kept
    assert compress_septuplets(str(data), [40], clips) == []
    return _with_settings(
        write_config(
            tmp_path / 'dncnn_off.py', f'''\
        _base_ = ['{RESTORATION}']
        train_dataloader = dict(
            batch_size=2, num_workers=0, persistent_workers=False,
            dataset=dict(data_root='{data}'))
        val_dataloader = dict(num_workers=0, persistent_workers=False,
                              dataset=dict(data_root='{data}'))
        param_scheduler = []
        '''), settings)


def detector_config(tmp_path: Path, settings: str) -> Path:
    """The OFF video detector on 8 moving-object videos of 2 frames (4
    iterations of 2 key frames an epoch)."""
    data = tmp_path / 'moving_objects'
    make_moving_objects(
        str(data),
        dict(train=8, val=2),
        num_frames=2,
        size=(64, 64),
        object_size=(18, 24))
    return _with_settings(
        write_config(
            tmp_path / 'off_detector.py', f'''\
        _base_ = ['{DETECTION}']
        train_dataloader = dict(
            batch_size=2, num_workers=0, persistent_workers=False,
            dataset=dict(data_root='{data}'))
        val_dataloader = dict(num_workers=0, persistent_workers=False,
                              dataset=dict(data_root='{data}'))
        test_dataloader = val_dataloader
        val_evaluator = dict(ann_file='{data}/annotations/val.json')
        test_evaluator = val_evaluator
        param_scheduler = []
        '''), settings)


def _with_settings(config: Path, settings: str) -> Path:
    """A child of ``config`` with ``settings``: dicts merge into the
    parent's, as in any config that inherits."""
    child = config.with_name(f'{config.stem}_run.py')
    child.write_text(f"_base_ = ['{config}']\n" + textwrap.dedent(settings))
    return child


def mim_train(host: str, config: Path, work_dir: Path, *args: str,
              pythonpath: Path, log: Path) -> subprocess.Popen:
    """Start ``mim train <host> <config> --work-dir <work_dir> <args>``
    in its own process group, modules of ``pythonpath`` importable, output
    to ``log`` (``.out`` and ``.err``)."""
    env = dict(os.environ, PYTHONPATH=str(pythonpath), OMP_NUM_THREADS='1')
    mim = osp.join(osp.dirname(sys.executable), 'mim')
    with open(f'{log}.out', 'w') as out, open(f'{log}.err', 'w') as err:
        return subprocess.Popen([
            mim, 'train', host,
            str(config), '--work-dir',
            str(work_dir), *args
        ],
                                env=env,
                                stdout=out,
                                stderr=err,
                                start_new_session=True)


def errors_of(log: Path) -> str:
    """The lines of a run's output that name an error (the launcher's own
    summary hides a failing rank's traceback), then the end of stderr."""
    out = Path(f'{log}.out').read_text()
    err = Path(f'{log}.err').read_text()
    errors = [
        line for line in (out + err).splitlines()
        if 'Error' in line or 'error' in line or 'Traceback' in line
    ]
    return '\n'.join(errors[-40:]) + err[-4000:]


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


def make_runner(work_dir: Path,
                name: str,
                max_epochs: int,
                checkpoint_hook: str = 'CheckpointHook',
                **kwargs):
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
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9)),
        param_scheduler=dict(type='MultiStepLR', milestones=[3], gamma=0.1),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        default_hooks=dict(
            checkpoint=dict(type=checkpoint_hook, interval=1),
            logger=dict(type='LoggerHook', interval=100)),
        randomness=dict(seed=0),
        **kwargs)
