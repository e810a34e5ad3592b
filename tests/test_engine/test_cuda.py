# Copyright (c) off_plugin authors. All rights reserved.
"""Each demo config trains on a GPU as a user runs it (``mim train``, which
picks CUDA where it is available): the model on the GPU, a finite loss.
Skipped without one; ``make test-gpu`` runs these with the other GPU
tests and the demos."""
import json

import pytest
import torch
from tiny_runs import (detector_config, errors_of, mim_train,
                       recognizer_config, restorer_config)

pytestmark = [
    pytest.mark.gpu, pytest.mark.slow,
    pytest.mark.skipif(
        not torch.cuda.is_available(), reason='needs a CUDA GPU')
]

DEVICE_HOOK = '''
import json
import os.path as osp
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS


@HOOKS.register_module()
class RecordDeviceHook(Hook):
    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        with open(osp.join(runner.work_dir, 'device.json'), 'w') as f:
            json.dump(dict(device=str(next(model.parameters()).device),
                           loss=float(outputs['loss'])), f)
'''

SETTINGS = {
    'mmaction': 'train_cfg = dict(max_epochs=1, val_interval=100)',
    'mmagic': 'train_cfg = dict(max_iters=1, val_interval=100)',
    'mmdet': 'train_cfg = dict(max_epochs=1, val_interval=100)',
}
CONFIGS = {
    'mmaction': recognizer_config,
    'mmagic': restorer_config,
    'mmdet': detector_config
}


@pytest.mark.parametrize('host', list(CONFIGS))
def test_demo_config_trains_on_cuda(tmp_path, host):
    (tmp_path / 'device_hook.py').write_text(DEVICE_HOOK)
    config = CONFIGS[host](tmp_path, SETTINGS[host] + '''
custom_imports = dict(imports=['off_plugin.all_tasks', 'device_hook'],
                      allow_failed_imports=False)
custom_hooks = [dict(type='RecordDeviceHook')]
''')
    proc = mim_train(
        host,
        config,
        tmp_path / 'work',
        pythonpath=tmp_path,
        log=tmp_path / 'train')
    assert proc.wait(timeout=600) == 0, errors_of(tmp_path / 'train')
    record = json.loads((tmp_path / 'work' / 'device.json').read_text())
    assert record['device'] == 'cuda:0'
    assert torch.isfinite(torch.tensor(record['loss']))
