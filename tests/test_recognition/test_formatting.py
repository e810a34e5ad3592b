# Copyright (c) off_plugin authors. All rights reserved.
import numpy as np
import pytest

from off_plugin.recognition import FormatRGBDiff


def test_rgb_diff_stacks_differences_of_each_segment():
    rng = np.random.default_rng(0)
    # 2 crops x 3 segments x 4 frames of 5x6 RGB
    frames = rng.integers(0, 256, (2, 3, 4, 5, 6, 3)).astype(np.uint8)
    results = FormatRGBDiff()(
        dict(imgs=list(frames.reshape(-1, 5, 6, 3)), clip_len=4))
    out = results['imgs']
    assert out.shape == (6, 9, 5, 6) and out.dtype == np.float32
    f = frames.astype(np.float32).reshape(6, 4, 5, 6, 3)
    for v in range(6):
        for i in range(3):
            np.testing.assert_array_equal(out[v, 3 * i:3 * i + 3],
                                          (f[v, i + 1] - f[v, i]).transpose(
                                              2, 0, 1))


def test_rgb_diff_needs_two_frames_per_segment():
    with pytest.raises(ValueError, match='clip_len >= 2'):
        FormatRGBDiff()(
            dict(imgs=[np.zeros((4, 4, 3))] * 3, clip_len=1, filename='a.mp4'))
