# Copyright (c) off_plugin authors. All rights reserved.
import os
import runpy

import cv2
import numpy as np
import pytest
from motion_videos import render_clip, write_video
from optical_flow import extract_video_flow, rawframe_annotations, tvl1_flow

from off_plugin.utils import ToolError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))


def moving_patch(direction, num_frames=4):
    rng = np.random.default_rng(1)
    return render_clip(
        rng, direction, size=48, num_frames=num_frames, speed=2, patch=16)


@pytest.mark.parametrize('direction', [(1, 0), (0, -1)])
def test_tvl1_flow_follows_the_motion(direction):
    frames = moving_patch(direction)
    flow = tvl1_flow(frames[..., ::-1], bound=20.)
    assert flow.shape == (3, 48, 48, 2) and flow.dtype == np.uint8
    pixels = (flow.astype(np.float32) * 40. / 255. - 20.)  # back to pixels
    # where the patch is (moving 2 pixels per frame) vs. the static corner
    moving = np.abs(frames[1:].astype(int) - frames[:-1]).sum(-1) > 0
    dx, dy = np.median(pixels[moving], axis=0)
    assert abs(dx - 2 * direction[0]) < 0.7
    assert abs(dy - 2 * direction[1]) < 0.7
    still = np.abs(np.median(pixels[~moving], axis=0))
    assert (still < 0.3).all()


def test_extraction_layout_resume_and_annotations(tmp_path):
    video = str(tmp_path / 'clip.mp4')
    write_video(video, moving_patch((1, 0), num_frames=6))
    out = str(tmp_path / 'rawframes' / 'cls' / 'clip')
    assert extract_video_flow(video, out, with_rgb=True) == 5
    names = sorted(os.listdir(out))
    assert names[:1] == ['.flow_done']
    assert [n for n in names
            if n.startswith('x_')] == [f'x_{i:05d}.jpg' for i in range(1, 6)]
    assert len([n for n in names if n.startswith('img_')]) == 6
    assert cv2.imread(os.path.join(out, 'y_00001.jpg'),
                      cv2.IMREAD_GRAYSCALE).shape == (48, 48)
    stamp = os.path.getmtime(os.path.join(out, 'x_00003.jpg'))
    assert extract_video_flow(video, out) == 5  # finished: left alone
    assert os.path.getmtime(os.path.join(out, 'x_00003.jpg')) == stamp
    assert rawframe_annotations(['cls/clip.mp4 3'], [5]) == ['cls/clip 5 3']


def test_tool_lists_go_into_out_dir_and_bad_lists_are_refused(tmp_path):
    """One rawframe list an annotation file, in out_dir; paths that leave
    the video root, and two lists of one name, are refused before anything
    is written (failures and data safety:
    tests/test_tools/test_data_safety_recognition.py)."""
    main = runpy.run_path(
        os.path.join(ROOT, 'tools', 'data', 'extract_tvl1_flow.py'))['main']
    (tmp_path / 'videos').mkdir()
    write_video(
        str(tmp_path / 'videos' / 'good.mp4'),
        moving_patch((1, 0), num_frames=3))
    train = tmp_path / 'demo_train_split_1_videos.txt'
    train.write_text('good.mp4 0\n')
    val = tmp_path / 'demo_val.txt'
    val.write_text('good.mp4 2\n')
    out = tmp_path / 'rawframes'
    written = main([
        str(tmp_path / 'videos'),
        str(out), '--ann-files',
        str(train),
        str(val)
    ])
    assert written == {
        str(out / 'demo_train_split_1_rawframes.txt'): ['good 2 0'],
        str(out / 'demo_val_rawframes.txt'): ['good 2 2']
    }
    assert (out / 'demo_val_rawframes.txt').read_text() == 'good 2 2\n'

    (tmp_path / 'other').mkdir()
    twin = tmp_path / 'other' / 'demo_val.txt'
    twin.write_text('good.mp4 1\n')
    with pytest.raises(
            ToolError,
            match='demo_val.txt: its rawframe list '
            '.* is the one of another --ann-files entry'):
        main([
            str(tmp_path / 'videos'),
            str(tmp_path / 'new'), '--ann-files',
            str(val),
            str(twin)
        ])
    twin.write_text('good.mp4 1\n../secret.mp4 0\n')
    with pytest.raises(
            ToolError,
            match='demo_val.txt, line 2: '
            r'\.\./secret.mp4 is not inside the video root'):
        main([
            str(tmp_path / 'videos'),
            str(tmp_path / 'new'), '--ann-files',
            str(twin)
        ])
    assert not (tmp_path / 'new').exists()
