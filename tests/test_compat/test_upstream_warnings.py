# Copyright (c) off_plugin authors. All rights reserved.
"""``import off_plugin`` and the tools print none of the known upstream
deprecation walls; other warnings and errors still show."""
import glob
import os
import os.path as osp
import subprocess
import sys
import textwrap

import pytest

from off_plugin.compat import UPSTREAM_WARNINGS, pythonwarnings

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# What the walls say (diffusers' messages differ per class: their module).
WALLS = ('pkg_resources is deprecated', 'timm.models.layers is deprecated',
         'diffusers/models')

# every script of tools/ and demo/
TOOL_SCRIPTS = sorted(
    glob.glob(osp.join(ROOT, 'tools', '*', '*.py')) +
    glob.glob(osp.join(ROOT, 'demo', '*.py')))
# The tools, then what they do: host configs, all three hosts' models.
TOOLS = f'''
    import importlib.util, os.path as osp, sys, warnings
    for path in {TOOL_SCRIPTS!r}:
        if osp.dirname(path) not in sys.path:  # as when run as a script
            sys.path.insert(0, osp.dirname(path))
        spec = importlib.util.spec_from_file_location('tool', path)
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
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
    '''
WARNINGS = '''
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
# name -> (code, environment variables set) of the scripts, each run in a
# fresh interpreter.
SCRIPTS = {
    'tools': (TOOLS, {}),
    'no filter': (WARNINGS.format(setup=''), {}),
    'silence_upstream_warnings': (WARNINGS.format(
        setup='from off_plugin.compat import silence_upstream_warnings\n'
        '    silence_upstream_warnings()'), {}),
    'PYTHONWARNINGS':
    (WARNINGS.format(setup=''), dict(PYTHONWARNINGS=pythonwarnings())),
}


@pytest.fixture(scope='module')
def run_python():
    """``run_python(name)``: the finished process of ``SCRIPTS[name]``. They
    all start at once: importing the hosts takes most of their time, on a
    core each."""
    procs = {
        name:
        subprocess.Popen(
            [sys.executable, '-c', textwrap.dedent(code)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=dict(os.environ, **env))
        for name, (code, env) in SCRIPTS.items()
    }

    def finished(name):
        out, err = procs[name].communicate(timeout=300)
        return subprocess.CompletedProcess(procs[name].args,
                                           procs[name].returncode, out, err)

    yield finished
    for proc in procs.values():  # left running by a failed test
        proc.kill()
        proc.communicate()


@pytest.mark.slow
def test_off_plugin_and_every_tool_import_without_upstream_walls(run_python):
    proc = run_python('tools')
    assert proc.returncode == 0, proc.stderr[-3000:]
    for wall in WALLS:
        assert wall not in proc.stderr, proc.stderr[-3000:]
    assert 'UserWarning: a warning of our own' in proc.stderr


@pytest.mark.slow
def test_filters_hide_exactly_the_listed_warnings(run_python):
    for name in ('no filter', 'silence_upstream_warnings', 'PYTHONWARNINGS'):
        proc = run_python(name)
        assert proc.returncode == 0, proc.stderr
        hidden = name != 'no filter'
        assert ('pkg_resources is deprecated' in proc.stderr) != hidden
        assert ('UNet2DConditionModel' in proc.stderr) != hidden
        # a diffusers warning from another module is not on the list
        assert 'another future change' in proc.stderr


def test_every_filter_says_where_it_comes_from_and_when_it_can_go():
    for entry in UPSTREAM_WARNINGS:
        assert entry.source and entry.delete_when
        assert entry.message or entry.module  # never a blanket filter
        assert ':' not in entry.message + entry.module  # PYTHONWARNINGS
