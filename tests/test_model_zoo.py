# Copyright (c) off_plugin authors. All rights reserved.
"""The model zoo as users reach it: ``mim search off_plugin`` lists every
metafile entry, ``mim download off_plugin --config NAME`` fetches the
entry's weights and config, and every entry's figures say where they come
from."""
import functools
import glob
import http.server
import importlib
import json
import os.path as osp
import shutil
import subprocess
import sys
import threading
import zipfile
from urllib.parse import urlparse

import pytest
import yaml
from mmengine.config import Config
from mmengine.registry import DefaultScope

ROOT = osp.dirname(osp.dirname(__file__))
METAFILES = sorted(glob.glob(osp.join(ROOT, 'configs', '*', 'off',
                                      'metafile.yml')))
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
    return subprocess.run(command, capture_output=True, text=True,
                          timeout=300, **kwargs)


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
            registry = importlib.import_module(
                f'{cfg.default_scope}.registry')
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
                'Stage-1 Top 1 Accuracy': top1['Top 1 Accuracy']}
            assert model['Weights'] == weights
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


class QuietHandler(http.server.SimpleHTTPRequestHandler):

    def log_message(self, *args):
        pass


@pytest.mark.slow
def test_mim_download_fetches_the_weights_and_the_config(
        tmp_path, monkeypatch):
    """``mim download`` of a zoo entry, with its download host replaced by a
    local server holding a file of the released name."""
    # the module: mim.commands exports a function of the same name
    mim_download = importlib.import_module('mim.commands.download')

    name = 'off_tsm-r50_4xb32-8of8seg-30e_sthv2-rgb'
    url = next(m['Weights'] for m in MODELS if m['Name'] == name)
    served = tmp_path / 'served'
    served.mkdir()
    filename = osp.basename(urlparse(url).path)
    (served / filename).write_bytes(b'stage-1 weights' * 1000)
    httpd = http.server.ThreadingHTTPServer(
        ('127.0.0.1', 0),
        functools.partial(QuietHandler, directory=str(served)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    local = f'http://127.0.0.1:{httpd.server_address[1]}'
    requested = []

    def from_local_server(url, dest_path, **kwargs):
        requested.append(url)
        return download_from_file(
            f'{local}/{osp.basename(urlparse(url).path)}', dest_path,
            **kwargs)

    download_from_file = mim_download.download_from_file
    monkeypatch.setattr(mim_download, 'download_from_file',
                        from_local_server)
    try:
        got = mim_download.download('off_plugin', [name],
                                    dest_root=str(tmp_path / 'dest'))
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert requested == [url] and got == [filename]
    assert (tmp_path / 'dest' / filename).read_bytes() == \
        (served / filename).read_bytes()
    dumped = Config.fromfile(str(tmp_path / 'dest' / f'{name}.py'))
    assert dumped.model.feature_checkpoint == url
    assert dumped.model.backbone.type == 'ResNetTSM'


@pytest.mark.slow
def test_wheel_ships_configs_tools_and_model_index_in_mim(tmp_path):
    """A wheel (``pip install off_plugin``) carries copies of what the
    checkout's ``.mim`` links to, so ``mim`` works without the checkout."""
    source = tmp_path / 'src'
    anywhere = shutil.ignore_patterns('*.egg-info', '__pycache__',
                                      '.pytest_cache')

    def ignore(folder, names):  # the checkout's data/, not tools/data/
        top = {'.git', '.venv', 'work_dirs', 'data', 'build'}
        return anywhere(folder, names) | (
            top & set(names) if osp.samefile(folder, ROOT) else set())

    shutil.copytree(ROOT, source, symlinks=True, ignore=ignore)
    proc = subprocess.run(
        [sys.executable, '-m', 'pip', 'wheel', '--no-deps',
         '--no-build-isolation', '--no-index', '-q', '-w',
         str(tmp_path / 'dist'), str(source)],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    wheel, = (tmp_path / 'dist').glob('off_plugin-*.whl')
    with zipfile.ZipFile(wheel) as f:
        shipped = {n for n in f.namelist()
                   if n.startswith('off_plugin/.mim/')}
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
        modules = {n for n in f.namelist() if n.endswith('.py')
                   and not n.startswith('off_plugin/.mim/')}
    assert modules and all(n.startswith('off_plugin/') for n in modules)
    assert not any(osp.basename(n) in ('motion_videos.py', 'mim_runner.py')
                   for n in modules)
