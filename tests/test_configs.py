# Copyright (c) off_plugin authors. All rights reserved.
"""Configs that inherit from the hosts (``mmaction::`` and co.) and import
the plugin with ``custom_imports`` load and build the OFF unit."""
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from off_plugin.models import OFFUnit

HOST_BASES = {
    'mmaction': 'mmaction::_base_/default_runtime.py',
    'mmdet': 'mmdet::_base_/default_runtime.py',
    'mmagic': 'mmagic::_base_/default_runtime.py',
}


@pytest.mark.parametrize('scope', sorted(HOST_BASES))
def test_host_config_with_custom_imports_builds_off_unit(scope, tmp_path):
    config = tmp_path / f'{scope}_off.py'
    config.write_text(
        f"_base_ = '{HOST_BASES[scope]}'\n"
        "custom_imports = dict(imports=['off_plugin'], "
        "allow_failed_imports=False)\n"
        "off = dict(type='OFFUnit', in_channels=8, reduce_channels=4, "
        "kernel='combined')\n")
    cfg = Config.fromfile(str(config))
    assert cfg.default_scope == scope  # inherited from the host's base
    registry = __import__(f'{scope}.registry', fromlist=['MODELS']).MODELS
    with DefaultScope.overwrite_default_scope(scope):
        unit = registry.build(cfg.off)
    assert isinstance(unit, OFFUnit) and unit.out_channels == 4 + 4
    assert unit(torch.randn(2, 3, 8, 5, 5)).shape == (2, 2, 8, 5, 5)
