# Copyright (c) off_plugin authors. All rights reserved.
import os
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest
from mmagic.evaluation.metrics.psnr import psnr
from mmengine.config import Config
from mmengine.registry import DefaultScope
from real_clips import load_source
from restoration_clips import SOURCES, TEST_SOURCE, make_restoration_clips

import off_plugin.restoration  # noqa: F401
from off_plugin.restoration import CheckFrames, Vimeo90KSeptupletDataset
from off_plugin.restoration.jpeg2000 import jpeg2000_roundtrip
from off_plugin.restoration.vimeo90k import compress_clip


@pytest.fixture(scope='module')
def carphone():
    return load_source('carphone_pristine', 1.)[:3]


def test_jpeg2000_lowers_psnr_sanely_and_is_deterministic(carphone):
    q20 = jpeg2000_roundtrip(carphone, 20)
    q40 = jpeg2000_roundtrip(carphone, 40)
    assert q20.shape == carphone.shape and q20.dtype == np.uint8
    p20, p40 = psnr(carphone, q20), psnr(carphone, q40)
    # a real 176x144 frame: clearly degraded, not destroyed; q40 coarser
    assert 30 < p40 < p20 < 40
    assert p20 - p40 > 1
    assert np.array_equal(q40, jpeg2000_roundtrip(carphone, 40))


def test_jpeg2000_refuses_other_arrays():
    with pytest.raises(ValueError, match=r'\(T, H, W, 3\) uint8'):
        jpeg2000_roundtrip(np.zeros((2, 8, 8), np.uint8), 40)


def test_dataset_gives_frames_around_the_4th(tiny_vimeo):
    for num, frames in ((3, [3, 4, 5]), (2, [3, 4]), (1, [4])):
        data = Vimeo90KSeptupletDataset(
            ann_file='sep_testlist.txt',
            data_root=str(tiny_vimeo),
            quality=40,
            num_input_frames=num,
            pipeline=[])
        assert len(data) == 2
        item = data.get_data_info(0)
        clip = (tiny_vimeo / 'sep_testlist.txt').read_text().split()[0]
        assert item['img_path'] == [
            str(tiny_vimeo / 'sequences_jpeg2000_q40' / clip / f'im{i}.png')
            for i in frames
        ]
        assert item['gt_path'] == str(tiny_vimeo / 'sequences' / clip /
                                      'im4.png')


def test_all_targets_takes_every_window_inside_the_septuplet(tiny_vimeo):
    clip = (tiny_vimeo / 'sep_trainlist.txt').read_text().split()[0]
    for num, windows in ((3, [(t - 1, t, t + 1) for t in range(2, 7)]), (2, [
        (t - 1, t) for t in range(2, 8)
    ]), (1, [(t, ) for t in range(1, 8)])):
        data = Vimeo90KSeptupletDataset(
            ann_file='sep_trainlist.txt',
            data_root=str(tiny_vimeo),
            quality=40,
            num_input_frames=num,
            all_targets=True,
            pipeline=[])
        assert len(data) == 4 * len(windows)  # 4 training clips
        for i, window in enumerate(windows):
            item = data.get_data_info(i)
            assert item['img_path'] == [
                str(tiny_vimeo / 'sequences_jpeg2000_q40' / clip /
                    f'im{f}.png') for f in window
            ]
            # the target is the frame the single-target layout aligns
            target = window[num // 2]
            assert item['gt_path'] == str(tiny_vimeo / 'sequences' / clip /
                                          f'im{target}.png')
            assert item['key'] == f'{clip}/im{target}'


def test_embedded_lists_keep_validation_and_test_apart(tmp_path):
    """Test clips come only from the held-out source; validation clips from
    the training sources, after a gap of a window; no clip in two lists."""
    counts = make_restoration_clips(str(tmp_path), size=(32, 24))
    lists = {name: (tmp_path / name).read_text().split() for name in counts}
    assert all(lists.values())
    test_video = f'{list(SOURCES).index(TEST_SOURCE) + 1:05d}'
    assert {c.split('/')[0] for c in lists['sep_testlist.txt']} == {test_video}
    for name in ('sep_trainlist.txt', 'sep_vallist.txt'):
        assert test_video not in {c.split('/')[0] for c in lists[name]}
    # clips are <video>/<window><crop>: validation windows come later
    window = {}
    for name in ('sep_trainlist.txt', 'sep_vallist.txt'):
        for clip in lists[name]:
            video, rest = clip.split('/')
            window.setdefault((video, name), set()).add(int(rest[:2]))
    for video in {v for v, _ in window}:
        assert min(window[video, 'sep_vallist.txt']) >= \
            max(window[video, 'sep_trainlist.txt']) + 2
    # the same for the same seed
    again = tmp_path / 'again'
    assert make_restoration_clips(str(again), size=(32, 24)) == counts
    assert (again / 'sep_vallist.txt').read_text() == \
        (tmp_path / 'sep_vallist.txt').read_text()


def test_all_targets_is_refused_for_testing(tiny_vimeo):
    with pytest.raises(ValueError, match='all_targets=True is for training'):
        Vimeo90KSeptupletDataset(
            ann_file='sep_testlist.txt',
            data_root=str(tiny_vimeo),
            quality=40,
            all_targets=True,
            test_mode=True)


def test_dataset_without_compressed_frames_names_the_tool(tiny_vimeo):
    with pytest.raises(FileNotFoundError, match='compress_vimeo90k.py'):
        Vimeo90KSeptupletDataset(
            ann_file='sep_testlist.txt', data_root=str(tiny_vimeo), quality=20)


def test_compression_cache_is_reused_and_matches_a_fresh_encode(tiny_vimeo):
    clip = (tiny_vimeo / 'sep_trainlist.txt').read_text().split()[0]
    out = tiny_vimeo / 'sequences_jpeg2000_q40' / clip
    stamp = os.path.getmtime(out / 'im2.png')
    assert compress_clip(str(tiny_vimeo), clip, 40) == ''
    assert os.path.getmtime(out / 'im2.png') == stamp  # finished: skipped
    originals = np.stack([
        cv2.imread(str(tiny_vimeo / 'sequences' / clip /
                       f'im{i}.png'))[..., ::-1] for i in range(1, 8)
    ])
    cached = np.stack(
        [cv2.imread(str(out / f'im{i}.png'))[..., ::-1] for i in range(1, 8)])
    assert np.array_equal(cached, jpeg2000_roundtrip(originals, 40))


def test_interrupted_clip_is_redone(tiny_vimeo, tmp_path):
    root = tmp_path / 'v'
    clip = (tiny_vimeo / 'sep_trainlist.txt').read_text().split()[1]
    shutil.copytree(tiny_vimeo / 'sequences' / clip, root / 'sequences' / clip)
    half = root / 'sequences_jpeg2000_q40' / clip
    half.mkdir(parents=True)
    (half / 'im1.png').write_bytes(b'')  # a run stopped mid-clip
    assert compress_clip(str(root), clip, 40) == ''
    assert sorted(os.listdir(half)) == [f'im{i}.png' for i in range(1, 8)]
    assert cv2.imread(str(half / 'im1.png')) is not None
    assert sorted(os.listdir(half.parent)) == [half.name]  # no temporary


def test_check_frames_names_the_odd_file():
    ok = np.zeros((24, 32, 3), np.uint8)
    results = dict(
        img=[ok, np.zeros((24, 30, 3), np.uint8)],
        gt=ok,
        img_path=['a/im3.png', 'a/im4.png'],
        gt_path='g/im4.png')
    with pytest.raises(ValueError, match=r'a/im4.png: \(24, 30, 3\)'):
        CheckFrames()(results)
    gray = dict(results, img=[ok[..., 0], ok[..., 0]])
    with pytest.raises(ValueError, match='3 channels'):
        CheckFrames()(gray)
    good = dict(results, img=[ok, ok])
    assert CheckFrames()(good) is good


# Motion-consistent augmentation for small-data training: MMagic's own
# transforms, one random draw per sample for all its frames and the target;
# tested as the demo config uses them.
DEMO_CONFIG = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs',
    'restoration', 'off', 'dncnn-c32l10_1xb8-800iter_restoration-demo-q40.py')
AUGMENTATION = ('Flip', 'RandomTransposeHW', 'TemporalReverse')


def demo_augmentation():
    steps = [
        t for t in Config.fromfile(DEMO_CONFIG).train_pipeline
        if t['type'] in AUGMENTATION
    ]
    assert len(steps) == 4  # h and v flips, transpose, temporal reversal
    return steps


def dihedral(img):
    """The 8 flips / rotations by 90 degrees of an (H, W, C) image."""
    out = []
    for t in (img, img.transpose(1, 0, 2)):
        for a in (t, t[::-1], t[:, ::-1], t[::-1, ::-1]):
            out.append(np.ascontiguousarray(a))
    return out


def test_augmentation_moves_every_frame_of_a_sample_alike(tiny_vimeo):
    from mmagic.registry import TRANSFORMS
    from mmengine.dataset import Compose
    with DefaultScope.overwrite_default_scope('mmagic'):
        pipeline = Compose([
            TRANSFORMS.build(t) for t in (
                dict(type='LoadImageFromFile', key='img', channel_order='rgb'),
                dict(type='LoadImageFromFile', key='gt', channel_order='rgb'),
                *demo_augmentation())
        ])
    data = Vimeo90KSeptupletDataset(
        ann_file='sep_trainlist.txt',
        data_root=str(tiny_vimeo),
        quality=40,
        num_input_frames=3,
        all_targets=True,
        pipeline=[])
    item = data.get_data_info(0)
    frames = [cv2.imread(p)[..., ::-1] for p in item['img_path']]
    gt = cv2.imread(item['gt_path'])[..., ::-1]
    np.random.seed(0)
    seen, reversed_seen = set(), set()
    for _ in range(40):
        out = pipeline(
            dict(img_path=item['img_path'], gt_path=item['gt_path']))
        # the transform of the target, one of the 8 ...
        moved = [
            i for i, g in enumerate(dihedral(gt))
            if g.shape == out['gt'].shape and np.array_equal(g, out['gt'])
        ]
        assert len(moved) == 1
        k = moved[0]
        # ... is the transform of every input frame, in order or reversed
        order = frames
        if not np.array_equal(dihedral(frames[0])[k], out['img'][0]):
            order = order[::-1]
            reversed_seen.add(k)
        for frame, got in zip(order, out['img']):
            assert np.array_equal(dihedral(frame)[k], got)
        seen.add(k)
    assert len(seen) == 8 and reversed_seen  # every transform drawn
