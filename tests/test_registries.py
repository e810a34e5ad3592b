# Copyright (c) off_plugin authors. All rights reserved.
"""The core registers once, in mmengine's root registry, and every host's
registry builds it by name."""
import pytest
import torch
from tiny_runs import run_script

import off_plugin.all_tasks  # noqa: F401
from off_plugin.core import OFFUnit

ALL_HOSTS = """
    import off_plugin.all_tasks
    from mmengine.registry import DefaultScope
    from mmaction.utils import register_all_modules as mmaction_all
    from mmdet.utils import register_all_modules as mmdet_all
    from mmagic.utils import register_all_modules as mmagic_all
    for register in (mmaction_all, mmdet_all, mmagic_all):
        register(init_default_scope=False)
    from mmaction.registry import MODELS as ACTION
    from mmdet.registry import MODELS as DET
    from mmagic.registry import MODELS as EDIT
    for registry, model in ((ACTION, 'TSNHead'), (DET, 'RetinaNet'),
                            (EDIT, 'BasicVSRNet')):
        assert registry.get(model) is not None, model
        assert registry.get('OFFUnit') is off_plugin.core.OFFUnit
    print('ok')
"""


@pytest.mark.slow
def test_all_hosts_register_in_one_process_after_import():
    assert run_script(ALL_HOSTS).strip() == 'ok'


@pytest.mark.parametrize('scope', ['mmaction', 'mmdet', 'mmagic'])
def test_each_host_registry_builds_off_unit_from_config(scope):
    from mmengine.registry import DefaultScope
    registry = __import__(f'{scope}.registry', fromlist=['MODELS']).MODELS
    with DefaultScope.overwrite_default_scope(scope):
        unit = registry.build(
            dict(type='OFFUnit', in_channels=16, reduce_channels=8))
    assert isinstance(unit, OFFUnit)
    assert unit(torch.randn(1, 2, 16, 4, 4)).shape == (1, 1, 24, 4, 4)
