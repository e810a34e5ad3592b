# Copyright (c) off_plugin authors. All rights reserved.
"""Configs that inherit from the hosts (``mmaction::`` and co.) and import
the plugin with ``custom_imports`` load and build the OFF unit; every task's
metafile lists its configs."""
import glob
import os.path as osp

import pytest
import torch
import yaml
from mmengine.config import Config
from mmengine.registry import DefaultScope

import off_plugin.all_tasks  # noqa: F401
from off_plugin.core import OFFUnit

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
        "custom_imports = dict(imports=['off_plugin.all_tasks'], "
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


ROOT = osp.dirname(osp.dirname(__file__))


@pytest.mark.parametrize('task', ['recognition', 'restoration', 'detection'])
def test_metafile_lists_every_config(task):
    folder = osp.join(ROOT, 'configs', task, 'off')
    with open(osp.join(folder, 'metafile.yml')) as f:
        meta = yaml.safe_load(f)
    listed = sorted(m['Config'] for m in meta['Models'])
    on_disk = sorted(
        osp.relpath(p, ROOT)
        for p in glob.glob(osp.join(folder, '**', '*.py'), recursive=True)
        if '_base_' not in p)
    assert listed == on_disk
    assert all(m['Name'] == osp.basename(m['Config'])[:-3]
               for m in meta['Models'])
    with open(osp.join(ROOT, 'model-index.yml')) as f:
        assert f'configs/{task}/off/metafile.yml' in yaml.safe_load(
            f)['Import']


CONFIGS = sorted(
    p for p in glob.glob(
        osp.join(ROOT, 'configs', '*', 'off', '**', '*.py'), recursive=True)
    if '_base_' not in p)


@pytest.mark.parametrize(
    'config', CONFIGS, ids=[osp.relpath(p, ROOT) for p in CONFIGS])
def test_every_config_selects_the_policies(config):
    """``configs/_base_/off_policies.py``'s hooks: the checkpoint hook of
    ``default_hooks``, built from the config's host registry (its
    ``_scope_``), writes atomically; the others are in ``custom_hooks``."""
    from mmengine.registry import HOOKS

    from off_plugin.engine import AtomicCheckpointHook
    cfg = Config.fromfile(config)
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        hook = HOOKS.build(cfg.default_hooks.checkpoint)
    assert type(hook) is AtomicCheckpointHook
    hooks = [h['type'] for h in cfg.custom_hooks]
    assert 'ExactResumeHook' in hooks and 'FiniteLossHook' in hooks


@pytest.mark.parametrize('scope', sorted(HOST_BASES))
def test_the_policies_survive_a_dump(scope, tmp_path):
    """A config of each host with the policies, dumped (as ``mim train``
    and the runner save it) and loaded again, still selects them, and the
    host's own checkpoint settings and custom hooks stay."""
    from off_plugin.engine import POLICIES
    config = tmp_path / f'{scope}_policies.py'
    config.write_text(
        f"_base_ = ['{HOST_BASES[scope]}', '{POLICIES}']\n"
        'default_hooks = dict(checkpoint=dict(_base_.off_checkpoint_hook, '
        'interval=7))\n'
        "custom_hooks = _base_.get('custom_hooks', []) + "
        '_base_.off_custom_hooks\n')
    plain = tmp_path / f'{scope}.py'
    plain.write_text(f"_base_ = ['{HOST_BASES[scope]}']\n")
    host = Config.fromfile(plain)
    cfg = Config.fromfile(config)
    cfg.dump(tmp_path / 'dumped.py')
    dumped = Config.fromfile(tmp_path / 'dumped.py')
    for loaded in (cfg, dumped):
        assert loaded.default_hooks.checkpoint == dict(
            host.default_hooks.checkpoint,
            type='AtomicCheckpointHook',
            interval=7)
        assert loaded.custom_hooks == host.get('custom_hooks', []) + [
            dict(type='ExactResumeHook'),
            dict(type='FiniteLossHook')
        ]
