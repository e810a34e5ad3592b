# Copyright (c) off_plugin authors. All rights reserved.
"""The model zoo as users reach it: ``mim search off_plugin`` lists every
metafile entry, an entry's ``Weights`` are weights of the model it names
(no entry has any yet: an OFF model's config trains on the checkpoint of a
stage-1 model, its ``Stage-1 Checkpoint``), ``mim download off_plugin
--config NAME`` of an entry without weights says so in one line, naming
that checkpoint, and every entry's figures say where they come from."""
import glob
import importlib
import json
import os.path as osp
import re
import shutil
import subprocess
import sys
import zipfile
from urllib.parse import urlparse

import pytest
import yaml
from mmengine.config import Config
from mmengine.registry import DefaultScope

import off_plugin.all_tasks  # noqa: F401

ROOT = osp.dirname(osp.dirname(__file__))
METAFILES = sorted(
    glob.glob(osp.join(ROOT, 'configs', '*', 'off', 'metafile.yml')))
MMACTION_METAFILES = osp.join(
    osp.dirname(sys.modules['mmengine'].__file__), '..', 'mmaction', '.mim',
    'configs', 'recognition', '*', 'metafile.yml')
# Where a figure may come from, and how to recognise the citation.
SOURCES = ('the paper', "the authors' README", 'MMAction2 metafile',
           'MMAction2 0.x model zoo')


def entries():
    models = []
    for path in METAFILES:
        with open(path) as f:
            models += yaml.safe_load(f)['Models']
    return models


MODELS = entries()
NAMES = [m['Name'] for m in MODELS]


def mim(*args, **kwargs):
    command = [osp.join(osp.dirname(sys.executable), 'mim'), *args]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=300, **kwargs)


def test_model_names_are_unique():
    assert len(NAMES) == len(set(NAMES))


_PARAMETERS = {}


def num_parameters(cfg):
    """Parameters of ``cfg``'s model, built once for all configs of the same
    model (the splits of a data set)."""
    key = (cfg.default_scope, repr(cfg.model.to_dict()))
    if key not in _PARAMETERS:
        # build only: weights are loaded by init_weights, never called here
        with DefaultScope.overwrite_default_scope(cfg.default_scope):
            registry = importlib.import_module(f'{cfg.default_scope}.registry')
            net = registry.MODELS.build(cfg.model)
        _PARAMETERS[key] = sum(p.numel() for p in net.parameters())
    return _PARAMETERS[key]


@pytest.mark.parametrize('model', MODELS, ids=NAMES)
def test_entry_config_builds_and_figures_cite_their_source(model):
    cfg = Config.fromfile(osp.join(ROOT, model['Config']))
    assert num_parameters(cfg) > 0
    for result in model.get('Results', []):
        assert result['Metrics'], model['Name']
        assert result.get('Source', '').startswith(SOURCES), (
            f"{model['Name']}: every result needs a Source starting with one "
            f'of {SOURCES}')
    for url in model.get('Weights', '').split(','):
        if url:
            assert url.startswith('https://') and url.endswith('.pth')
    converted = model.get('Converted From')
    if converted:  # not ours to host: the authors' file and the command
        assert converted['Weights'].startswith('https://')
        assert converted['Code'].startswith('https://')
        assert 'tools/model_converters/convert_caffe_off.py' in \
            converted['Command']


def test_figures_from_mmaction2_metafiles_equal_the_installed_ones():
    released = {}
    for path in glob.glob(MMACTION_METAFILES):
        with open(path) as f:
            for m in yaml.safe_load(f)['Models']:
                if 'Results' in m:
                    released[m['Name']] = (m['Results'][0]['Metrics'],
                                           m.get('Weights'))
    checked = 0
    for model in MODELS:
        for result in model.get('Results', []):
            if not result['Source'].startswith('MMAction2 metafile'):
                continue
            top1, weights = released[model['Metadata']['Pretrained']]
            assert result['Metrics'] == {
                'Stage-1 Top 1 Accuracy': top1['Top 1 Accuracy']
            }
            assert model['Stage-1 Checkpoint'] == weights
            checked += 1
    assert checked == 3


@pytest.mark.slow
def test_mim_search_lists_every_model(tmp_path):
    out = tmp_path / 'search.json'
    proc = mim('search', 'off_plugin', '--json', str(out))
    assert proc.returncode == 0, proc.stderr[-2000:]
    listed = json.loads(out.read_text())['config']
    assert sorted(listed) == sorted(NAMES)
    for model in MODELS:  # mim reads the configs from the package's .mim
        assert listed[model['Name']] == model['Config']


def feature_checkpoint(model):
    """The checkpoint of another model that ``model``'s config trains on
    (an OFF model's stage 1), or None."""
    cfg = Config.fromfile(osp.join(ROOT, model['Config']))
    return cfg.model.get('feature_checkpoint')


@pytest.mark.parametrize('model', MODELS, ids=NAMES)
def test_weights_are_the_named_models_own(model):
    """``mim download NAME`` saves each ``Weights`` file under its own
    name: an OpenMMLab checkpoint is named ``<config>_<date>-<hash>.pth``,
    so every file must start with the entry's name (its config's), and the
    checkpoint of a stage-1 model that an OFF config trains on is not the
    OFF model's: it is the entry's ``Stage-1 Checkpoint``, never
    ``Weights``."""
    assert osp.basename(model['Config']) == model['Name'] + '.py'
    for url in filter(None, model.get('Weights', '').split(',')):
        filename = osp.basename(urlparse(url).path)
        assert re.fullmatch(
            re.escape(model['Name']) + r'_\d{8}-\w{8}\.pth',
            filename), (model['Name'], url)
    stage1 = feature_checkpoint(model)
    assert model.get('Stage-1 Checkpoint') == stage1
    if stage1 is not None:
        assert 'Weights' not in model, model['Name']


def test_every_off_model_names_its_stage1_checkpoint():
    """Every OFF recognition entry has a stage-1 checkpoint and no weights
    (the detection and restoration OFF models train end to end)."""
    off = [
        m for m in MODELS
        if m['Metadata'].get('Stage', '').startswith('OFF (stage 2)')
    ]
    assert len(off) == 26
    assert all(m['Stage-1 Checkpoint'] and 'Weights' not in m for m in off)
    assert not any('Weights' in m for m in MODELS)


def without_upstream_warnings(stderr: str) -> list:
    """``stderr``'s lines less the warnings Python prints (a ``file:line:
    ...Warning: ...`` line and the indented source line under it)."""
    lines = []
    for line in stderr.splitlines():
        if re.match(r'\S+:\d+: \w*Warning: ', line) or line.startswith(' '):
            continue
        lines.append(line)
    return lines


@pytest.mark.slow
@pytest.mark.parametrize(
    'name',
    [
        'off_tsm-r50_4xb32-8of8seg-30e_sthv2-rgb',  # a released stage 1
        'off_bninception_4xb32-7of25seg-20kiter_hmdb51-split1-rgb',  # trained
    ])
def test_mim_download_of_an_off_model_names_its_stage1_checkpoint(
        tmp_path, name):
    """The real ``mim download`` (off_plugin/compat/openmim.py, applied by
    the environment's off_plugin.pth): one line naming the stage-1
    checkpoint, exit status 1, nothing downloaded or written into --dest,
    where openmim 0.3.9 alone crashes with a traceback."""
    stage1 = next(m['Stage-1 Checkpoint'] for m in MODELS if m['Name'] == name)
    dest = tmp_path / 'dest'
    dest.mkdir()
    proc = mim(
        'download',
        'off_plugin',
        '--config',
        name,
        '--dest',
        str(dest),
        cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert proc.stdout == ''
    assert without_upstream_warnings(proc.stderr) == [
        f"Error: {name} has no weights of its own in off_plugin's model "
        'index, so nothing was downloaded; its config trains on the '
        f'stage-1 checkpoint {stage1} (model.feature_checkpoint)'
    ], proc.stderr[-3000:]
    assert list(tmp_path.iterdir()) == [dest]
    assert list(dest.iterdir()) == []


@pytest.mark.slow
def test_wheel_ships_configs_tools_and_model_index_in_mim(tmp_path):
    """A wheel (``pip install off_plugin``) carries copies of what the
    checkout's ``.mim`` links to, so ``mim`` works without the checkout."""
    source = tmp_path / 'src'
    anywhere = shutil.ignore_patterns('*.egg-info', '__pycache__',
                                      '.pytest_cache')

    def ignore(folder, names):  # the checkout's data/, not tools/data/
        top = {'.git', 'work_dirs', 'data', 'build'}
        return anywhere(folder, names) | ({
            n
            for n in names if n in top or n.startswith('.venv')
        } if osp.samefile(folder, ROOT) else set())

    shutil.copytree(ROOT, source, symlinks=True, ignore=ignore)
    proc = subprocess.run([
        sys.executable, '-m', 'pip', 'wheel', '--no-deps',
        '--no-build-isolation', '--no-index', '-q', '-w',
        str(tmp_path / 'dist'),
        str(source)
    ],
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    wheel, = (tmp_path / 'dist').glob('off_plugin-*.whl')
    with zipfile.ZipFile(wheel) as f:
        shipped = {n for n in f.namelist() if n.startswith('off_plugin/.mim/')}
    expected = {'off_plugin/.mim/model-index.yml'}
    for pattern in ('configs/**/*.py', 'configs/**/*.yml', 'configs/**/*.md',
                    'tools/**/*.py', 'tools/**/*.sh', 'demo/*.py'):
        expected |= {
            'off_plugin/.mim/' + osp.relpath(p, ROOT)
            for p in glob.glob(osp.join(ROOT, pattern), recursive=True)
        }
    # the tools in their folders (tools/data/, tools/analysis_tools/, ...)
    # and the demos with the modules they import
    for path in ('tools/setup_env.sh', 'tools/analysis_tools/benchmark.py',
                 'tools/data/optical_flow.py',
                 'tools/model_converters/convert_caffe_off.py',
                 'tools/dataset_converters/convert_imagenet_vid.py',
                 'demo/motion_demo.py', 'demo/motion_videos.py',
                 'demo/mim_runner.py', 'configs/_base_/off_policies.py'):
        assert 'off_plugin/.mim/' + path in expected
    assert expected == shipped
    # the tool-only code is not in the runtime package
    with zipfile.ZipFile(wheel) as f:
        modules = {
            n
            for n in f.namelist()
            if n.endswith('.py') and not n.startswith('off_plugin/.mim/')
        }
    assert modules and all(n.startswith('off_plugin/') for n in modules)
    assert not any(
        osp.basename(n) in ('motion_videos.py', 'mim_runner.py')
        for n in modules)
