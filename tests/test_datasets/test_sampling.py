# Copyright (c) off_plugin authors. All rights reserved.
import numpy as np
import pytest
from mmaction.registry import TRANSFORMS
from mmengine.registry import DefaultScope

import off_plugin  # noqa: F401
from off_plugin.datasets import IntervalConsistentSampleFrames


def sample(total_frames, start_index=0, transform=None, **kwargs):
    if transform is None:
        with DefaultScope.overwrite_default_scope('mmaction'):
            transform = TRANSFORMS.build(
                dict(type='IntervalConsistentSampleFrames', **kwargs))
    return transform(
        dict(total_frames=total_frames, start_index=start_index,
             filename='clip.mp4'))


@pytest.mark.parametrize('total_frames', [100, 137, 250, 26])
def test_training_follows_the_paper_formula(total_frames):
    alpha, beta = 7, 25
    interval = total_frames // beta
    seeds = set()
    np.random.seed(0)
    transform = IntervalConsistentSampleFrames(alpha, beta)
    for _ in range(3000):
        inds = sample(total_frames, transform=transform)['frame_inds']
        seed = inds[0]
        assert list(inds) == [seed + k * interval for k in range(alpha)]
        assert 0 <= seed <= total_frames - 1 - (alpha - 1) * interval
        seeds.add(int(seed))
    # p is drawn over the whole range {0, ..., L - 1 - (alpha-1) * interval}
    assert seeds == set(range(total_frames - (alpha - 1) * interval))


def test_testing_uses_the_training_interval_on_all_segments():
    train = sample(137, num_clips=7, num_segments=25)
    test = sample(137, num_clips=7, num_segments=25, test_mode=True)
    assert train['segment_interval'] == test['segment_interval'] == 5
    assert test['num_clips'] == 25 and train['num_clips'] == 7
    assert set(np.diff(test['frame_inds'])) == {5}
    assert set(np.diff(train['frame_inds'])) == {5}
    # centred: the frames left over are split between both ends
    assert test['frame_inds'][0] == (137 - 1 - 24 * 5) // 2
    again = sample(137, num_clips=7, num_segments=25, test_mode=True)
    assert np.array_equal(test['frame_inds'], again['frame_inds'])


def test_several_frames_per_segment_and_start_index():
    out = sample(100, start_index=1, num_clips=3, num_segments=10,
                 clip_len=5, test_mode=True)
    inds = out['frame_inds'].reshape(10, 5)
    assert out['clip_len'] == 5
    assert (np.diff(inds, axis=1) == 1).all()  # consecutive flow frames
    assert (np.diff(inds[:, 0]) == 10).all()  # segments an interval apart
    assert inds.min() >= 1 and inds.max() <= 100  # 1-based rawframes
    np.random.seed(1)
    for _ in range(100):
        inds = sample(100, num_clips=3, num_segments=10,
                      clip_len=6)['frame_inds']
        assert inds.max() <= 99


def test_authors_positions_variant():
    np.random.seed(0)
    firsts = set()
    positions = ((np.arange(25) + 0.5) * 250 / 25).astype(int)
    for _ in range(400):
        inds = sample(250, num_clips=7, num_segments=25, mode='positions',
                      max_start=17)['frame_inds']
        first = int(np.where(positions == inds[0])[0][0])
        assert np.array_equal(inds, positions[first:first + 7])
        firsts.add(first)
    assert firsts == set(range(17))
    test = sample(250, num_clips=7, num_segments=25, mode='positions',
                  test_mode=True)
    assert np.array_equal(test['frame_inds'], positions)


@pytest.mark.parametrize('total_frames', [1, 3, 7, 24])
@pytest.mark.parametrize('test_mode', [False, True])
def test_short_videos_repeat_the_last_frame(total_frames, test_mode):
    np.random.seed(0)
    out = sample(total_frames, num_clips=7, num_segments=25, clip_len=2,
                 test_mode=test_mode)
    inds = out['frame_inds']
    assert len(inds) == (25 if test_mode else 7) * 2
    assert inds.min() >= 0 and inds.max() <= total_frames - 1
    if len(inds) // 2 + 1 > total_frames:  # the span does not fit
        assert inds.max() == total_frames - 1
    assert out['segment_interval'] == 1
    assert (np.diff(inds.reshape(-1, 2)[:, 0]) >= 0).all()


def test_empty_video_names_the_file():
    with pytest.raises(ValueError, match='clip.mp4.*no frames'):
        sample(0, num_clips=3, num_segments=8)


def test_bad_configs():
    with pytest.raises(ValueError, match='num_clips=9'):
        IntervalConsistentSampleFrames(num_clips=9, num_segments=8)
    with pytest.raises(ValueError, match='max_start=5'):
        IntervalConsistentSampleFrames(num_clips=7, num_segments=10,
                                       mode='positions', max_start=5)
