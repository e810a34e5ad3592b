# Copyright (c) off_plugin authors. All rights reserved.
"""Training with 2 processes on CPU (gloo) through the standard launcher,
``mim train <host> <config> --gpus 2 --launcher pytorch``: OFF stage 2 on
MMAction2, DnCNN_OFF(3) on MMagic and the OFF video detector on MMDetection
end with the same weights on both ranks."""
import contextlib
import os
import os.path as osp
import signal
import socket
import subprocess
import sys
import textwrap

import pytest
import torch
from mmaction.registry import MODELS
from mmengine.config import Config
from mmengine.registry import DefaultScope

import off_plugin  # noqa: F401
from off_plugin.datasets.motion_videos import make_motion_videos
from off_plugin.datasets.moving_objects import make_moving_objects
from off_plugin.datasets.restoration_clips import make_restoration_clips
from off_plugin.datasets.vimeo90k import compress_septuplets

CONFIGS = osp.join(osp.dirname(osp.dirname(__file__)), 'configs',
                   'recognition', 'off')
STAGE2 = osp.join(CONFIGS, 'off_r18_1xb8-5of8seg-10e_motion-demo-rgb.py')
DETECTION = osp.join(
    osp.dirname(osp.dirname(__file__)), 'configs', 'detection', 'off',
    'off-ms_rfcn_r18-tiny_1xb8-5e_moving-objects.py')
RESTORATION = osp.join(
    osp.dirname(osp.dirname(__file__)), 'configs', 'restoration', 'off',
    'dncnn-off3-c32_1xb8-800iter_restoration-demo-q40.py')

# Saves every rank's weights before and after training (only rank 0 writes
# checkpoints).
RANK_HOOK = '''
import os.path as osp
import torch
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
'''


BN_STATISTICS = ('running_mean', 'running_var', 'num_batches_tracked')


def recognizer_config(tmp_path):
    """OFF stage 2 on 8 motion videos, from a stage-1 TSN of random weights
    (``tmp_path/tsn.pth``)."""
    data = tmp_path / 'data'
    make_motion_videos(str(data), num_train=8, num_val=2)
    tsn_cfg = Config.fromfile(
        osp.join(CONFIGS, 'tsn_r18_1xb8-8seg-4e_motion-demo-rgb.py'))
    with DefaultScope.overwrite_default_scope('mmaction'):
        tsn = MODELS.build(tsn_cfg.model)
    torch.save({'state_dict': tsn.state_dict()}, tmp_path / 'tsn.pth')

    config = tmp_path / 'off_dist.py'
    config.write_text(textwrap.dedent(f'''\
        _base_ = ['{STAGE2}']
        custom_imports = dict(imports=['off_plugin', 'rank_hook'],
                              allow_failed_imports=False)
        custom_hooks = [dict(type='SaveRankWeightsHook')]
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
        train_cfg = dict(max_epochs=1, val_interval=100)
        param_scheduler = []
        '''))
    return config


def restorer_config(tmp_path):
    """DnCNN_OFF(3) on 8 compressed clips, 3 iterations."""
    data = tmp_path / 'vimeo'
    make_restoration_clips(str(data), size=(80, 64))  # >= the patch
    clips = []
    for name, keep in (('sep_trainlist.txt', 8), ('sep_vallist.txt', 2),
                       ('sep_testlist.txt', 2)):
        kept = (data / name).read_text().split()[:keep]
        (data / name).write_text(''.join(c + '\n' for c in kept))
        clips += kept
    assert compress_septuplets(str(data), [40], clips) == []
    config = tmp_path / 'dncnn_off_dist.py'
    config.write_text(textwrap.dedent(f'''\
        _base_ = ['{RESTORATION}']
        custom_imports = dict(imports=['off_plugin', 'rank_hook'],
                              allow_failed_imports=False)
        custom_hooks = [dict(type='SaveRankWeightsHook')]
        train_dataloader = dict(
            batch_size=2, num_workers=0, persistent_workers=False,
            dataset=dict(data_root='{data}'))
        val_dataloader = dict(num_workers=0, persistent_workers=False,
                              dataset=dict(data_root='{data}'))
        train_cfg = dict(max_iters=3, val_interval=100)
        param_scheduler = []
        '''))
    return config


def detector_config(tmp_path):
    """The OFF video detector on 8 moving-object videos of 2 frames."""
    data = tmp_path / 'moving_objects'
    make_moving_objects(str(data), dict(train=8, val=2), num_frames=2,
                        size=(64, 64), object_size=(18, 24))
    config = tmp_path / 'off_det_dist.py'
    config.write_text(textwrap.dedent(f'''\
        _base_ = ['{DETECTION}']
        custom_imports = dict(imports=['off_plugin', 'rank_hook'],
                              allow_failed_imports=False)
        custom_hooks = [dict(type='SaveRankWeightsHook')]
        train_dataloader = dict(
            batch_size=2, num_workers=0, persistent_workers=False,
            dataset=dict(data_root='{data}'))
        val_dataloader = dict(num_workers=0, persistent_workers=False,
                              dataset=dict(data_root='{data}'))
        test_dataloader = val_dataloader
        val_evaluator = dict(ann_file='{data}/annotations/val.json')
        test_evaluator = val_evaluator
        train_cfg = dict(max_epochs=1, val_interval=100)
        default_hooks = dict(checkpoint=dict(interval=1))
        param_scheduler = []
        '''))
    return config


# host -> the config written for it
RUNS = {'mmaction': recognizer_config, 'mmagic': restorer_config,
        'mmdet': detector_config}


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
    mim = osp.join(osp.dirname(sys.executable), 'mim')
    runs = {}
    for (host, make_config), port in zip(RUNS.items(), ports):
        tmp_path = tmp_path_factory.mktemp(host)
        config = make_config(tmp_path)
        (tmp_path / 'rank_hook.py').write_text(RANK_HOOK)
        env = dict(os.environ, PYTHONPATH=str(tmp_path), OMP_NUM_THREADS='1')
        with open(tmp_path / 'stdout', 'w') as out, \
                open(tmp_path / 'stderr', 'w') as err:
            runs[host] = tmp_path, subprocess.Popen(
                [mim, 'train', host, str(config), '--gpus', '2', '--launcher',
                 'pytorch', '--port', str(port), '--work-dir',
                 str(tmp_path / 'work')],
                env=env, stdout=out, stderr=err, start_new_session=True)

    def finished(host):
        tmp_path, proc = runs[host]
        proc.wait(timeout=600)
        stdout = (tmp_path / 'stdout').read_text()
        stderr = (tmp_path / 'stderr').read_text()
        # the launcher's own summary hides the failing rank's traceback: show
        # every line that names an error
        errors = [line for line in (stdout + stderr).splitlines() if
                  'Error' in line or 'error' in line or 'Traceback' in line]
        assert proc.returncode == 0, '\n'.join(errors[-40:]) + stderr[-4000:]

        def weights(when):
            return [torch.load(tmp_path / 'work' / f'{when}_rank{r}.pth')
                    for r in (0, 1)]

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
    moved = [k for k, v in start[1].items() if k.startswith(prefix)
             and v.is_floating_point() and not torch.equal(v, end[1][k])]
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
