# Copyright (c) off_plugin authors. All rights reserved.
"""The restoration configs: the paper's settings, and the demo config
trained and tested through MMagic's Runner on tiny real clips."""
import glob
import json
import os.path as osp
import re

import pytest
import torch
from mmagic.registry import MODELS
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

import off_plugin.restoration  # noqa: F401

ROOT = osp.dirname(osp.dirname(osp.dirname(__file__)))
CONFIGS = osp.join(ROOT, 'configs', 'restoration', 'off')
PAPER = sorted(glob.glob(osp.join(CONFIGS, '*_vimeo90k-jpeg2000-q*.py')))


def test_every_model_and_quality_has_a_config():
    names = {osp.basename(p) for p in PAPER}
    assert names == {
        f'{m}_4xb7-50e_vimeo90k-jpeg2000-q{q}.py'
        for m in ('dncnn', 'dncnn-off2', 'dncnn-off3')
        for q in (20, 40)
    }


@pytest.mark.parametrize('path', PAPER, ids=[osp.basename(p) for p in PAPER])
def test_paper_settings(path):
    model_name, quality = re.search(r'(dncnn(?:-off\d)?)_.*-q(\d+)\.py',
                                    path).groups()
    frames = 1 if model_name == 'dncnn' else int(model_name[-1])
    cfg = Config.fromfile(path)
    assert cfg.custom_imports.imports == ['off_plugin.restoration']
    assert cfg.model.type == 'OFFRestorer'
    assert cfg.model.generator.type == ('DnCNN' if frames == 1 else 'DnCNNOFF')
    assert cfg.model.generator.get('num_frames', 1) == frames
    for loader in ('train', 'val', 'test'):
        data = cfg[f'{loader}_dataloader'].dataset
        assert data.type == 'Vimeo90KSeptupletDataset'
        assert data.quality == int(quality)
        assert data.num_input_frames == frames
        assert data.ann_file == ('sep_trainlist.txt'
                                 if loader == 'train' else 'sep_testlist.txt')
    # no augmentation, no crop: full 448x256 frames
    assert [t['type'] for t in cfg.train_dataloader.dataset.pipeline] == [
        'LoadImageFromFile', 'LoadImageFromFile', 'CheckFrames', 'PackInputs'
    ]
    assert cfg.optim_wrapper.optimizer.type == 'Adam'
    assert cfg.optim_wrapper.optimizer.lr == 5e-4
    assert cfg.param_scheduler.type == 'CosineAnnealingLR'
    assert cfg.train_cfg.max_epochs == 50
    assert cfg.train_dataloader.batch_size * 4 == 28
    assert {m.type for m in cfg.val_evaluator} == {'PSNR', 'SSIM'}
    with DefaultScope.overwrite_default_scope('mmagic'):
        model = MODELS.build(cfg.model)
    model.init_weights()
    frames_in = torch.rand(1, frames, 3, 32, 48)
    out = model(frames_in, mode='tensor')
    assert out.shape == (1, 3, 32, 48) and torch.isfinite(out).all()


def test_demo_config_selects_on_validation_and_tests_apart(
        tiny_vimeo, tmp_path):
    """The demo's protocol through MMagic's Runner: all-targets training,
    validation on sep_vallist.txt logged per iteration with the best
    checkpoint kept, the test on sep_testlist.txt with per-clip PSNR."""
    cfg = Config.fromfile(
        osp.join(CONFIGS,
                 'dncnn-off3-c32_1xb8-800iter_restoration-demo-q40.py'))
    assert cfg.train_dataloader.dataset.all_targets
    assert cfg.val_dataloader.dataset.ann_file == 'sep_vallist.txt'
    assert cfg.test_dataloader.dataset.ann_file == 'sep_testlist.txt'
    cfg.work_dir = str(tmp_path / 'work')
    cfg.train_cfg.max_iters = 4
    cfg.train_cfg.val_interval = 2
    cfg.param_scheduler = []
    cfg.default_hooks.checkpoint.interval = 2
    for loader in ('train', 'val', 'test'):
        cfg[f'{loader}_dataloader'].dataset.data_root = str(tiny_vimeo)
        cfg[f'{loader}_dataloader'].num_workers = 0
        cfg[f'{loader}_dataloader'].persistent_workers = False
    cfg.train_dataloader.batch_size = 2
    cfg.train_dataloader.dataset.pipeline[4].gt_patch_size = 16
    cfg.test_evaluator[0].out_file = str(tmp_path / 'per_clip.json')
    runner = Runner.from_cfg(cfg)
    assert len(runner.train_dataloader.dataset) == 4 * 5  # 5 targets
    runner.train()
    # validation scores at their iterations; the best one's checkpoint
    scalars, = glob.glob(
        osp.join(cfg.work_dir, '*', 'vis_data', 'scalars.json'))
    with open(scalars) as f:
        val = {r['step']: r['PSNR'] for r in map(json.loads, f) if 'PSNR' in r}
    assert sorted(val) == [2, 4]
    best = max(val, key=val.get)
    assert osp.exists(osp.join(cfg.work_dir, f'best_PSNR_iter_{best}.pth'))
    assert osp.exists(osp.join(cfg.work_dir, 'iter_2.pth'))  # all kept
    scores = {}

    class KeepMetrics(Hook):  # MMagic's MultiTestLoop returns None

        def after_test_epoch(self, runner, metrics=None):
            scores.update(metrics)

    runner.register_hook(KeepMetrics())
    runner.test()
    assert set(scores) == {'PSNR', 'SSIM'}
    # a zero-initialised network trained for 4 steps is still close to
    # the identity: PSNR near that of the compressed input (about 30 dB)
    assert 25 < scores['PSNR'] < 45
    # every test clip's PSNR, averaging to the metric
    with open(tmp_path / 'per_clip.json') as f:
        per_clip = json.load(f)
    assert sorted(per_clip) == sorted(
        str(tiny_vimeo / 'sequences' / clip / 'im4.png')
        for clip in (tiny_vimeo / 'sep_testlist.txt').read_text().split())
    assert sum(per_clip.values()) / len(per_clip) == pytest.approx(
        scores['PSNR'])
