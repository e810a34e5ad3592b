# Copyright (c) off_plugin authors. All rights reserved.
import glob
import os.path as osp

import pytest
import torch
from mmagic.registry import MODELS
from mmagic.structures import DataSample
from mmengine.config import Config
from mmengine.registry import DefaultScope

import off_plugin.restoration  # noqa: F401
from off_plugin.restoration import DnCNN, DnCNNOFF


def test_dncnn_has_the_papers_depth_and_learns_a_residual():
    model = DnCNN()
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 20
    assert not any(
        isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    model = DnCNN(zero_init_residual=True)
    model.init_weights()
    x = torch.rand(2, 3, 20, 16)
    assert torch.equal(model(x), x)  # zero last layer: the identity


@pytest.mark.parametrize('num_frames, target', [(2, 1), (3, 1)])
def test_dncnn_off_zero_residual_returns_the_target_frame(num_frames, target):
    model = DnCNNOFF(
        num_frames=num_frames,
        mid_channels=8,
        off_unit=dict(reduce_channels=4),
        zero_init_residual=True)
    model.init_weights()
    frames = torch.rand(2, num_frames, 3, 20, 16)
    assert torch.equal(model(frames), frames[:, target])
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    # 3 per frame (shared) + the OFF unit's 1x1 + 5 + 18
    assert len(convs) == 3 + 1 + 5 + 18


def test_dncnn_off_restores_from_its_neighbours():
    torch.manual_seed(0)
    model = DnCNNOFF(
        num_frames=3, mid_channels=8, off_unit=dict(reduce_channels=4))
    model.init_weights()
    frames = torch.rand(1, 3, 3, 16, 16, requires_grad=True)
    model(frames).square().sum().backward()
    per_frame = frames.grad.abs().flatten(2).sum(-1).sum(-1)[0]
    assert (per_frame > 0).all()  # both neighbours reach the output


def test_kaiming_init_cfg_keeps_the_signal_that_xavier_shrinks():
    """The demo's reason for Kaiming: features before the last layer of a
    10-layer stack keep the input's scale with it, not with Xavier."""
    torch.manual_seed(0)
    x = torch.rand(4, 3, 32, 32)

    def last_features(model):
        return model.body[:-1](x).square().mean().sqrt().item()

    xavier = DnCNN(mid_channels=32, num_layers=10, zero_init_residual=True)
    kaiming = DnCNN(
        mid_channels=32,
        num_layers=10,
        zero_init_residual=True,
        init_cfg=dict(type='Kaiming', layer='Conv2d'))
    xavier.init_weights()
    kaiming.init_weights()
    scale = x.square().mean().sqrt().item()
    assert last_features(xavier) < scale / 20
    assert last_features(kaiming) > scale / 3
    assert torch.equal(kaiming(x), x)  # still the identity at the start


def test_pretrained_init_is_not_zeroed(tmp_path):
    torch.manual_seed(0)
    trained = DnCNN(mid_channels=8, num_layers=3)
    trained.init_weights()
    torch.save(trained.state_dict(), tmp_path / 'dncnn.pth')
    model = DnCNN(
        mid_channels=8,
        num_layers=3,
        zero_init_residual=True,
        init_cfg=dict(
            type='Pretrained', checkpoint=str(tmp_path / 'dncnn.pth')))
    model.init_weights()
    x = torch.rand(1, 3, 8, 8)
    assert torch.equal(model(x), trained(x))


def test_xavier_uniform_initialisation():
    torch.manual_seed(0)
    model = DnCNN()
    model.init_weights()
    conv = model.body[5].conv
    fan = conv.in_channels * 9 + conv.out_channels * 9
    bound = (6 / fan)**.5
    weight = conv.weight.detach()
    assert weight.abs().max().item() <= bound
    assert weight.std().item() == pytest.approx(bound / 3**.5, rel=0.05)
    assert torch.count_nonzero(conv.bias) == 0


CONFIGS = sorted(
    glob.glob(
        osp.join(
            osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))),
            'configs', 'restoration', 'off', '*.py')))


@pytest.mark.parametrize('config', CONFIGS, ids=osp.basename)
def test_every_config_initialises_each_convolution_as_it_says(config):
    """The paper's configs: exactly ``xavier_uniform_`` drawn convolution
    by convolution (the OFF unit's too) and zero biases, as the plugin's own
    loop drew them before mmengine's ``Xavier`` initializer; the demos'
    ``Kaiming``: every convolution N(0, 2 / fan_out). The last one is zero
    with ``zero_init_residual``."""
    cfg = Config.fromfile(config).model.generator
    with DefaultScope.overwrite_default_scope('mmagic'):
        model, reference = MODELS.build(cfg), MODELS.build(cfg)
    torch.manual_seed(0)
    model.init_weights()
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    if cfg.get('zero_init_residual'):
        assert not convs.pop().weight.any()
    assert not any(conv.bias.any() for conv in convs)
    if cfg.get('init_cfg') is None:
        torch.manual_seed(0)
        for conv in reference.modules():
            if isinstance(conv, torch.nn.Conv2d):
                torch.nn.init.xavier_uniform_(conv.weight)
        for key, value in reference.state_dict().items():
            if key.endswith('weight'):
                assert torch.equal(model.state_dict()[key], value), key
    else:
        assert cfg.init_cfg.type == 'Kaiming'
        for conv in convs:
            fan_out = conv.out_channels * conv.kernel_size[0]**2
            assert conv.weight.std().item() == pytest.approx(
                (2 / fan_out)**.5, rel=.15)


def test_frame_count_mismatches_are_named():
    with pytest.raises(ValueError, match=r'expects \(N, 3, 3, H, W\)'):
        DnCNNOFF(num_frames=3, mid_channels=8)(torch.rand(1, 2, 3, 8, 8))
    with pytest.raises(ValueError, match='at least 2 frames'):
        DnCNNOFF(num_frames=1)


def build_restorer(generator):
    with DefaultScope.overwrite_default_scope('mmagic'):
        model = MODELS.build(
            dict(
                type='OFFRestorer',
                generator=generator,
                pixel_loss=dict(type='MSELoss'),
                data_preprocessor=dict(
                    type='DataPreprocessor', mean=[0.] * 3, std=[255.] * 3)))
    model.init_weights()
    return model


def test_restorer_checks_frames_and_sizes():
    model = build_restorer(
        dict(
            type='DnCNNOFF',
            num_frames=3,
            mid_channels=8,
            off_unit=dict(reduce_channels=4)))
    samples = DataSample(gt_img=torch.rand(2, 3, 16, 16))
    with pytest.raises(ValueError, match='gives 2 frames.*takes 3'):
        model(torch.rand(2, 2, 3, 16, 16), samples, mode='loss')
    with pytest.raises(ValueError, match='same size'):
        model(torch.rand(2, 3, 3, 16, 12), samples, mode='loss')
    losses = model(torch.rand(2, 3, 3, 16, 16), samples, mode='loss')
    assert losses['loss'].ndim == 0 and losses['loss'] > 0


def test_restorer_feeds_one_frame_to_dncnn():
    model = build_restorer(
        dict(
            type='DnCNN',
            mid_channels=8,
            num_layers=4,
            zero_init_residual=True))
    frames = torch.rand(2, 1, 3, 16, 16)
    assert torch.equal(model(frames, mode='tensor'), frames[:, 0])
