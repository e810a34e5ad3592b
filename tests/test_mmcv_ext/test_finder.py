# Copyright (c) off_plugin authors. All rights reserved.
"""How ``mmcv._ext`` resolves: off-mmcv-ext serves it only where no
compiled one exists, from interpreter start (any import order), and pip
tracks every file it installs."""
import importlib.metadata
import os
import subprocess
import sys

import pytest

off_mmcv_ext = pytest.importorskip(
    'off_mmcv_ext',
    reason='off-mmcv-ext is not installed (a --mmcv-full '
    'environment uses the compiled mmcv._ext)')


def python(code: str, **env) -> str:
    result = subprocess.run([sys.executable, '-c', code],
                            capture_output=True,
                            text=True,
                            env={
                                **os.environ,
                                **env
                            },
                            timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def fake_mmcv(root, with_ext: bool):
    package = root / 'mmcv'
    package.mkdir()
    (package / '__init__.py').write_text('')
    if with_ext:  # stands for the compiled mmcv/_ext.*.so
        (package / '_ext.py').write_text("ORIGIN = 'mmcv itself'\n")
    return root


def test_a_compiled_ext_wins(tmp_path):
    out = python(
        'import mmcv._ext; print(mmcv._ext.ORIGIN)',
        PYTHONPATH=str(fake_mmcv(tmp_path, with_ext=True)))
    assert out == 'mmcv itself'


def test_served_where_mmcv_has_none(tmp_path):
    out = python(
        'import mmcv._ext; print(mmcv._ext.__file__); '
        'print(hasattr(mmcv._ext, "__path__"))',
        PYTHONPATH=str(fake_mmcv(tmp_path, with_ext=False)))
    ops, is_package = out.splitlines()
    assert ops == os.path.join(
        os.path.dirname(off_mmcv_ext.__file__), 'ops.py')
    assert is_package == 'False'


def test_only_mmcv_ext_is_served():
    assert off_mmcv_ext.MMCVExtFinder().find_spec('mmcv._ext2') is None
    assert off_mmcv_ext.MMCVExtFinder().find_spec('mmdet._ext') is None


def test_pip_tracks_every_file():
    files = {str(f) for f in importlib.metadata.files('off-mmcv-ext')}
    assert {
        'off_mmcv_ext.pth', 'off_mmcv_ext/__init__.py', 'off_mmcv_ext/ops.py'
    } <= files


@pytest.mark.slow
@pytest.mark.parametrize('order', [('mmdet', 'mmagic'), ('mmagic', 'mmdet')])
def test_hosts_import_in_any_order(order):
    code = '; '.join(f'import {host}.models' for host in order)
    python(code + '; import mmcv.ops; print(mmcv.ops.nms)')
