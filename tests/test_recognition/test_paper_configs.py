# Copyright (c) off_plugin authors. All rights reserved.
"""The UCF-101 / HMDB-51 configs of the paper: every one loads with the
paper's settings and points at the right split and stage-1 checkpoint; the
models build and train/test on small inputs; the pipelines give the
model what it expects on a real (tiny) video and its extracted flow."""
import glob
import os.path as osp
import re

import numpy as np
import pytest
import torch
from mmaction.registry import MODELS, TRANSFORMS
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import DefaultScope
from motion_videos import render_clip, write_video
from optical_flow import extract_video_flow

import off_plugin.recognition  # noqa: F401

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# the paper's BN-Inception configs (not the Caffe ports or the R50 ones)
CONFIGS = sorted(
    glob.glob(
        osp.join(ROOT,
                 'configs/recognition/off/*/*_bninception_*-split[123]-*.py')))
NAMES = [osp.basename(c)[:-3] for c in CONFIGS]
SPLIT1_UCF = [c for c in CONFIGS if 'ucf101-split1' in c]
CHANNELS = {'rgb': 3, 'flow': 10, 'rgbdiff': 15}


def load(path):
    return Config.fromfile(path)


def parts(name):
    stage, dataset, split, modality = re.fullmatch(
        r'(tsn|off)_bninception_.*_(ucf101|hmdb51)-split(\d)-(\w+)',
        name).groups()
    return stage, dataset, int(split), modality


def test_every_dataset_split_stage_and_modality_has_a_config():
    assert len(CONFIGS) == 2 * 3 * 2 * 3
    assert {parts(n)[1:]
            for n in NAMES} == {(d, s, m)
                                for d in ('ucf101', 'hmdb51')
                                for s in (1, 2, 3)
                                for m in CHANNELS}


@pytest.mark.parametrize('path', CONFIGS, ids=NAMES)
def test_config_settings(path):
    stage, dataset, split, modality = parts(osp.basename(path)[:-3])
    cfg = load(path)
    assert cfg.custom_imports.imports == ['off_plugin.recognition']
    assert cfg.model.backbone.get('in_channels', 3) == CHANNELS[modality]
    classes = {'ucf101': 101, 'hmdb51': 51}[dataset]
    assert cfg.model.cls_head.num_classes == classes
    kind = 'rawframes' if modality == 'flow' else 'videos'
    # flow: frames and lists where tools/data/extract_tvl1_flow.py writes them
    lists = f'data/{dataset}/rawframes' if modality == 'flow' else \
        f'data/{dataset}'
    for loader, subset in (('train', 'train'), ('val', 'val'), ('test',
                                                                'val')):
        data = cfg[f'{loader}_dataloader'].dataset
        assert data.ann_file == \
            f'{lists}/{dataset}_{subset}_split_{split}_{kind}.txt'
        assert list(data.data_prefix.values()) == [f'data/{dataset}/{kind}']
    test = cfg.test_dataloader.dataset.pipeline
    assert any(t['type'] == 'TenCrop' for t in test)
    samplers = [t for t in test if 'Sample' in t['type']]
    assert len(samplers) == 1 and samplers[0]['test_mode']
    # testing takes all num_segments of the interval-consistent sampler
    assert samplers[0].get('num_segments', samplers[0]['num_clips']) == 25
    # MMAction2's protocol: the paper's interval, crops averaged
    assert samplers[0].get('mode', 'interval') == 'interval'
    assert cfg.model.get('test_cfg', {}).get('crop_agg', 'mean') == 'mean'
    if stage == 'tsn':
        assert cfg.model.type == 'Recognizer2D'
        assert cfg.train_dataloader.batch_size * 8 == 256
        return
    # stage 2: the paper's schedule and the matching stage-1 checkpoint
    assert cfg.model.type == 'OFFRecognizer'
    assert cfg.model.off_head.num_classes == classes
    assert cfg.model.test_cfg.num_segments == 25
    assert cfg.model.train_cfg.num_segments == 7
    assert cfg.train_dataloader.batch_size * 4 == 128
    assert cfg.optim_wrapper.optimizer.lr == (0.05
                                              if modality == 'flow' else 0.02)
    assert cfg.param_scheduler[0].milestones == [10000, 15000, 18000]
    assert cfg.train_cfg.max_iters == 20000
    assert cfg.model.off_head.off_sub_network.off_unit.get(
        'spatial', True) == (
            modality == 'rgb')
    work_dir, checkpoint = cfg.model.feature_checkpoint.split('/')[1:]
    stage1 = [c for c in CONFIGS if osp.basename(c)[:-3] == work_dir]
    assert len(stage1) == 1
    assert parts(work_dir) == ('tsn', dataset, split, modality)
    assert checkpoint == f'iter_{load(stage1[0]).train_cfg.max_iters}.pth'


def build(cfg):
    cfg.model.backbone.pretrained = None  # no download in tests
    cfg.model.pop('feature_checkpoint', None)
    with DefaultScope.overwrite_default_scope('mmaction'):
        model = MODELS.build(cfg.model)
        model.init_weights()
    return model


@pytest.mark.parametrize(
    'path', SPLIT1_UCF, ids=[osp.basename(p)[:-3] for p in SPLIT1_UCF])
def test_model_trains_and_tests_on_small_inputs(path):
    stage, _, _, modality = parts(osp.basename(path)[:-3])
    cfg = load(path)
    torch.manual_seed(0)
    model = build(cfg)
    c = CHANNELS[modality]
    train_views = 3 if stage == 'tsn' else 7
    data = dict(
        inputs=[
            torch.randint(0, 255, (train_views, c, 64, 64)) for _ in range(2)
        ],
        data_samples=[
            ActionDataSample().set_gt_label(torch.tensor([i]))
            for i in range(2)
        ])
    optim = torch.optim.SGD([p for p in model.parameters() if p.requires_grad],
                            lr=0.01)
    model.train()
    losses = model.loss(**model.data_preprocessor(data, True))
    loss = sum(v for k, v in losses.items() if k.startswith('loss'))
    loss.backward()
    optim.step()
    if stage == 'off':
        assert sorted(k for k in losses if k.startswith('loss')) == [
            'loss_off0', 'loss_off1', 'loss_off2'
        ]
    model.eval()
    test = dict(
        inputs=[torch.randint(0, 255, (25, c, 64, 64))],
        data_samples=[ActionDataSample()])
    with torch.no_grad():
        out = model.test_step(test)
    classes = cfg.model.cls_head.num_classes
    assert out[0].pred_score.shape == (classes, )
    assert torch.isfinite(out[0].pred_score).all()


@pytest.fixture(scope='module')
def tiny_ucf(tmp_path_factory):
    """One 30-frame video and its TV-L1 flow in the configs' layout."""
    root = tmp_path_factory.mktemp('ucf101')
    frames = render_clip(
        np.random.default_rng(0), (1, 0),
        size=64,
        num_frames=30,
        speed=1,
        patch=16)
    (root / 'videos' / 'Run').mkdir(parents=True)
    write_video(str(root / 'videos/Run/v_Run_g01_c01.avi'), frames)
    count = extract_video_flow(
        str(root / 'videos/Run/v_Run_g01_c01.avi'),
        str(root / 'rawframes/Run/v_Run_g01_c01'))
    return root, count


@pytest.mark.parametrize(
    'path', SPLIT1_UCF, ids=[osp.basename(p)[:-3] for p in SPLIT1_UCF])
def test_pipelines_give_the_model_its_input(path, tiny_ucf):
    root, flow_frames = tiny_ucf
    stage, _, _, modality = parts(osp.basename(path)[:-3])
    cfg = load(path)
    if modality == 'flow':
        sample = dict(
            frame_dir=str(root / 'rawframes/Run/v_Run_g01_c01'),
            total_frames=flow_frames,
            label=0,
            start_index=1,
            filename_tmpl='{}_{:05d}.jpg',
            modality='Flow')
    else:
        sample = dict(
            filename=str(root / 'videos/Run/v_Run_g01_c01.avi'),
            label=0,
            start_index=0,
            modality='RGB')
    c = CHANNELS[modality]
    with DefaultScope.overwrite_default_scope('mmaction'):
        for loader, views in (('train', 3 if stage == 'tsn' else 7), ('test',
                                                                      250)):
            pipeline = Compose([
                TRANSFORMS.build(t)
                for t in cfg[f'{loader}_dataloader'].dataset.pipeline
            ])
            packed = pipeline(dict(sample))
            assert tuple(packed['inputs'].shape) == (views, c, 224, 224)


CAFFE = sorted(
    glob.glob(
        osp.join(ROOT,
                 'configs/recognition/off/ucf101/*_bninception-caffe_*.py')))


@pytest.mark.parametrize(
    'path', CAFFE, ids=[osp.basename(p)[:-3] for p in CAFFE])
def test_caffe_configs_test_as_the_authors(path):
    """The authors' protocol (their tools/test.py, ensemble_test.py and
    video_data_layer.cpp): frames 1 + i * floor((L - new_length) / 24) over
    the whole video, the maximum over the 10 crops (stage 2), dropout 0.8
    before the classifiers of the flow network."""
    name = osp.basename(path)[:-3]
    stage, modality = name.split('_')[0], name.rsplit('-', 1)[1]
    cfg = load(path)
    new_length = {'rgb': 1, 'flow': 5, 'rgbdiff': 6}[modality]
    with DefaultScope.overwrite_default_scope('mmaction'):
        for loader in ('val', 'test'):
            sampler = TRANSFORMS.build(
                cfg[f'{loader}_dataloader'].dataset.pipeline[0 if modality ==
                                                             'flow' else 1])
            for total in (60, 137, 250):
                step = (total - new_length) // 24
                out = sampler(dict(total_frames=total, start_index=1))
                starts = out['frame_inds'].reshape(25, new_length)[:, 0] - 1
                assert starts.tolist() == [
                    min(1 + i * step, total - new_length) for i in range(25)
                ]
    assert any(t['type'] == 'TenCrop'
               for t in cfg.test_dataloader.dataset.pipeline)
    if modality == 'flow':
        assert cfg.model.cls_head.dropout_ratio == 0.8
    if stage == 'tsn':  # Recognizer2D: crops averaged (README)
        assert cfg.model.type == 'Recognizer2D'
        return
    assert cfg.model.test_cfg.crop_agg == 'max'
    assert cfg.model.off_head.dropout_ratio == 0.8
    train = cfg.train_dataloader.dataset.pipeline
    sampler = [t for t in train if 'Sample' in t['type']][0]
    assert (sampler['mode'], sampler['max_start'], sampler['num_clips'],
            sampler['num_segments']) == ('positions', 17, 7, 25)


def test_caffe_flow_network_has_dropout_0_8():
    path = [
        p for p in CAFFE if p.endswith('tsn_bninception-caffe_8xb32-'
                                       '5x1x3-20kiter_ucf101-split1-'
                                       'flow.py')
    ][0]
    model = build(load(path))
    assert model.cls_head.dropout.p == 0.8
