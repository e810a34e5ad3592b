# Copyright (c) off_plugin authors. All rights reserved.
"""What ``custom_imports`` of the plugin does to a config of the user's own:
the upstream fixes, none of the plugin's policies. And how a fix behaves on
a host version it was not written for."""
import importlib
import importlib.metadata
import inspect
import subprocess
import sys
import textwrap
import warnings

import pytest

import off_plugin.all_tasks  # noqa: F401
from off_plugin.compat import mmaction, mmdet, mmengine, upstream_fix

#: a plain MMAction2 config (TSN on Kinetics-400 from MMAction2's own
#: configs) with the plugin in custom_imports; the runner is built, saves a
#: checkpoint (with the message hub's history) and loads it back
PLAIN_CONFIG = """
    import inspect, os, os.path as osp, sys, tempfile
    from mmengine.config import Config
    work_dir = tempfile.mkdtemp()
    config = osp.join(work_dir, 'tsn_kinetics400.py')
    videos = osp.join(work_dir, 'train.txt')  # the runner reads its classes
    with open(videos, 'w') as f:
        f.write('a.mp4 0\\n')
    with open(config, 'w') as f:
        f.write("_base_ = ['mmaction::recognition/tsn/tsn_imagenet-pretrained-"
                "r50_8xb32-1x1x3-100e_kinetics400-rgb.py']\\n"
                "custom_imports = dict(imports=[{plugin!r}], "
                "allow_failed_imports=False)\\n"
                "model = dict(backbone=dict(pretrained=None))\\n"
                "train_dataloader = dict(dataset=dict("
                f"ann_file={{videos!r}}))\\n")
    cfg = Config.fromfile(config)
    cfg.work_dir = work_dir
    from mmengine.runner import Runner
    runner = Runner.from_cfg(cfg)
    print('@ hooks', sorted(f'{{type(h).__module__}}.{{type(h).__name__}}'
                            for h in runner.hooks))
    print('@ plugin', sorted(m for m in sys.modules
                             if m.startswith('off_plugin')))
    from mmengine.fileio.backends import LocalBackend
    from mmengine.runner.checkpoint import CheckpointLoader
    for name in ('put', 'put_text'):
        f = getattr(LocalBackend, name)
        print('@', name, f.__module__, f.__qualname__,
              hasattr(f, '__wrapped__'))
    loader = CheckpointLoader._schemes['']
    upstream = getattr(loader, '__wrapped__', loader)
    print('@ loader', loader.__name__, inspect.signature(loader),
          upstream.__module__, upstream.__name__)
    runner.save_checkpoint(cfg.work_dir, 'plain.pth', save_optimizer=False,
                           save_param_scheduler=False)
    checkpoint = runner.load_checkpoint(osp.join(cfg.work_dir, 'plain.pth'))
    print('@ loaded', sorted(checkpoint))
"""


@pytest.fixture(scope='module')
def plain_runs():
    """The script's output, with the plugin's root and its recognition entry
    point in custom_imports, both in fresh interpreters started at once."""
    procs = {
        plugin:
        subprocess.Popen([
            sys.executable, '-c',
            textwrap.dedent(PLAIN_CONFIG).format(plugin=plugin)
        ],
                         stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE,
                         text=True)
        for plugin in ('off_plugin.all_tasks', 'off_plugin.recognition')
    }
    outputs = {}
    for plugin, proc in procs.items():
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        outputs[plugin] = dict(  # the script's lines, not the runner's log
            line[2:].split(' ', 1) for line in out.splitlines()
            if line.startswith('@ '))
    return outputs


@pytest.mark.slow
@pytest.mark.parametrize('plugin',
                         ['off_plugin.all_tasks', 'off_plugin.recognition'])
def test_a_plain_config_gets_the_fixes_and_none_of_the_policies(
        plain_runs, plugin):
    out = plain_runs[plugin]
    # the plugin is imported, its hooks registered, none of them added
    assert 'off_plugin.recognition' in out['plugin']
    hooks = eval(out['hooks'])
    assert hooks and all(h.startswith('mmengine.hooks.') for h in hooks), \
        hooks
    assert 'mmengine.hooks.checkpoint_hook.CheckpointHook' in hooks
    # file writing is upstream's own code
    for name in ('put', 'put_text'):
        assert out[name] == ('mmengine.fileio.backends.local_backend '
                             f'LocalBackend.{name} False')
    # the checkpoint loader keeps upstream's name and signature, and its
    # fix (open-mmlab/mmengine#1655) lets the runner read its own
    # checkpoint back on torch >= 2.6
    assert out['loader'] == ('load_from_local (filename, map_location) '
                             'mmengine.runner.checkpoint load_from_local')
    assert out['loaded'] == "['message_hub', 'meta', 'state_dict']"


def test_every_fix_names_its_host_version_and_keeps_the_wrapped_names():
    from mmengine.fileio.backends import LocalBackend
    from mmengine.model import MMDistributedDataParallel
    from mmengine.runner import checkpoint

    # the fixes of these packages are applied once they are imported
    importlib.import_module('mmaction.datasets')
    importlib.import_module('mmdet.datasets')
    for fix in mmengine.FIXES + mmaction.FIXES + mmdet.FIXES:
        assert fix.applied, fix.__name__
        assert importlib.metadata.version(fix.dist) == fix.version
        assert fix.__doc__ and 'Delete when' in fix.__doc__, fix.__name__
    for patched, upstream_module in (
        (checkpoint.CheckpointLoader._schemes[''], 'mmengine.runner'),
        (checkpoint.load_url, 'torch.hub'),
        (MMDistributedDataParallel.__init__, 'mmengine.model'),
    ):
        assert patched.__wrapped__.__module__.startswith(upstream_module)
        assert patched.__name__ == patched.__wrapped__.__name__
        assert inspect.signature(patched) == inspect.signature(
            patched.__wrapped__)
    # policies are not fixes: file writing is not touched
    assert not hasattr(LocalBackend.put, '__wrapped__')
    assert not hasattr(LocalBackend.put_text, '__wrapped__')


def test_a_fix_for_another_version_warns_once_and_is_not_applied():
    calls = []

    @upstream_fix('mmengine', '0.0.1', 'open-mmlab/mmengine#0')
    def fix_something() -> None:
        """Fix something that 0.0.1 got wrong."""
        calls.append(1)

    with pytest.warns(UserWarning) as record:
        assert fix_something() is False
    message = str(record[0].message)
    installed = importlib.metadata.version('mmengine')
    assert 'fix_something (Fix something that 0.0.1 got wrong.)' in message
    assert f'mmengine {installed} is installed, so it is not applied' in \
        message
    assert 'open-mmlab/mmengine#0' in message
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert fix_something() is False  # once per process
    assert calls == []

    @upstream_fix('mmengine', installed)
    def fix_this_version() -> None:
        calls.append(2)

    assert fix_this_version() and fix_this_version()
    assert calls == [2]


def test_a_config_of_yours_selects_the_policies(tmp_path):
    """The documented way: the installed package's
    ``.mim/configs/_base_/off_policies.py`` in the ``_base_`` list of a
    plain MMAction2 config and its two lines give its runner the plugin's
    policies, and nothing else changes."""
    from mmengine.config import Config
    from mmengine.runner import Runner

    from off_plugin.engine import (POLICIES, AtomicCheckpointHook,
                                   ExactResumeHook, FiniteLossHook)
    tsn = ('mmaction::recognition/tsn/tsn_imagenet-pretrained-r50_8xb32-'
           '1x1x3-100e_kinetics400-rgb.py')
    videos = tmp_path / 'train.txt'
    videos.write_text('a.mp4 0\n')
    lines = ('default_hooks = dict(checkpoint=_base_.off_checkpoint_hook)\n'
             'custom_hooks = _base_.off_custom_hooks\n')
    hooks = {}
    for name, bases, policies in (('plain', [tsn], ''),
                                  ('policies', [tsn, POLICIES], lines)):
        config = tmp_path / f'{name}.py'
        config.write_text(
            f'_base_ = {bases!r}\n'
            "custom_imports = dict(imports=['off_plugin.recognition'], "
            'allow_failed_imports=False)\n'
            'model = dict(backbone=dict(pretrained=None))\n'
            f'train_dataloader = dict(dataset=dict(ann_file={str(videos)!r}'
            '))\n' + policies)
        cfg = Config.fromfile(config)
        cfg.work_dir = str(tmp_path / name)
        runner = Runner.from_cfg(cfg)
        hooks[name] = [type(h) for h in runner.hooks]
    added = list(hooks['policies'])
    for hook in hooks['plain']:
        if hook.__name__ == 'CheckpointHook':
            hook = AtomicCheckpointHook
        added.remove(hook)
    assert sorted(h.__name__
                  for h in added) == ['ExactResumeHook', 'FiniteLossHook']
    assert ExactResumeHook in hooks['policies']
    assert FiniteLossHook not in hooks['plain']
