# Copyright (c) off_plugin authors. All rights reserved.
"""The fix of MMAction2's missing DRN package (open-mmlab/mmaction2#2714),
in fresh interpreters: the bug without the plugin, the fix with it."""
import subprocess
import sys

import pytest
from tiny_runs import run_script

MMACTION_MODELS = """
    import off_plugin.recognition
    import mmaction.models
    from mmaction.registry import MODELS
    from mmaction.utils import register_all_modules
    register_all_modules()
    tsn = MODELS.build(dict(
        type='Recognizer2D',
        backbone=dict(type='ResNet', depth=18, pretrained=None),
        cls_head=dict(type='TSNHead', num_classes=3, in_channels=512)))
    print(type(tsn).__name__)
    try:
        MODELS.build(dict(type='DRN'))
    except ImportError as err:
        print(err)
"""


@pytest.mark.slow
def test_mmaction_models_import_and_drn_fails_clearly():
    lines = run_script(MMACTION_MODELS).strip().splitlines()
    assert lines[0] == 'Recognizer2D'
    assert 'mmaction2#2714' in lines[1] and 'DRN is not available' in lines[1]


@pytest.mark.slow
def test_reproduce_mmaction_models_does_not_import():
    proc = subprocess.run([sys.executable, '-c', 'import mmaction.models'],
                          capture_output=True,
                          text=True,
                          timeout=600)
    assert proc.returncode == 1
    assert ("ModuleNotFoundError: No module named "
            "'mmaction.models.localizers.drn'") in proc.stderr
