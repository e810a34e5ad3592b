# Copyright (c) off_plugin authors. All rights reserved.
"""demo/mim_runner.py: the settings of a demo reach the config that the
host's tool started by ``mim train`` runs, every value as it was meant."""
import argparse

import pytest
from data_safety import ROOT, mim_in_process
from mim_runner import mim_config
from mmengine.runner import Runner

from off_plugin.utils import add_cfg_options

CONFIGS = ROOT / 'configs'
# each demo's first config, with its host
DEMO_CONFIGS = [
    ('mmaction', 'recognition/off/tsn_r18_1xb8-8seg-4e_motion-demo-rgb.py'),
    ('mmdet', 'detection/off/rfcn_r18-tiny_1xb8-5e_moving-objects.py'),
    ('mmagic',
     'restoration/off/dncnn-c32l10_1xb8-800iter_restoration-demo-q40.py'),
]
# a comma, spaces and quotes: mmengine's DictAction deletes the spaces,
# strips the outer quotes and splits at the comma
WORDS = ['note=\'a, b "c"\'', 'notes=[(1, 2), [a, b]]']
PARSED = dict(note=['a', 'b"c'], notes=[(1, 2), ['a', 'b']])
# a value a demo makes (a data root of a user's)
ANN_FILE = '/data/my, set "1"/train.txt'


class Stub:
    """What the host's tool gets for a runner: it trains nothing."""
    _log_dir = ''

    def train(self):
        pass


def child_config(monkeypatch, host, config, *args):
    """The config of ``mim train <host> <config> <args>``: the host's
    ``tools/train.py`` run as mim runs it, its runner not built."""
    seen = []
    monkeypatch.setattr(Runner, 'from_cfg',
                        lambda cfg: seen.append(cfg) or Stub())
    mim_in_process('train', host, str(config), *map(str, args), cwd=str(ROOT))
    return seen[0]


@pytest.mark.parametrize('host,config', DEMO_CONFIGS)
def test_every_value_arrives_as_the_demo_meant_it(tmp_path, monkeypatch, host,
                                                  config):
    parser = argparse.ArgumentParser()
    add_cfg_options(parser)  # the demos' --cfg-options
    user = parser.parse_args(['--cfg-options', *WORDS]).cfg_options
    assert user == PARSED
    work_dir = tmp_path / 'run'
    demo = {'train_dataloader.dataset.ann_file': ANN_FILE}
    path = mim_config(
        str(CONFIGS / config), str(work_dir / 'run.py'), demo, user)
    cfg = child_config(monkeypatch, host, path, '--work-dir', work_dir)
    # the demo's own value, unchanged
    assert cfg.train_dataloader.dataset.ann_file == ANN_FILE
    # the user's words as the host's tool reads them on its command line
    direct = child_config(monkeypatch, host, CONFIGS / config, '--work-dir',
                          work_dir, '--cfg-options', *WORDS)
    for key, value in PARSED.items():
        assert cfg[key] == direct[key] == value
    # everything else as the config says
    del cfg.train_dataloader.dataset.ann_file
    del direct.train_dataloader.dataset.ann_file
    assert cfg.to_dict() == direct.to_dict()
    # the demo's value as a word: it would not arrive
    as_word = child_config(monkeypatch, host, CONFIGS / config, '--work-dir',
                           work_dir, '--cfg-options',
                           f'train_dataloader.dataset.ann_file={ANN_FILE}')
    assert as_word.train_dataloader.dataset.ann_file == [
        '/data/my', 'set"1"/train.txt'
    ]
