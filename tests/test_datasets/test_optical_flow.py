# Copyright (c) off_plugin authors. All rights reserved.
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from off_plugin.datasets.motion_videos import render_clip, write_video
from off_plugin.datasets.optical_flow import (extract_video_flow,
                                              rawframe_annotations, tvl1_flow)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))


def moving_patch(direction, num_frames=4):
    rng = np.random.default_rng(1)
    return render_clip(rng, direction, size=48, num_frames=num_frames,
                       speed=2, patch=16)


@pytest.mark.parametrize('direction', [(1, 0), (0, -1)])
def test_tvl1_flow_follows_the_motion(direction):
    frames = moving_patch(direction)
    flow = tvl1_flow(frames[..., ::-1], bound=20.)
    assert flow.shape == (3, 48, 48, 2) and flow.dtype == np.uint8
    pixels = (flow.astype(np.float32) * 40. / 255. - 20.)  # back to pixels
    # where the patch is (moving 2 pixels per frame) vs. the static corner
    moving = np.abs(frames[1:].astype(int) - frames[:-1]).sum(-1) > 0
    dx, dy = np.median(pixels[moving], axis=0)
    assert abs(dx - 2 * direction[0]) < 0.7 and abs(dy - 2 * direction[1]) < 0.7
    still = np.abs(np.median(pixels[~moving], axis=0))
    assert (still < 0.3).all()


def test_extraction_layout_resume_and_annotations(tmp_path):
    video = str(tmp_path / 'clip.mp4')
    write_video(video, moving_patch((1, 0), num_frames=6))
    out = str(tmp_path / 'rawframes' / 'cls' / 'clip')
    assert extract_video_flow(video, out, with_rgb=True) == 5
    names = sorted(os.listdir(out))
    assert names[:1] == ['.flow_done']
    assert [n for n in names if n.startswith('x_')] == [
        f'x_{i:05d}.jpg' for i in range(1, 6)]
    assert len([n for n in names if n.startswith('img_')]) == 6
    assert cv2.imread(os.path.join(out, 'y_00001.jpg'),
                      cv2.IMREAD_GRAYSCALE).shape == (48, 48)
    stamp = os.path.getmtime(os.path.join(out, 'x_00003.jpg'))
    assert extract_video_flow(video, out) == 5  # finished: left alone
    assert os.path.getmtime(os.path.join(out, 'x_00003.jpg')) == stamp
    assert rawframe_annotations(['cls/clip.mp4 3'], [5]) == ['cls/clip 5 3']


def test_tool_lists_failures_and_keeps_the_rest(tmp_path):
    (tmp_path / 'videos').mkdir()
    write_video(str(tmp_path / 'videos' / 'good.mp4'),
                moving_patch((1, 0), num_frames=3))
    (tmp_path / 'videos' / 'bad.mp4').write_bytes(b'\x00' * 100)
    ann = tmp_path / 'demo_train_split_1_videos.txt'
    ann.write_text('good.mp4 0\nbad.mp4 1\n')
    proc = subprocess.run(
        [sys.executable, os.path.join(ROOT, 'tools', 'extract_tvl1_flow.py'),
         str(tmp_path / 'videos'), str(tmp_path / 'rawframes'),
         '--ann-files', str(ann)], capture_output=True, text=True)
    assert proc.returncode == 1
    assert 'bad.mp4' in proc.stderr and 'no frame could be decoded' in \
        proc.stderr
    assert (tmp_path / 'demo_train_split_1_rawframes.txt').read_text() == \
        'good 2 0\n'
    assert (tmp_path / 'rawframes' / 'good' / 'x_00002.jpg').exists()
