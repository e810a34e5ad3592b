# Copyright (c) off_plugin authors. All rights reserved.
from unittest import mock

import numpy as np
import pytest
import torch
from mmagic.registry import MODELS
from mmengine.registry import DefaultScope

import off_plugin  # noqa: F401
from off_plugin.models.restoration import restore_frames


def build(generator):
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmagic'):
        model = MODELS.build(dict(
            type='OFFRestorer', generator=generator,
            pixel_loss=dict(type='MSELoss'),
            data_preprocessor=dict(type='DataPreprocessor', mean=[0.] * 3,
                                   std=[255.] * 3)))
    model.init_weights()
    return model.eval()


def video(num):
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)
            for _ in range(num)]


@pytest.mark.parametrize('num_frames', [2, 3])
def test_sliding_window_equals_per_window_forward(num_frames):
    model = build(dict(type='DnCNNOFF', num_frames=num_frames,
                       mid_channels=8, num_tail_layers=3,
                       off_unit=dict(reduce_channels=4)))
    frames = video(5)
    target = num_frames // 2
    with mock.patch.object(model.generator, 'frame_features',
                           wraps=model.generator.frame_features) as feats:
        out = list(restore_frames(model, iter(frames)))
    assert feats.call_count == 5  # once per frame, not once per window
    assert len(out) == 5
    x = torch.stack([torch.from_numpy(f).permute(2, 0, 1).float() / 255
                     for f in frames])
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
    three = build(dict(type='DnCNNOFF', num_frames=3, mid_channels=8,
                       off_unit=dict(reduce_channels=4)))
    assert len(list(restore_frames(three, video(1)))) == 1
