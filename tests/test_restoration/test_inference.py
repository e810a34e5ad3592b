# Copyright (c) off_plugin authors. All rights reserved.
import os.path as osp
from unittest import mock

import cv2
import numpy as np
import pytest
import torch
from mmagic.registry import MODELS
from mmengine.registry import DefaultScope

import off_plugin.restoration  # noqa: F401
from off_plugin.restoration import (inference_restorer, init_restorer,
                                    restore_frames)


def build(generator):
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmagic'):
        model = MODELS.build(
            dict(
                type='OFFRestorer',
                generator=generator,
                pixel_loss=dict(type='MSELoss'),
                data_preprocessor=dict(
                    type='DataPreprocessor', mean=[0.] * 3, std=[255.] * 3)))
    model.init_weights()
    return model.eval()


def video(num):
    rng = np.random.default_rng(0)
    return [
        rng.integers(0, 256, (12, 16, 3), dtype=np.uint8) for _ in range(num)
    ]


@pytest.mark.parametrize('num_frames', [2, 3])
def test_sliding_window_equals_per_window_forward(num_frames):
    model = build(
        dict(
            type='DnCNNOFF',
            num_frames=num_frames,
            mid_channels=8,
            num_tail_layers=3,
            off_unit=dict(reduce_channels=4)))
    frames = video(5)
    target = num_frames // 2
    with mock.patch.object(
            model.generator,
            'frame_features',
            wraps=model.generator.frame_features) as feats:
        out = list(restore_frames(model, iter(frames)))
    assert feats.call_count == 5  # once per frame, not once per window
    assert len(out) == 5
    x = torch.stack(
        [torch.from_numpy(f).permute(2, 0, 1).float() / 255 for f in frames])
    for t in range(5):
        idx = [min(max(t + k - target, 0), 4) for k in range(num_frames)]
        with torch.no_grad():
            expected = model.generator(x[idx][None])[0]
        expected = (expected * 255).clamp(0, 255).round().byte()
        assert np.array_equal(out[t], expected.permute(1, 2, 0).numpy())
    assert not np.array_equal(out[2], frames[2])  # it did change the frame


def test_one_frame_model_and_short_video():
    model = build(dict(type='DnCNN', mid_channels=8, num_layers=3))
    frames = video(2)
    out = list(restore_frames(model, frames))
    x = torch.from_numpy(frames[1]).permute(2, 0, 1).float()[None] / 255
    with torch.no_grad():
        expected = (model.generator(x)[0] * 255).clamp(0, 255).round()
    assert np.array_equal(out[1], expected.byte().permute(1, 2, 0).numpy())
    three = build(
        dict(
            type='DnCNNOFF',
            num_frames=3,
            mid_channels=8,
            off_unit=dict(reduce_channels=4)))
    assert len(list(restore_frames(three, video(1)))) == 1


DEMO = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs',
    'restoration', 'off',
    'dncnn-off3-c32_1xb8-800iter_restoration-demo-q40.py')
BASELINE = DEMO.replace('dncnn-off3-c32_1xb8', 'dncnn-c32l10_1xb8')


def save_like_runner(model, path):
    """A checkpoint as mmengine's runner writes it."""
    torch.save(
        dict(meta=dict(iter=800, seed=0), state_dict=model.state_dict()), path)
    return str(path)


@pytest.fixture(scope='module')
def demo_checkpoint(tmp_path_factory):
    """A random-weight DnCNN_OFF(3) of the demo's config, its residual
    branch not zero (the config starts from the identity)."""
    torch.manual_seed(0)
    model = init_restorer(DEMO)
    with torch.no_grad():
        for param in model.parameters():
            param.add_(torch.randn_like(param) * .01)
    path = tmp_path_factory.mktemp('ckpt') / 'iter_800.pth'
    return save_like_runner(model, path), model.state_dict()


def test_init_restorer_loads_a_demo_checkpoint(demo_checkpoint):
    path, weights = demo_checkpoint
    model = init_restorer(DEMO, path)
    assert not model.training
    assert type(model.generator).__name__ == 'DnCNNOFF'
    loaded = model.state_dict()
    assert loaded.keys() == weights.keys()
    assert all(torch.equal(loaded[k], weights[k]) for k in weights)


def test_inference_restorer_equals_restore_frames_features_once(
        demo_checkpoint, tmp_path):
    model = init_restorer(DEMO, demo_checkpoint[0])
    frames = video(5)
    folder = tmp_path / 'frames'
    folder.mkdir()
    for i, frame in enumerate(frames, 1):  # RGB frames, BGR files
        cv2.imwrite(str(folder / f'{i:05d}.png'), frame[..., ::-1])
    expected = list(restore_frames(model, frames))
    with mock.patch.object(
            model.generator,
            'frame_features',
            wraps=model.generator.frame_features) as feats:
        out = inference_restorer(model, str(folder))
    assert feats.call_count == 5  # once per frame, not once per window
    assert len(out) == 5
    assert all(np.array_equal(o, e) for o, e in zip(out, expected))
    assert all(o.shape == (12, 16, 3) and o.dtype == np.uint8 for o in out)
    assert not np.array_equal(out[2], frames[2])


def test_init_restorer_refuses_another_model_naming_the_file(
        demo_checkpoint, tmp_path):
    other = save_like_runner(init_restorer(BASELINE), tmp_path / 'dncnn.pth')
    with pytest.raises(ValueError) as info:
        init_restorer(DEMO, other)
    message = str(info.value)
    assert '\n' not in message
    assert message.startswith(f'{other}: not a checkpoint of this DnCNNOFF')
    assert 'weights missing' in message and 'unknown weights' in message
    # cfg_options reach the model: another width, another shape
    with pytest.raises(ValueError, match='weights of another shape'):
        init_restorer(
            DEMO,
            demo_checkpoint[0],
            cfg_options={'model.generator.mid_channels': 16})
    with pytest.raises(
            FileNotFoundError,
            match=f'{tmp_path}/none.pth: no such checkpoint'):
        init_restorer(DEMO, str(tmp_path / 'none.pth'))
