# Copyright (c) off_plugin authors. All rights reserved.
import pytest
import torch

import off_plugin.recognition  # noqa: F401
from off_plugin.recognition import BNInception

ALL_BLOCKS = ('3a', '3b', '3c', '4a', '4b', '4c', '4d', '4e', '5a', '5b')


def test_maps_have_the_papers_channels_and_sizes():
    model = BNInception(out_blocks=ALL_BLOCKS).eval()
    with torch.no_grad():
        outs = model(torch.randn(1, 3, 224, 224))
    got = {b: tuple(o.shape[1:]) for b, o in zip(ALL_BLOCKS, outs)}
    # PAPER_NOTES (channels @ size of the authors' prototxt).
    assert got == {
        '3a': (256, 28, 28),
        '3b': (320, 28, 28),
        '3c': (576, 14, 14),
        '4a': (576, 14, 14),
        '4b': (576, 14, 14),
        '4c': (608, 14, 14),
        '4d': (608, 14, 14),
        '4e': (1056, 7, 7),
        '5a': (1024, 7, 7),
        '5b': (1024, 7, 7)
    }
    assert model.out_channels == [c for c, _, _ in got.values()]


def test_network_stops_at_the_last_requested_block():
    model = BNInception(out_blocks=('3a', '3b'))
    assert not hasattr(model, 'inception_3c')
    with pytest.raises(ValueError, match='network order'):
        BNInception(out_blocks=('4a', '3a'))
    with pytest.raises(ValueError, match='distinct blocks'):
        BNInception(out_blocks=('6a', ))


def caffe_port_state(model):
    """``model``'s weights under the key names of the Caffe port."""
    state = {}
    for key, value in model.state_dict().items():
        if key.endswith('num_batches_tracked'):
            continue
        prefix, layer, param = key.rsplit('.', 2)
        name = prefix.replace('.', '_')
        state[f'{name}.{param}' if layer ==
              'conv' else f'{name}_bn.{param}'] = value.clone()
    state['last_linear.weight'] = torch.zeros(1000, 1024)
    # the port keeps some BatchNorm vectors as (1, C)
    state['inception_3b_1x1_bn.weight'] = state['inception_3b_1x1_bn.weight'][
        None]
    return state


def test_loads_the_caffe_port_and_cross_modality_init(tmp_path):
    torch.manual_seed(0)
    source = BNInception(out_blocks=('3b', ))
    for m in source.modules():  # non-trivial BN statistics
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2)
    path = tmp_path / 'bn_inception.pth'
    torch.save(caffe_port_state(source), path)
    assert 'inception_3a_double_3x3_1_bn.running_var' in torch.load(path)

    rgb = BNInception(out_blocks=('3b', ), pretrained=str(path))
    rgb.init_weights()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(rgb.eval()(x), source.eval()(x))

    flow = BNInception(
        in_channels=10, out_blocks=('3b', ), pretrained=str(path))
    flow.init_weights()
    w_rgb = source.conv1_7x7_s2.conv.weight
    w_flow = flow.conv1_7x7_s2.conv.weight
    assert w_flow.shape == (64, 10, 7, 7)
    for c in range(10):  # TSN: mean over RGB, repeated on every channel
        torch.testing.assert_close(w_flow[:, c], w_rgb.mean(1))
    torch.testing.assert_close(flow.inception_3b.pool_proj.bn.running_var,
                               source.inception_3b.pool_proj.bn.running_var)


def test_checkpoint_of_another_network_is_refused(tmp_path):
    path = tmp_path / 'resnet.pth'
    torch.save({'conv1.weight': torch.zeros(64, 3, 7, 7)}, path)
    model = BNInception(pretrained=str(path))
    with pytest.raises(ValueError, match='not a BN-Inception checkpoint'):
        model.init_weights()


def test_wrong_channel_count_is_named():
    with pytest.raises(ValueError, match='expects 10 input channels, got 3'):
        BNInception(
            in_channels=10, out_blocks=('3a', ))(
                torch.randn(1, 3, 32, 32))


def test_partial_bn_and_frozen_stages():
    model = BNInception(out_blocks=('3b', ), partial_bn=True).train()
    norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert norms[0].training and norms[0].weight.requires_grad
    assert not any(n.training or n.weight.requires_grad for n in norms[1:])
    assert all(p.requires_grad for n, p in model.named_parameters()
               if '.conv.' in n)

    # stage 1 is the stem, stage 2 the first inception block
    model = BNInception(out_blocks=('3b', ), frozen_stages=2).train()
    assert not model.conv2_3x3.training
    assert not any(p.requires_grad for p in model.inception_3a.parameters())
    assert all(p.requires_grad
               for n, p in model.inception_3b.named_parameters()
               if '.conv.' in n)
