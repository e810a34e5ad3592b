# Copyright (c) off_plugin authors. All rights reserved.
"""Inference on a whole video (file or frame folder), online, and
demo/detect_video.py; checkpoints of another model are refused."""
import json
import os.path as osp
import re
import runpy
import sys

import cv2
import pytest
import torch
from mmdet.registry import MODELS
from mmdet.utils import register_all_modules
from mmengine.config import Config
from moving_objects import CLASSES, make_moving_objects

import off_plugin.detection  # noqa: F401
from off_plugin.detection.inference import (build_test_pipeline,
                                            inference_video_detector,
                                            init_video_detector)

ROOT = osp.dirname(osp.dirname(osp.dirname(__file__)))
CONFIGS = osp.join(ROOT, 'configs', 'detection', 'off')
OFF = osp.join(CONFIGS, 'off-ms_rfcn_r18-tiny_1xb8-5e_moving-objects.py')
BASELINE = osp.join(CONFIGS, 'rfcn_r18-tiny_1xb8-5e_moving-objects.py')


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    """A tiny set, and a checkpoint of a (random) OFF detector as the
    Runner writes it."""
    register_all_modules(init_default_scope=True)
    root = tmp_path_factory.mktemp('inference')
    make_moving_objects(str(root / 'data'), dict(val=1), num_frames=4)
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(OFF).model)
    model.init_weights()
    checkpoint = str(root / 'off.pth')
    torch.save(
        dict(
            state_dict=model.state_dict(),
            meta=dict(dataset_meta=dict(classes=CLASSES))), checkpoint)
    return root, checkpoint


def test_video_folder_detections_online_equal_offline(setup):
    root, checkpoint = setup
    model = init_video_detector(OFF, checkpoint)
    assert model.dataset_meta['classes'] == CLASSES
    folder = str(root / 'data' / 'Data' / 'val' / '0000')
    results = inference_video_detector(model, folder)
    assert [r.frame_id for r in results] == [0, 1, 2, 3]

    # offline: the same frames through the test pipeline, each frame paired
    # with the one before it
    pipeline = build_test_pipeline(model.cfg)
    frames = [cv2.imread(osp.join(folder, f'{t:06d}.jpg')) for t in range(4)]
    inputs = torch.stack([
        pipeline(dict(img=[f], img_id=[t], frame_id=[t],
                      video_id=[0]))['inputs'][0] for t, f in enumerate(frames)
    ])
    samples = [r.clone() for r in results]
    data = model.data_preprocessor(
        dict(inputs=[inputs], data_samples=None), False)['inputs'][0]
    with torch.no_grad():
        # one frame at a time, as online: the same numerics
        feats = [model.extract_frame_feats(frame[None]) for frame in data]
        for t in range(4):
            offline = model.predict_frames(feats[t], feats[max(t - 1, 0)],
                                           [samples[t]])[0]
            torch.testing.assert_close(offline.scores,
                                       results[t].pred_instances.scores)
            torch.testing.assert_close(offline.bboxes,
                                       results[t].pred_instances.bboxes)


def test_detect_video_tool_writes_video_and_json(setup, tmp_path, monkeypatch):
    root, checkpoint = setup
    folder = root / 'data' / 'Data' / 'val' / '0000'
    video = str(tmp_path / 'in.mp4')
    writer = cv2.VideoWriter(video, cv2.VideoWriter_fourcc(*'mp4v'), 10,
                             (128, 128))
    for t in range(4):
        writer.write(cv2.imread(str(folder / f'{t:06d}.jpg')))
    writer.release()
    out = str(tmp_path / 'out' / 'video.mp4')
    monkeypatch.setattr(
        sys, 'argv',
        ['detect_video.py', OFF, checkpoint, video, out, '--score-thr', '0'])
    runpy.run_path(
        osp.join(ROOT, 'demo', 'detect_video.py'), run_name='__main__')
    capture = cv2.VideoCapture(out)
    assert capture.get(cv2.CAP_PROP_FRAME_COUNT) == 4
    assert capture.get(cv2.CAP_PROP_FPS) == 10
    with open(str(tmp_path / 'out' / 'video.json')) as f:
        result = json.load(f)
    assert [frame['frame_id'] for frame in result['frames']] == [0, 1, 2, 3]
    first = result['frames'][0]
    assert len(first['bboxes']) == len(first['scores']) > 0
    assert set(first['classes']) <= set(CLASSES)


def test_missing_video_is_named(setup, tmp_path):
    _, checkpoint = setup
    model = init_video_detector(OFF, checkpoint)
    with pytest.raises(FileNotFoundError, match='nothing.mp4: no such'):
        inference_video_detector(model, str(tmp_path / 'nothing.mp4'))
    (tmp_path / 'empty').mkdir()
    with pytest.raises(FileNotFoundError, match='empty: no image'):
        inference_video_detector(model, str(tmp_path / 'empty'))


def test_checkpoint_of_another_model_is_refused(setup, tmp_path):
    _, checkpoint = setup
    # OFF weights into the baseline: 'off.*' unknown there
    with pytest.raises(ValueError) as info:
        init_video_detector(BASELINE, checkpoint)
    message = str(info.value)
    assert message.startswith(
        f'{checkpoint}: not a checkpoint of this OFFVideoDetector (')
    assert 'unknown weights (e.g. off.' in message
    assert 'weights missing' not in message
    assert message.endswith('off=None for a baseline checkpoint), or load a '
                            'plain detector into model.detector with its '
                            'init_cfg.')
    # a plain mmdet detector's keys (no 'detector.' prefix)
    state = torch.load(checkpoint)['state_dict']
    plain = str(tmp_path / 'plain.pth')
    torch.save(
        dict(state_dict={
            k.replace('detector.', '', 1): v
            for k, v in state.items()
        }), plain)
    mismatch = (r': not a checkpoint of this OFFVideoDetector \(\d+ weights '
                r'missing \(e\.g\. detector\.')
    with pytest.raises(ValueError, match='^' + re.escape(plain) + mismatch):
        init_video_detector(OFF, plain)
    with pytest.raises(
            FileNotFoundError, match=r'nothing\.pth: no such checkpoint file'):
        init_video_detector(OFF, str(tmp_path / 'nothing.pth'))
    # a baseline checkpoint may start an OFF detector (OFF from scratch)
    baseline = str(tmp_path / 'baseline.pth')
    torch.save(
        dict(state_dict={
            k: v
            for k, v in state.items() if not k.startswith('off.')
        }), baseline)
    model = init_video_detector(OFF, baseline)
    assert torch.equal(model.detector.neck.convs[0].conv.weight,
                       state['detector.neck.convs.0.conv.weight'])
