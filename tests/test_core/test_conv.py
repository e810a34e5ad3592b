# Copyright (c) off_plugin authors. All rights reserved.
"""ConvAct is mmcv's ConvModule without a norm layer: same parameter names,
same initialisation from the same seed, same output."""
import pytest
import torch

from off_plugin.core import ConvAct

mmcv_cnn = pytest.importorskip('mmcv.cnn', reason='compared with mmcv')


@pytest.mark.parametrize(
    'act_cfg',
    [dict(type='ReLU'), None,
     dict(type='LeakyReLU', negative_slope=0.2)])
def test_conv_act_is_conv_module_without_norm(act_cfg):
    torch.manual_seed(0)
    ours = ConvAct(6, 4, 3, stride=2, padding=1, act_cfg=act_cfg)
    torch.manual_seed(0)
    theirs = mmcv_cnn.ConvModule(6, 4, 3, stride=2, padding=1, act_cfg=act_cfg)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for name, value in theirs.state_dict().items():
        assert torch.equal(ours.state_dict()[name], value), name
    assert ours.conv.bias.abs().max() == 0
    assert ours.conv.weight.std() > 0
    x = torch.randn(2, 6, 9, 9)
    torch.testing.assert_close(
        ours(x.clone()), theirs(x.clone()), rtol=0, atol=0)
    if act_cfg is not None and act_cfg['type'] == 'ReLU':
        assert ours.activate.inplace
