# Copyright (c) off_plugin authors. All rights reserved.
"""A bad sample in the middle of an epoch: by default the run stops naming
the file and saves nothing partial; with ``SkipBadSamplesHook(max_skips=N)``
up to N are skipped, one warning line each, counted at the end of every
epoch."""
import re

import pytest
from mmengine.config import Config
from mmengine.runner import Runner
from tiny_runs import custom_hooks_with_policies, recognizer_config

import off_plugin.recognition  # noqa: F401

SETTINGS = '''
train_cfg = dict(max_epochs=2, val_interval=100)
default_hooks = dict(checkpoint=dict(interval=1), logger=dict(interval=1))
'''


def skipping(max_skips: int) -> str:
    """The config's policies and the opt-in one."""
    return custom_hooks_with_policies(
        f"dict(type='SkipBadSamplesHook', max_skips={max_skips})")


def corrupt(tmp_path, *names):
    """Cut training videos to their first 100 bytes (a broken download)."""
    for name in names:
        path = tmp_path / 'data' / 'videos' / name
        path.write_bytes(path.read_bytes()[:100])
    return [str(tmp_path / 'data' / 'videos' / name) for name in names]


def runner_of(tmp_path, settings):
    cfg = Config.fromfile(recognizer_config(tmp_path, SETTINGS + settings))
    cfg.work_dir = str(tmp_path / 'work')
    return Runner.from_cfg(cfg)


def test_a_bad_video_stops_the_run_naming_it_and_saving_nothing(tmp_path):
    runner = runner_of(tmp_path, '')
    bad, = corrupt(tmp_path, 'train_0003.mp4')
    with pytest.raises(Exception) as info:
        runner.train()
    assert bad in str(info.value)
    assert not list((tmp_path / 'work').glob('*.pth'))


def test_skip_bad_samples_skips_names_and_counts_them(tmp_path, capsys):
    runner = runner_of(tmp_path, skipping(4))
    bad = corrupt(tmp_path, 'train_0003.mp4', 'train_0006.mp4')
    runner.train()
    assert runner.epoch == 2 and runner.iter == 8
    log = capsys.readouterr().out
    skips = re.findall(
        r'SkipBadSamplesHook: skipped sample \d+ \((\d) of at '
        r'most 4\): .*', log)
    # each bad video, once an epoch, one line each
    assert [int(n) for n in skips] == [1, 2, 3, 4]
    for line in re.findall(r'SkipBadSamplesHook: skipped sample .*', log):
        assert any(b in line for b in bad), line
    counts = re.findall(
        r'SkipBadSamplesHook: (\d) bad samples skipped in '
        r'epoch (\d), (\d) of at most 4 in the run', log)
    assert counts == [('2', '1', '2'), ('2', '2', '4')]


def test_one_bad_sample_more_than_allowed_stops_the_run(tmp_path):
    runner = runner_of(tmp_path, skipping(1))
    corrupt(tmp_path, 'train_0003.mp4', 'train_0006.mp4')
    with pytest.raises(
            RuntimeError,
            match='one more than the 1 this run '
            'may skip; fix or remove the bad files'):
        runner.train()
    assert not list((tmp_path / 'work').glob('*.pth'))
