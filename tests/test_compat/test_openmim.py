# Copyright (c) off_plugin authors. All rights reserved.
"""The fix of off_plugin.compat.openmim, in fresh interpreters: ``mim
download`` of a model-index entry without ``Weights`` crashes in openmim
0.3.9, and with the fix stops in one line before writing anything; entries
with weights download as before, through the CLI and the Python API."""
import importlib
import importlib.util
import os.path as osp

import pytest
from click.testing import CliRunner

from off_plugin.compat.openmim import download_entries_without_weights

#: ``download`` of the entries (package, name) in ``dest``, upstream as
#: released: the finder of off_plugin.startup that applies the fix before
#: ``mim`` is imported is removed first
UPSTREAM = '''
import sys
from off_plugin.startup import BeforeImport
sys.meta_path[:] = [f for f in sys.meta_path
                    if not isinstance(f, BeforeImport)]
'''
DOWNLOAD = '''
import os.path as osp
from mim.commands.download import download
try:
    download({package!r}, [{name!r}], dest_root='dest')
    print('downloaded')
except Exception as err:
    print(type(err).__name__, str(err).replace('\\n', ' '),
          osp.exists('dest'))
'''
#: entries without ``Weights`` (off_plugin's index has none at all)
ENTRIES = [('off_plugin', 'tsn_r18_1xb8-8seg-4e_motion-demo-rgb')]
if importlib.util.find_spec('mmdet') is not None:
    ENTRIES.append(('mmdet', 'dino-4scale_r50_8xb2-24e_coco'))


@pytest.mark.slow
@pytest.mark.parametrize('package,name', ENTRIES)
def test_reproduce_download_crashes_on_an_entry_without_weights(
        reproduce, package, name):
    out = reproduce(None,
                    UPSTREAM + DOWNLOAD.format(package=package, name=name))
    if package == 'mmdet':  # a table with a Weights column, NaN here
        assert out == ("AttributeError 'float' object has no attribute "
                       "'split' True")
    else:  # no Weights column at all
        assert out.startswith('ValueError ')  # in colours
        assert 'Expected fields: ' in out and "but got {'weight'}" in out


@pytest.mark.slow
@pytest.mark.parametrize('package,name', ENTRIES)
def test_with_the_fix_it_stops_in_one_line_writing_nothing(
        reproduce, package, name):
    out = reproduce(download_entries_without_weights,
                    DOWNLOAD.format(package=package, name=name))
    assert out == (f"ClickException {name} has no weights of its own in "
                   f"{package}'s model index, so nothing was downloaded "
                   'False')


def fake_download(url, dest_path, **kwargs):
    """mim's ``download_from_file`` without the network."""
    with open(dest_path, 'w') as f:
        f.write(url)


@pytest.fixture
def tsn_entry():
    """An MMAction2 entry with weights, and its file name."""
    pytest.importorskip('mmaction', reason='an MMAction2 entry with weights')
    from mim.commands.search import get_model_info
    name = 'tsn_imagenet-pretrained-r50_8xb32-1x1x8-100e_kinetics400-rgb'
    url = get_model_info(
        'mmaction2', shown_fields=['weight'], to_dict=True)[name]['weight']
    return name, url, osp.basename(url)


def test_entries_with_weights_download_as_before(tmp_path, monkeypatch,
                                                 tsn_entry):
    """Through the CLI (a fresh copy of mim/commands/download.py per
    command) and the Python API, the fix leaves upstream's download of an
    entry with weights alone."""
    import mim.utils
    from mim.cli import cli

    # the module: mim.commands exports a function of the same name
    download_module = importlib.import_module('mim.commands.download')
    assert download_entries_without_weights()
    name, url, filename = tsn_entry
    monkeypatch.setattr(mim.utils, 'download_from_file', fake_download)
    monkeypatch.setattr(download_module, 'download_from_file', fake_download)
    result = CliRunner().invoke(cli, [
        'download', 'mmaction2', '--config', name, '--dest',
        str(tmp_path / 'cli')
    ])
    assert result.exit_code == 0, result.output
    assert (tmp_path / 'cli' / filename).read_text() == url
    assert (tmp_path / 'cli' / f'{name}.py').exists()
    got = download_module.download(
        'mmaction2', [name], dest_root=str(tmp_path / 'api'))
    assert got == [filename]
    assert (tmp_path / 'api' / filename).read_text() == url


def test_an_entry_without_weights_stops_the_whole_request(
        tmp_path, monkeypatch):
    """One line per entry without weights, and nothing downloaded for the
    entries of the same command that have weights."""
    pytest.importorskip(
        'mmdet', reason="MMDetection's index has entries without weights")
    from mim.cli import cli
    from mim.commands.search import get_model_info

    assert download_entries_without_weights()
    weights = get_model_info('mmdet', shown_fields=['weight'], to_dict=True)
    with_weights = next(name for name, entry in weights.items()
                        if isinstance(entry['weight'], str))
    calls = []
    monkeypatch.setattr('mim.utils.download_from_file',
                        lambda *args, **kwargs: calls.append(args))
    result = CliRunner().invoke(cli, [
        'download', 'mmdet', '--config', with_weights,
        'dino-4scale_r50_8xb2-24e_coco', 'dino-4scale_r50_8xb2-36e_coco',
        '--dest',
        str(tmp_path / 'dest')
    ])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        'Error: dino-4scale_r50_8xb2-24e_coco has no weights of its own in '
        "mmdet's model index, so nothing was downloaded",
        'dino-4scale_r50_8xb2-36e_coco has no weights of its own in '
        "mmdet's model index, so nothing was downloaded"
    ]
    assert calls == [] and not (tmp_path / 'dest').exists()
