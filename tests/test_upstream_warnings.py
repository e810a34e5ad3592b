# Copyright (c) off_plugin authors. All rights reserved.
"""``import off_plugin`` and the tools print none of the known upstream
deprecation walls; other warnings and errors still show."""
import glob
import os
import os.path as osp
import subprocess
import sys
import textwrap

from off_plugin.compat import UPSTREAM_WARNINGS, pythonwarnings

ROOT = osp.dirname(osp.dirname(__file__))
# What the walls say (diffusers' messages differ per class: their module).
WALLS = ('pkg_resources is deprecated', 'timm.models.layers is deprecated',
         'diffusers/models')


def run_python(code, env=None):
    return subprocess.run([sys.executable, '-c', textwrap.dedent(code)],
                          capture_output=True, text=True, timeout=300,
                          cwd=ROOT, env=env)


def test_off_plugin_and_every_tool_import_without_upstream_walls():
    tools = sorted(glob.glob(osp.join(ROOT, 'tools', '*.py')))
    proc = run_python(f'''
        import importlib.util, warnings
        for path in {tools!r}:
            spec = importlib.util.spec_from_file_location('tool', path)
            spec.loader.exec_module(importlib.util.module_from_spec(spec))
        # what the tools then do: host configs, all three hosts' models
        from mmengine.config import Config
        from mmengine.registry import DefaultScope
        from mmagic.registry import MODELS
        cfg = Config.fromfile('configs/restoration/off/'
                              'dncnn-off3-c32_1xb8-800iter_restoration-demo-q40.py')
        with DefaultScope.overwrite_default_scope('mmagic'):
            MODELS.build(cfg.model)
        from mmaction.models import TSNHead  # noqa
        from mmdet.models import RPNHead  # noqa
        warnings.warn('a warning of our own', UserWarning)
        ''')
    assert proc.returncode == 0, proc.stderr[-3000:]
    for wall in WALLS:
        assert wall not in proc.stderr, proc.stderr[-3000:]
    assert 'UserWarning: a warning of our own' in proc.stderr


def test_filters_hide_exactly_the_listed_warnings():
    code = '''
        import warnings
        {setup}
        warnings.warn_explicit('pkg_resources is deprecated as an API. x',
                               UserWarning, 'f.py', 1, module='mmengine.u')
        warnings.warn_explicit('`UNet2DConditionModel` is deprecated',
                               FutureWarning, 'f.py', 1,
                               module='diffusers.models.unet_2d_condition')
        warnings.warn_explicit('another future change', FutureWarning,
                               'f.py', 1, module='diffusers.pipelines.x')
        '''
    for setup, env in (
            ('', None),
            ('from off_plugin.compat import silence_upstream_warnings\n'
             '        silence_upstream_warnings()', None),
            ('', dict(os.environ, PYTHONWARNINGS=pythonwarnings()))):
        proc = run_python(code.format(setup=setup), env=env)
        assert proc.returncode == 0, proc.stderr
        hidden = bool(setup or env)
        assert ('pkg_resources is deprecated' in proc.stderr) != hidden
        assert ('UNet2DConditionModel' in proc.stderr) != hidden
        # a diffusers warning from another module is not on the list
        assert 'another future change' in proc.stderr


def test_every_filter_says_where_it_comes_from_and_when_it_can_go():
    for entry in UPSTREAM_WARNINGS:
        assert entry.source and entry.delete_when
        assert entry.message or entry.module  # never a blanket filter
        assert ':' not in entry.message + entry.module  # PYTHONWARNINGS
