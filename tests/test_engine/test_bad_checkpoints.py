# Copyright (c) off_plugin authors. All rights reserved.
"""Bad checkpoints, for every task, through the runner's own loading
(``resume`` / ``load_from``) and OFF stage 2's ``feature_checkpoint``: a
checkpoint of another model, a truncated one, one holding a pickled object.
Each is refused in one line naming the file and the fix, nothing is run,
nothing is written."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner
from tiny_runs import detector_config, recognizer_config, restorer_config

import off_plugin.all_tasks  # noqa: F401

TASKS = {
    'mmaction': recognizer_config,
    'mmagic': restorer_config,
    'mmdet': detector_config
}


class Payload:
    """Unpickling it creates a file: proof that code ran."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return Path.touch, (self.marker, )


@pytest.fixture(scope='module')
def runners(tmp_path_factory):
    """A runner of each task's tiny config, and its model's checkpoint."""
    out = {}
    for host, make_config in TASKS.items():
        tmp = tmp_path_factory.mktemp(host)
        cfg = Config.fromfile(make_config(tmp, ''))
        cfg.work_dir = str(tmp / 'work')
        runner = Runner.from_cfg(cfg)
        good = tmp / 'good.pth'
        torch.save(
            dict(
                meta=dict(epoch=0, iter=0),
                state_dict=runner.model.state_dict()), good)
        out[host] = runner, good
    return out


def another_model(path: Path, good: Path) -> Path:
    """A checkpoint of another network (a small classifier)."""
    other = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    torch.save(
        dict(meta=dict(epoch=1, iter=4), state_dict=other.state_dict()), path)
    return path


def truncated(path: Path, good: Path) -> Path:
    """The first half of a good checkpoint (an interrupted copy)."""
    data = good.read_bytes()
    path.write_bytes(data[:len(data) // 2])
    return path


def pickled_object(path: Path, good: Path) -> Path:
    """A good checkpoint with an object whose unpickling runs code."""
    checkpoint = torch.load(good, weights_only=False)
    checkpoint.setdefault('meta',
                          {})['note'] = Payload(path.with_suffix('.code_ran'))
    torch.save(checkpoint, path)
    return path


# case -> how to make it, the message's start
CASES = {
    'another model': (another_model, '{}: not a checkpoint of this model, '
                      'so it cannot be resumed'),
    'truncated': (truncated, 'Cannot read the checkpoint {}'),
    'pickled object': (pickled_object, 'Refused to load the checkpoint {}'),
}


@pytest.mark.parametrize('case', list(CASES))
@pytest.mark.parametrize('host', list(TASKS))
def test_resume_from_a_bad_checkpoint_is_refused(runners, host, case,
                                                 tmp_path):
    runner, good = runners[host]
    make, message = CASES[case]
    bad = make(tmp_path / f'{case.replace(" ", "_")}.pth', good)
    before = {k: v.clone() for k, v in runner.model.state_dict().items()}
    # what `--resume` / `resume=True, load_from=bad` make Runner.train do:
    # Runner.from_cfg keeps them in its cfg and in private attributes
    runner.cfg.resume, runner.cfg.load_from = True, str(bad)
    runner._resume, runner._load_from, runner._has_loaded = True, str(bad), \
        False
    with pytest.raises(Exception) as info:
        runner.load_or_resume()
    text = str(info.value)
    assert text.startswith(message.format(bad)) and '\n' not in text, text
    assert 'Download or copy it again' in text or 'load_from' in text or \
        'add_safe_globals' in text
    assert not bad.with_suffix('.code_ran').exists()
    for key, value in runner.model.state_dict().items():  # nothing loaded
        assert torch.equal(value, before[key]), key
    assert not list(Path(runner.work_dir).glob('*.pth'))


@pytest.mark.parametrize('case', ['truncated', 'pickled object'])
def test_load_from_a_bad_checkpoint_is_refused(runners, case, tmp_path):
    runner, good = runners['mmagic']
    make, message = CASES[case]
    bad = make(tmp_path / 'bad.pth', good)
    with pytest.raises(Exception) as info:
        runner.load_checkpoint(str(bad))
    assert str(info.value).startswith(message.format(bad))
    assert '\n' not in str(info.value)
    assert not bad.with_suffix('.code_ran').exists()


@pytest.mark.parametrize('case', list(CASES))
def test_stage2_refuses_a_bad_feature_checkpoint(runners, case, tmp_path):
    """OFF stage 2 loads its frozen TSN when its weights are initialised
    (``init_weights``, as the runner does before training or testing)."""
    from mmaction.registry import MODELS
    from mmengine.registry import DefaultScope
    runner, _ = runners['mmaction']
    tsn = Path(runner.cfg.model.feature_checkpoint)
    bad = CASES[case][0](tmp_path / 'bad_tsn.pth', tsn)
    cfg = runner.cfg.model.copy()
    cfg.feature_checkpoint = str(bad)
    with DefaultScope.overwrite_default_scope('mmaction'):
        model = MODELS.build(cfg)
    with pytest.raises(Exception) as info:
        model.init_weights()
    text = str(info.value)
    assert str(bad) in text and '\n' not in text, text
    assert not bad.with_suffix('.code_ran').exists()
