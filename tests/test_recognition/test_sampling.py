# Copyright (c) off_plugin authors. All rights reserved.
import numpy as np
import pytest
from mmaction.registry import TRANSFORMS
from mmengine.registry import DefaultScope

import off_plugin.recognition  # noqa: F401
from off_plugin.recognition import IntervalConsistentSampleFrames


def sample(total_frames, start_index=0, transform=None, **kwargs):
    if transform is None:
        with DefaultScope.overwrite_default_scope('mmaction'):
            transform = TRANSFORMS.build(
                dict(type='IntervalConsistentSampleFrames', **kwargs))
    return transform(
        dict(
            total_frames=total_frames,
            start_index=start_index,
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
    out = sample(
        100,
        start_index=1,
        num_clips=3,
        num_segments=10,
        clip_len=5,
        test_mode=True)
    inds = out['frame_inds'].reshape(10, 5)
    assert out['clip_len'] == 5
    assert (np.diff(inds, axis=1) == 1).all()  # consecutive flow frames
    assert (np.diff(inds[:, 0]) == 10).all()  # segments an interval apart
    assert inds.min() >= 1 and inds.max() <= 100  # 1-based rawframes
    np.random.seed(1)
    for _ in range(100):
        inds = sample(
            100, num_clips=3, num_segments=10, clip_len=6)['frame_inds']
        assert inds.max() <= 99


def caffe_test_offsets(total_frames, new_length, num_segments=25):
    """video_data_layer.cpp, TEST phase: offsets[i], i = 0 .. 24."""
    step = int((total_frames - new_length) / (num_segments - 1))
    return [
        min(1 + i * step, total_frames - new_length) if step > 0 else 0
        for i in range(num_segments)
    ]


@pytest.mark.parametrize(
    'total_frames,clip_len,expected_head',
    [
        (250, 1, [1, 11, 21]),  # step floor(249 / 24) = 10
        (137, 1, [1, 6, 11]),  # step 5
        (137, 5, [1, 6, 11]),  # flow: step floor(132 / 24) = 5
        (60, 6, [1, 3, 5]),  # RGB difference: step floor(54 / 24) = 2
        (49, 1, [1, 3, 5]),  # step exactly 2, last offset capped at 48
        (20, 1, [0, 0, 0]),  # step 0: every segment at frame 0
    ])
def test_authors_test_positions(total_frames, clip_len, expected_head):
    """Testing in mode='positions' reads the frames the authors' Caffe data
    layer reads: offsets 1 + i * floor((L - new_length) / 24), 0-based, the
    segment's frames offset ... offset + new_length - 1; rawframes add 1."""
    for start_index in (0, 1):
        out = sample(
            total_frames,
            start_index=start_index,
            num_clips=7,
            num_segments=25,
            clip_len=clip_len,
            mode='positions',
            test_mode=True)
        inds = out['frame_inds'].reshape(25, clip_len) - start_index
        offsets = caffe_test_offsets(total_frames, clip_len)
        assert inds[:, 0].tolist() == offsets
        assert offsets[:3] == expected_head
        assert (inds == np.array(offsets)[:, None] + np.arange(clip_len)).all()
        assert inds.max() <= total_frames - 1
        assert out['num_clips'] == 25


def test_authors_training_positions():
    """Training in mode='positions': 7 consecutive of the 25 positions from
    a first one in range(17), each offset by its own draw from {0, ...,
    step - new_length} (their random_sample branch)."""
    np.random.seed(0)
    firsts, jitters = set(), set()
    step = (250 - 1) // 24  # 10
    for _ in range(600):
        inds = sample(
            250, num_clips=7, num_segments=25, mode='positions',
            max_start=17)['frame_inds']
        first, jitter = divmod(inds - np.arange(7) * step, step)
        assert len(set(first)) == 1 and 0 <= first[0] < 17
        firsts.add(int(first[0]))
        jitters.update(jitter.tolist())
    assert firsts == set(range(17))
    assert jitters == set(range(step))  # {0, ..., step - new_length}
    # step <= new_length: offset 1 (their code), capped at L - new_length
    inds = sample(
        60,
        num_clips=7,
        num_segments=25,
        clip_len=2,
        mode='positions',
        max_start=1)['frame_inds']
    assert inds.reshape(7, 2)[:, 0].tolist() == [1, 3, 5, 7, 9, 11, 13]


@pytest.mark.parametrize('total_frames', [1, 3, 7, 24])
@pytest.mark.parametrize('test_mode', [False, True])
def test_short_videos_repeat_the_last_frame(total_frames, test_mode):
    np.random.seed(0)
    out = sample(
        total_frames,
        num_clips=7,
        num_segments=25,
        clip_len=2,
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
        IntervalConsistentSampleFrames(
            num_clips=7, num_segments=10, mode='positions', max_start=5)
    with pytest.raises(ValueError, match='num_segments >= 2'):
        IntervalConsistentSampleFrames(
            num_clips=1, num_segments=1, mode='positions')
