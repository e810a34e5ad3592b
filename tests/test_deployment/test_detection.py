# Copyright (c) off_plugin authors. All rights reserved.
"""Video detectors exported to ONNX give PyTorch's online detections on ONNX
Runtime: R-FCN (tiny, with and without OFF) and Faster R-CNN (ResNet-50
DC5 at 128x128) over a demo stream, each frame's maps fed to the next
frame, and through demo/detect_video.py; position-sensitive RoI align
from RoiAlign."""
import functools
import json
import runpy
import sys

import cv2
import numpy as np
import pytest
import torch
import torchvision
from mmengine.config import Config
from moving_objects import make_moving_objects
from tiny_runs import ROOT

from off_plugin.deployment import detection
from off_plugin.detection.inference import iter_video_detections

CONFIGS = ROOT / 'configs' / 'detection' / 'off'
RFCN = CONFIGS / 'rfcn_r18-tiny_1xb8-5e_moving-objects.py'
RFCN_OFF = CONFIGS / 'off-ms_rfcn_r18-tiny_1xb8-5e_moving-objects.py'
FASTER_RCNN = CONFIGS / 'faster-rcnn_r50-dc5_4xb1-220k_imagenet-vid.py'
TOOL = str(ROOT / 'demo' / 'detect_video.py')


@pytest.fixture(scope='module')
def frames(tmp_path_factory):
    """3 frames (128x128) of a demo video, its folder."""
    root = tmp_path_factory.mktemp('deploy_detection')
    make_moving_objects(str(root), dict(val=1), num_frames=3)
    folder = root / 'Data' / 'val' / '0000'
    return [cv2.imread(str(folder / f'{t:06d}.jpg')) for t in range(3)], folder


def detector(config, **test_cfg):
    """The config's detector (random weights, seed 0), frames resized to
    128x128 by its test pipeline; ``test_cfg`` overrides ``rcnn``'s."""
    cfg = Config.fromfile(config)
    cfg.test_dataloader.dataset.pipeline[0].transforms[1].scale = (128, 128)
    cfg.model.detector.test_cfg.rcnn.update(test_cfg)
    torch.manual_seed(0)
    with pytest.warns(UserWarning, match='random weights'):
        return detection.init_model(cfg, None)


def detections(results):
    """``pred_instances`` -> [dets (K, 5), labels (K,)], the outputs
    :func:`compare_detections` takes."""
    return [
        np.concatenate([
            np.asarray(results.bboxes, np.float32).reshape(-1, 4),
            np.asarray(results.scores, np.float32)[:, None]
        ], 1),
        np.asarray(results.labels)
    ]


def assert_same_detections(expected, actual):
    """Same number of boxes and labels, IoU > 0.99, scores within 1e-3;
    returns the largest 1 - IoU and score difference of the pairs."""
    expected, actual = (detections(r) for r in (expected, actual))
    difference, tolerance = detection.compare_detections(expected, actual)
    assert difference <= tolerance
    shortfall = score = 0.
    for det, label in zip(*expected):
        ious = np.where(actual[1] == label,
                        detection.box_iou(det[:4], actual[0][:, :4]), -1)
        shortfall = max(shortfall, 1 - ious.max())
        score = max(score, abs(det[4] - actual[0][ious.argmax(), 4]))
    return shortfall, score


@pytest.mark.parametrize('psroi, sampling_ratio', [((7, 7), 2), ((7, 7), 0),
                                                   ((3, 4), 2)])
def test_ps_roi_align_equals_torchvision(psroi, sampling_ratio):
    torch.manual_seed(0)
    x = torch.randn(2, 35 * psroi[0] * psroi[1], 20, 24)
    corner = torch.rand(60, 2) * 300
    rois = torch.cat((torch.randint(
        0, 2, (60, 1)).float(), corner, corner + torch.rand(60, 2) * 200 + 1),
                     dim=1)
    expected = torchvision.ops.ps_roi_align(x, rois, psroi, 1 / 16,
                                            sampling_ratio)
    actual = detection.ps_roi_align(x, rois, psroi, 1 / 16, sampling_ratio)
    assert actual.shape == expected.shape == (60, 35, *psroi)
    assert (actual - expected).abs().max() < 1e-5


def test_ps_roi_pool_is_refused():
    cfg = Config.fromfile(RFCN)
    cfg.model.detector.roi_head.bbox_roi_extractor.roi_layer = dict(
        type='PSRoIPool', output_size=7)
    with pytest.warns(UserWarning, match='random weights'):
        model = detection.init_model(cfg, None)
    with pytest.raises(
            ValueError,
            match=r'^model\.detector\.roi_head\.'
            r"bbox_roi_extractor\.roi_layer\.type='PSRoIPool'"
            '.*set it to PSRoIAlign'):
        detection.graphs(model)


@pytest.mark.parametrize('config, test_cfg, num_prev', [
    (RFCN, {}, 0),
    (RFCN_OFF, {}, 2),
    (FASTER_RCNN, dict(score_thr=0.01), 0),
])
def test_online_detections_equal_pytorch(frames, tmp_path, config, test_cfg,
                                         num_prev):
    """Export, then ONNX Runtime over a 3-frame stream (each frame's maps
    fed to the next) against PyTorch's online predict."""
    frames, _ = frames
    model = detector(config, **test_cfg)
    graph, = detection.graphs(model)
    assert graph.metadata['input_size'] == [128, 128]
    assert graph.metadata['num_prev'] == num_prev
    assert graph.input_names == ['img'] + [
        f'prev_{k}' for k in range(num_prev)
    ] + ['is_first'] * bool(num_prev)
    assert graph.output_names == ['dets', 'labels'
                                  ] + [f'feat_{k}' for k in range(num_prev)]
    onnx_file = graph.export(str(tmp_path / 'detector.onnx'))
    difference, tolerance = graph.verify(onnx_file)
    assert difference <= tolerance

    expected = [
        s.pred_instances
        for _, s in iter_video_detections(model, iter(frames))
    ]
    ort_detector = detection.ONNXVideoDetector(model.cfg, onnx_file)
    actual = [
        s.pred_instances
        for _, s in iter_video_detections(ort_detector, iter(frames))
    ]
    worst = [assert_same_detections(e, a) for e, a in zip(expected, actual)]
    assert all(len(e) > 0 for e in expected)
    assert max(score for _, score in worst) < 1e-3
    print(f'{config.name}: 1 - IoU <= {max(i for i, _ in worst):.2g}, '
          f'score difference <= {max(s for _, s in worst):.2g}')

    # frames the pipeline resizes to another size than the export's
    with pytest.raises(ValueError, match='export again with --shape 96 128'):
        next(
            iter_video_detections(ort_detector,
                                  iter([cv2.resize(frames[0], (128, 96))])))


def test_detect_video_onnxruntime_equals_pytorch(frames, tmp_path,
                                                 monkeypatch):
    _, folder = frames
    model = detector(RFCN_OFF)
    checkpoint = str(tmp_path / 'off.pth')
    torch.save(dict(state_dict=model.state_dict()), checkpoint)
    graph, = detection.graphs(model)
    onnx_file = graph.export(str(tmp_path / 'off.onnx'))
    results = {}
    for backend, weights in (('pytorch', checkpoint), ('onnxruntime',
                                                       onnx_file)):
        out = str(tmp_path / backend / 'video.mp4')
        monkeypatch.setattr(sys, 'argv', [
            'detect_video.py',
            str(RFCN_OFF), weights,
            str(folder), out, '--score-thr', '0', '--backend', backend
        ])
        runpy.run_path(TOOL, run_name='__main__')
        assert cv2.VideoCapture(out).get(cv2.CAP_PROP_FRAME_COUNT) == 3
        with open(str(tmp_path / backend / 'video.json')) as f:
            results[backend] = json.load(f)['frames']
    for expected, actual in zip(results['pytorch'], results['onnxruntime']):
        assert len(expected['bboxes']) > 0
        difference, tolerance = detection.compare_detections(*[[
            np.concatenate([
                np.reshape(r['bboxes'], (-1, 4)),
                np.reshape(r['scores'], (-1, 1))
            ], 1),
            np.asarray(r['labels'])
        ] for r in (expected, actual)])
        assert difference <= tolerance


def test_max_topk_caps_every_topk_of_the_graph():
    """R-FCN's nms_pre=6000 exceeds TensorRT's TopK limit (k <= 3840):
    ``max_topk`` caps it in the graph (7500 anchors at 400x400, so that
    the RPN's TopK would take 6000)."""
    cfg = Config.fromfile(RFCN_OFF)
    cfg.model.detector.test_cfg.rpn.nms_pre = 6000
    with pytest.warns(UserWarning, match='random weights'):
        model = detection.init_model(cfg, None)
    graph, = detection.graphs(model, shape=(400, 400), max_topk=3840)
    assert graph.metadata['max_topk'] == 3840
    program = torch.export.export(graph.module, graph.inputs)
    ks = [
        node.args[1] for node in program.graph.nodes
        if node.target == torch.ops.aten.topk.default
    ]
    assert ks == [3840, 50]  # then rpn.max_per_img of those kept


def test_calibration_follows_the_stream(frames, tmp_path):
    """The calibration samples of the OFF detector are frames of the
    config's val split with the maps of the frame before them (the first
    frame of a video its own, ``is_first`` 1), as the online runner feeds
    them."""
    root = frames[1].parents[2]
    cfg = Config.fromfile(RFCN_OFF)
    cfg.val_dataloader.dataset.data_root = str(root)
    with pytest.warns(UserWarning, match='random weights'):
        model = detection.init_model(cfg, None)
    graph, = detection.graphs(model)
    samples = detection.calibration_inputs(model, [graph], 2, 'val')['']
    assert len(samples) == 2
    (first, *_, first_flag), (last, *prev, flag) = samples
    assert first_flag == 1 and flag == 0
    # the pipeline's frames: as read, BGR, 128x128
    assert np.allclose(first[0], frames[0][0].transpose(2, 0, 1))
    assert np.allclose(last[0], frames[0][2].transpose(2, 0, 1))
    with torch.no_grad():
        maps = model.extract_frame_feats(
            graph.module.preprocess(
                torch.from_numpy(frames[0][1].transpose(2, 0,
                                                        1))[None].float()))
    for k, i in enumerate(graph.module.off_maps):
        assert np.allclose(prev[k], maps[i].numpy(), atol=1e-5)


def test_evaluation_scores_what_the_step_predicts(frames):
    """The config's own ImageNet VID metric over its val split: 1 for a
    step that predicts the ground truth, 0 for one that predicts boxes
    elsewhere."""
    from mmdet.structures.bbox import get_box_tensor
    from mmengine.structures import InstanceData

    from off_plugin.deployment.evaluation import evaluate
    root = frames[1].parents[2]
    cfg = Config.fromfile(RFCN_OFF)
    cfg.val_dataloader.dataset.data_root = str(root)
    cfg.val_evaluator.ann_file = str(root / 'annotations' / 'val.json')

    def step(shift):

        def predict(data):
            for track in data['data_samples']:
                for sample in track:
                    gt = sample.gt_instances
                    sample.pred_instances = InstanceData(
                        bboxes=get_box_tensor(gt.bboxes) + shift,
                        scores=torch.ones(len(gt.labels)),
                        labels=gt.labels)
            return data['data_samples']

        return predict

    assert evaluate(cfg, step(0), 'val')[detection.METRIC] == 1
    assert evaluate(cfg, step(1000), 'val')[detection.METRIC] == 0


def test_int8_comparison_holds_the_confident_boxes_both_ways():
    """An int8 file's boxes near the score threshold may come and go: only
    those scored >= min_score must match, in both directions."""
    box = [10., 10., 50., 60.]
    expected = [np.array([box + [.9], [0, 0, 5, 5, .2]]), np.array([1, 0])]
    compare = functools.partial(
        detection.compare_detections,
        score_tolerance=.1,
        min_iou=.9,
        min_score=.5)
    shifted = [box[0] + 1, *box[1:], .85]
    difference, tolerance = compare(
        expected, [np.array([shifted]), np.array([1])])
    assert difference == pytest.approx(max(.05, (1 - 39 / 40) * 1))
    assert difference <= tolerance
    # the confident box missing, or of another label, or a confident new one
    for actual in ([np.zeros((0, 5)),
                    np.zeros(0, int)], [np.array([shifted]),
                                        np.array([0])],
                   [np.array([shifted, [0, 0, 5, 5, .7]]),
                    np.array([1, 0])]):
        assert compare(expected, actual)[0] == float('inf')
    # without min_score: the counts must be equal
    assert detection.compare_detections(
        expected, [np.array([shifted]), np.array([1])])[0] == float('inf')
