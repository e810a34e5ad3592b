# Copyright (c) off_plugin authors. All rights reserved.
"""OFF on MMAction2's released TSN / TSM ResNet-50 checkpoints: the configs
name the released URLs as ``feature_checkpoint``; here a local HTTP server
serves checkpoints of the same keys (no network), so the URL path, the cache
and ``weights_only`` are exercised as a user meets them."""
import functools
import glob
import http.server
import json
import math
import os
import os.path as osp
import pickle
import subprocess
import sys
import textwrap
import threading
from collections import OrderedDict
from urllib.parse import urlparse

import pytest
import torch
from mmaction.registry import MODELS
from mmengine.config import Config
from mmengine.registry import DefaultScope
from motion_videos import make_motion_videos

import off_plugin.recognition  # noqa: F401

ROOT = osp.dirname(osp.dirname(osp.dirname(__file__)))
CONFIGS = osp.join(ROOT, 'configs', 'recognition', 'off')
MMACTION_CONFIGS = osp.join(
    osp.dirname(sys.modules['mmaction'].__file__), '.mim', 'configs',
    'recognition')

# OFF config -> the MMAction2 1.x config whose released checkpoint it loads.
RELEASED = {
    'kinetics400/off_tsn-r50_4xb32-7of25seg-30e_kinetics400-rgb.py':
    'tsn/tsn_imagenet-pretrained-r50_8xb32-1x1x8-100e_kinetics400-rgb.py',
    'sthv2/off_tsn-r50_4xb32-8of8seg-30e_sthv2-rgb.py':
    'tsn/tsn_imagenet-pretrained-r50_8xb32-1x1x8-50e_sthv2-rgb.py',
    'sthv2/off_tsm-r50_4xb32-8of8seg-30e_sthv2-rgb.py':
    'tsm/tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_sthv2-rgb.py',
}
UCF101 = 'ucf101/off_tsn-r50_4xb32-7of25seg-20kiter_ucf101-split1-rgb.py'


def build(cfg):
    with DefaultScope.overwrite_default_scope('mmaction'):
        return MODELS.build(cfg)


class QuietHandler(http.server.SimpleHTTPRequestHandler):

    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path, monkeypatch):
    """``(directory, base URL)`` of an HTTP server on localhost; the torch
    hub cache goes to ``tmp_path/torch_home``."""
    served = tmp_path / 'served'
    served.mkdir()
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    handler = functools.partial(QuietHandler, directory=str(served))
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield served, f'http://127.0.0.1:{httpd.server_address[1]}'
    httpd.shutdown()
    httpd.server_close()


def serve(server, url: str, checkpoint: dict) -> str:
    """Save ``checkpoint`` under the file name of the released ``url`` and
    return the local URL of it."""
    served, base = server
    name = osp.basename(urlparse(url).path)
    torch.save(checkpoint, served / name)
    return f'{base}/{name}'


def released_state(mmaction_config: str) -> OrderedDict:
    """The state dict of MMAction2's own model for its config (random
    weights, the keys and shapes of the released checkpoint)."""
    cfg = Config.fromfile(osp.join(MMACTION_CONFIGS, mmaction_config))
    cfg.model.backbone.pretrained = None
    if cfg.model.backbone.type == 'ResNetTSM':
        cfg.model.backbone.pretrained2d = False
    torch.manual_seed(0)
    model = build(cfg.model)
    model.init_weights()
    return model.state_dict()


def ucf101_0x_keys() -> list:
    """The keys of MMAction2 0.x's ``tsn_r50_1x1x3_75e_ucf101_rgb``
    checkpoint, from 0.x's module layout: ResNet-50 of ConvModules
    (``conv``/``bn``), stride-2 ``downsample`` ConvModule on the first block
    of each stage, ``TSNHead.fc_cls``."""
    bn = ('weight', 'bias', 'running_mean', 'running_var',
          'num_batches_tracked')

    def conv_module(prefix):
        return [f'{prefix}.conv.weight'] + [f'{prefix}.bn.{k}' for k in bn]

    keys = conv_module('backbone.conv1')
    for stage, blocks in enumerate((3, 4, 6, 3), start=1):
        for block in range(blocks):
            prefix = f'backbone.layer{stage}.{block}'
            for conv in ('conv1', 'conv2', 'conv3'):
                keys += conv_module(f'{prefix}.{conv}')
            if block == 0:
                keys += conv_module(f'{prefix}.downsample')
    return keys + ['cls_head.fc_cls.weight', 'cls_head.fc_cls.bias']


def assert_feature_generation_loaded(model, state):
    own = {
        k: v
        for k, v in model.state_dict().items()
        if k.startswith(('backbone.', 'cls_head.'))
    }
    assert set(own) == set(state)
    for key, value in state.items():
        assert torch.equal(own[key], value), key


@pytest.mark.parametrize('config', sorted(RELEASED))
def test_released_mmaction2_checkpoint_url_loads_every_key(config, server):
    cfg = Config.fromfile(osp.join(CONFIGS, config))
    released_url = cfg.model.feature_checkpoint
    assert released_url.startswith('https://download.openmmlab.com/')
    state = released_state(RELEASED[config])
    cfg.model.feature_checkpoint = serve(server, released_url,
                                         dict(meta=dict(), state_dict=state))

    model = build(cfg.model)
    model.init_weights()
    assert_feature_generation_loaded(model, state)
    # downloaded once into torch's hub cache, under the released name
    cached = osp.join(os.environ['TORCH_HOME'], 'hub', 'checkpoints',
                      osp.basename(urlparse(released_url).path))
    assert osp.isfile(cached)


def test_0x_ucf101_checkpoint_keys_load(server):
    cfg = Config.fromfile(osp.join(CONFIGS, UCF101))
    model = build(cfg.model)
    own = model.state_dict()
    torch.manual_seed(1)
    state = OrderedDict((k, torch.randint(0, 5, own[k].shape) if k.
                         endswith('tracked') else torch.randn(own[k].shape))
                        for k in ucf101_0x_keys())
    # 0.x checkpoints carry their config text and mmcv version in meta
    cfg.model.feature_checkpoint = serve(
        server, cfg.model.feature_checkpoint,
        dict(
            meta=dict(mmcv_version='1.1.5', config='model = dict()'),
            state_dict=state))
    model = build(cfg.model)
    model.init_weights()
    assert_feature_generation_loaded(model, state)


class Payload:
    """Stands for any object a malicious checkpoint could unpickle."""


def test_url_checkpoint_is_loaded_with_weights_only(server):
    cfg = Config.fromfile(osp.join(CONFIGS, UCF101))
    cfg.model.feature_checkpoint = serve(
        server, cfg.model.feature_checkpoint,
        dict(state_dict={}, payload=Payload()))
    model = build(cfg.model)
    with pytest.raises(
            pickle.UnpicklingError,
            match='Refused to load the checkpoint http://127'):
        model.init_weights()


@pytest.mark.slow
def test_one_mim_train_command_trains_off_on_a_released_checkpoint(
        server, tmp_path):
    """What a newcomer runs: ``mim train mmaction <OFF R50 config>``; only
    the data and the checkpoint's host differ from the released config."""
    config = osp.join(CONFIGS, UCF101)
    cfg = Config.fromfile(config)
    state = released_state(
        'tsn/tsn_imagenet-pretrained-r50_8xb32-1x1x3-100e_kinetics400-rgb.py')
    state['cls_head.fc_cls.weight'] = torch.randn(101, 2048) * 0.01
    state['cls_head.fc_cls.bias'] = torch.zeros(101)
    url = serve(server, cfg.model.feature_checkpoint,
                dict(meta=dict(), state_dict=state))
    data = tmp_path / 'data'
    make_motion_videos(str(data), num_train=2, num_val=1, num_frames=16)
    child = tmp_path / 'off_ucf101_tiny.py'
    child.write_text(
        textwrap.dedent(f'''\
        _base_ = ['{config}']
        model = dict(feature_checkpoint='{url}')
        train_dataloader = dict(
            batch_size=1, num_workers=0, persistent_workers=False,
            dataset=dict(ann_file='{data / "train.txt"}',
                         data_prefix=dict(video='{data / "videos"}')))
        val_dataloader = dict(
            num_workers=0, persistent_workers=False,
            dataset=dict(ann_file='{data / "val.txt"}',
                         data_prefix=dict(video='{data / "videos"}')))
        test_dataloader = val_dataloader
        train_cfg = dict(max_iters=2, val_interval=100)
        default_hooks = dict(checkpoint=dict(interval=2),
                             logger=dict(interval=1))
        '''))
    mim = osp.join(osp.dirname(sys.executable), 'mim')
    work = tmp_path / 'work'
    proc = subprocess.run(
        [mim, 'train', 'mmaction',
         str(child), '--work-dir',
         str(work)],
        env=dict(os.environ, OMP_NUM_THREADS='2'),
        capture_output=True,
        text=True,
        timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    saved = torch.load(work / 'iter_2.pth')['state_dict']
    for key, value in state.items():  # loaded from the URL, kept frozen
        assert torch.equal(saved[key], value), key
    # both iterations logged every level's loss
    scalars = [
        json.loads(line) for line in open(
            glob.glob(str(work / '*' / 'vis_data' / 'scalars.json'))[0])
    ]
    scalars = [record for record in scalars if 'loss' in record]
    assert [record['step'] for record in scalars] == [1, 2]
    for record in scalars:
        for level in range(3):
            assert math.isfinite(record[f'loss_off{level}'])
