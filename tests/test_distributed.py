# Copyright (c) off_plugin authors. All rights reserved.
"""Training with 2 processes on CPU (gloo) through the standard launcher,
``mim train <host> <config> --gpus 2 --launcher pytorch``: OFF stage 2 on
MMAction2, DnCNN_OFF(3) on MMagic and the OFF video detector on MMDetection
end with the same weights on both ranks."""
import os
import os.path as osp
import socket
import subprocess
import sys
import textwrap

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


def train_two_processes(host, config, tmp_path):
    """``mim train`` with 2 CPU processes; every rank's weights before and
    after training."""
    (tmp_path / 'rank_hook.py').write_text(RANK_HOOK)
    env = dict(os.environ, PYTHONPATH=str(tmp_path), OMP_NUM_THREADS='1')
    mim = osp.join(osp.dirname(sys.executable), 'mim')
    with socket.socket() as free:  # a port no other process listens on
        free.bind(('127.0.0.1', 0))
        port = free.getsockname()[1]
    proc = subprocess.run(
        [mim, 'train', host, str(config), '--gpus', '2', '--launcher',
         'pytorch', '--port', str(port), '--work-dir',
         str(tmp_path / 'work')],
        env=env, capture_output=True, text=True, timeout=600)
    # the launcher's own summary hides the failing rank's traceback: show
    # every line that names an error
    errors = [line for line in (proc.stdout + proc.stderr).splitlines()
              if 'Error' in line or 'error' in line or 'Traceback' in line]
    assert proc.returncode == 0, '\n'.join(errors[-40:]) + proc.stderr[-4000:]

    def weights(when):
        return [torch.load(tmp_path / 'work' / f'{when}_rank{r}.pth')
                for r in (0, 1)]

    return weights('start'), weights('end')


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
        tmp_path):
    data = tmp_path / 'data'
    make_motion_videos(str(data), num_train=8, num_val=2)
    # a stage-1 TSN to start from (random weights are enough here)
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
    start, end = train_two_processes('mmaction', config, tmp_path)
    saved = torch.load(tmp_path / 'work' / 'epoch_1.pth')['state_dict']
    for key, value in end[0].items():
        assert torch.equal(value, saved[key]), key
    for key, value in tsn.state_dict().items():  # frozen on both ranks
        assert torch.equal(end[1][key], value), key
    # the OFF sub-network did train (2 iterations of 2 videos a rank)
    assert_same_and_trained(start, end, 'off_head')


def test_off_restorer_two_cpu_processes_end_with_the_same_weights(tmp_path):
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
    start, end = train_two_processes('mmagic', config, tmp_path)
    assert_same_and_trained(start, end, 'generator')


def test_off_video_detector_two_cpu_processes_end_with_the_same_weights(
        tmp_path):
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
    start, end = train_two_processes('mmdet', config, tmp_path)
    saved = torch.load(tmp_path / 'work' / 'epoch_1.pth')['state_dict']
    for key, value in end[0].items():
        assert torch.equal(value, saved[key]), key
    # 16 key frames, 2 a rank and step: 4 steps moved the OFF refiner
    assert_same_and_trained(start, end, 'off.')
