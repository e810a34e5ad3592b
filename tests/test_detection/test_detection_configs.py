# Copyright (c) off_plugin authors. All rights reserved.
"""The detection configs: the paper's settings, and every config trained
and tested through MMDetection's Runner on a tiny moving-objects set;
resume continues a run."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner
from moving_objects import CLASSES, make_moving_objects

import off_plugin.detection  # noqa: F401

ROOT = osp.dirname(osp.dirname(osp.dirname(__file__)))
CONFIGS = osp.join(ROOT, 'configs', 'detection', 'off')
VID = sorted(glob.glob(osp.join(CONFIGS, '*_imagenet-vid.py')))
DEMO = sorted(glob.glob(osp.join(CONFIGS, '*_moving-objects.py')))


def load(name):
    return Config.fromfile(osp.join(CONFIGS, name))


def test_every_vid_model_has_a_config():
    assert {osp.basename(p)
            for p in VID} == {
                'rfcn_r101-dc5_4xb1-220k_imagenet-vid.py',
                'off-ss_rfcn_r101-dc5_4xb1-220k_imagenet-vid.py',
                'off-ms_rfcn_r101-dc5_4xb1-220k_imagenet-vid.py',
                'faster-rcnn_r50-dc5_4xb1-220k_imagenet-vid.py',
                'off-ms_faster-rcnn_r50-dc5_4xb1-220k_imagenet-vid.py',
            }


@pytest.mark.parametrize('path', VID, ids=[osp.basename(p) for p in VID])
def test_paper_settings(path):
    cfg = Config.fromfile(path)
    assert cfg.custom_imports.imports == ['off_plugin.detection']
    assert cfg.model.type == 'OFFVideoDetector'
    # SGD 2.5e-4 -> 2.5e-5 after 73k of 220k iterations, 4 GPUs x 1 image
    assert cfg.optim_wrapper.optimizer.type == 'SGD'
    assert cfg.optim_wrapper.optimizer.lr == 2.5e-4
    assert cfg.param_scheduler[0].milestones == [73000]
    assert cfg.param_scheduler[0].gamma == 0.1
    assert cfg.train_cfg.max_iters == 220000
    assert cfg.train_dataloader.batch_size == 1
    assert cfg.auto_scale_lr.base_batch_size == 4
    train = cfg.train_dataloader.dataset
    assert train.type == 'ImagenetVIDDataset' and train.det_ann_file
    assert cfg.train_dataloader.sampler.type == 'TrackImgSampler'
    resize = [t for t in train.pipeline[1].transforms if t.type == 'Resize'][0]
    assert resize.scale == (1000, 600) and resize.keep_ratio
    assert {e.type
            for e in cfg.val_evaluator
            } == {'ImagenetVIDMetric', 'CocoVideoMetric'}
    detector = cfg.model.detector
    assert detector.backbone.strides[-1] == 1  # res5 dilated: stride 16
    assert detector.backbone.dilations[-1] == 2
    assert detector.backbone.out_indices == (1, 3)
    name = osp.basename(path)
    if name.startswith(('rfcn', 'off-ss_rfcn', 'off-ms_rfcn')):
        assert detector.backbone.depth == 101
        assert detector.neck.out_channels == 1024
        assert cfg.model.rpn_channels == 512
        assert detector.roi_head.type == 'RFCNRoIHead'
        assert detector.roi_head.bbox_head.roi_feat_size == 7
        assert detector.roi_head.bbox_head.num_classes == 30
        assert detector.train_cfg.rcnn.sampler.type == 'OHEMSampler'
        assert detector.train_cfg.rcnn.sampler.num == 128
        assert detector.test_cfg.rcnn.nms.iou_threshold == 0.3
    else:
        assert detector.backbone.depth == 50
        assert cfg.model.get('rpn_channels') is None
        assert detector.roi_head.type == 'StandardRoIHead'
    off = cfg.model.off
    if name.startswith(('rfcn', 'faster')):
        assert off is None
    else:
        scales = [level.in_indices for level in off.levels]
        assert scales == ([[1]] if 'off-ss' in name else [[0], [1]])
        assert off.se_ratio == 16


@pytest.fixture(scope='module')
def tiny_set(tmp_path_factory):
    root = tmp_path_factory.mktemp('moving_objects')
    make_moving_objects(
        str(root),
        dict(train=4, val=2),
        num_frames=3,
        size=(64, 64),
        object_size=(18, 24),
        max_objects=2)
    return root


def tiny(cfg, data, work_dir, scale=(96, 64)):
    """Point a config at the tiny set: 3 classes, small frames, 2
    iterations, no pretrained weights; anchors may cross the border of the
    small frames; a narrow fc box head (Faster R-CNN's 1024-d fc on
    2048x7x7 RoIs alone takes 10 s an iteration here); no validation at the
    end of training (``runner.test()`` runs the same loader and
    evaluators)."""
    cfg.work_dir = str(work_dir)
    detector = cfg.model.detector
    detector.backbone.init_cfg = None
    detector.roi_head.bbox_head.num_classes = len(CLASSES)
    if 'fc_out_channels' in detector.roi_head.bbox_head:
        detector.roi_head.bbox_head.fc_out_channels = 32
    detector.train_cfg.rpn.allowed_border = -1
    for loader, split in (('train', 'train'), ('val', 'val'), ('test', 'val')):
        dataloader = cfg[f'{loader}_dataloader']
        dataloader.update(num_workers=0, persistent_workers=False)
        dataset = dataloader.dataset
        dataset.update(
            data_root=str(data),
            ann_file=f'annotations/{split}.json',
            metainfo=dict(classes=CLASSES))
        dataset.pop('det_ann_file', None)
        for step in dataset.pipeline:
            for t in step.get('transforms', []):
                if t.type == 'Resize':
                    t.scale = scale
    cfg.train_dataloader.batch_size = 2
    evaluators = cfg.test_evaluator if isinstance(
        cfg.test_evaluator, list) else [cfg.test_evaluator]
    for evaluator in evaluators:
        evaluator.ann_file = str(data / 'annotations' / 'val.json')
    cfg.val_evaluator = cfg.test_evaluator = evaluators
    if cfg.train_cfg.type == 'IterBasedTrainLoop':
        cfg.train_cfg.update(max_iters=2, val_interval=100, val_begin=100)
        cfg.default_hooks.checkpoint.interval = 2
    else:
        cfg.train_cfg.update(max_epochs=1, val_interval=100, val_begin=100)
    cfg.param_scheduler = []
    return cfg


CASES = VID + DEMO


@pytest.mark.slow
@pytest.mark.parametrize('path', CASES, ids=[osp.basename(p) for p in CASES])
def test_runner_trains_and_tests_every_config(path, tiny_set, tmp_path):
    cfg = tiny(Config.fromfile(path), tiny_set, tmp_path)
    # no checkpoint (500 MB for R101 with its optimizer state): the weights
    # are read from the runner
    cfg.default_hooks.checkpoint.update(interval=10**6, save_last=False)
    runner = Runner.from_cfg(cfg)
    before = {k: v.clone() for k, v in runner.model.state_dict().items()}
    runner.train()
    after = runner.model.state_dict()
    moved = [
        k for k, v in before.items()
        if v.is_floating_point() and not torch.equal(v, after[k])
    ]
    assert any(k.startswith('detector.roi_head') for k in moved)
    if cfg.model.off is not None:
        assert any(k.startswith('off.') for k in moved)
    metrics = runner.test()
    assert 0 <= metrics['vid/mAP'] <= 1


@pytest.mark.slow
def test_resume_continues_the_run(tiny_set, tmp_path):
    demo = osp.join(CONFIGS, 'off-ms_rfcn_r18-tiny_1xb8-5e_moving-objects.py')
    cfg = tiny(Config.fromfile(demo), tiny_set, tmp_path)
    cfg.train_cfg.max_epochs = 1
    cfg.default_hooks.checkpoint.interval = 1
    Runner.from_cfg(cfg).train()
    first = torch.load(tmp_path / 'epoch_1.pth')
    cfg.train_cfg.max_epochs = 2
    cfg.resume = True
    runner = Runner.from_cfg(cfg)
    runner.train()
    # it went on from epoch 1 with the saved weights and optimizer state
    assert runner.epoch == 2
    second = torch.load(tmp_path / 'epoch_2.pth')
    assert second['meta']['iter'] == 2 * first['meta']['iter']
    assert second['meta']['epoch'] == 2
