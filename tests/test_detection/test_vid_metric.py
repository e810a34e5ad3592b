# Copyright (c) off_plugin authors. All rights reserved.
"""ImagenetVIDMetric on inputs built as mmdet's video test loop builds them:
``TrackDataSample``s of ``DetDataSample``s, converted with ``to_dict()``.

Boxes are in inclusive pixel coordinates (the devkit's, the metric's
default): a box ``[x1, y1, x2, y2]`` is ``x2 - x1 + 1`` wide.
"""
import io
import json
import logging
import os
import socket

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from mmdet.evaluation.functional import eval_map
from mmdet.evaluation.functional.mean_ap import tpfp_default, tpfp_imagenet
from mmdet.registry import METRICS
from mmdet.structures import DetDataSample, TrackDataSample
from mmengine.evaluator import Evaluator
from mmengine.logging import MMLogger
from mmengine.registry import DefaultScope
from mmengine.structures import InstanceData

from off_plugin.detection import ImagenetVIDMetric
from off_plugin.detection.vid_metric import tpfp_vid_devkit

CAT, DOG, BIRD = 0, 1, 2
# a small cat (4 x 4 px) and a prediction shifted by 2 px on both axes:
# intersection 2 x 2 = 4, union 16 + 16 - 4 = 28, IoU 1/7 = 0.143, under
# 0.5 but over the small-box threshold 4*4 / (14*14) = 0.082
SMALL_GT = [200, 200, 203, 203]
SMALL_PRED = [202, 202, 205, 205]

# Two frames of one video: ground truth as (label, box)
GTS = [
    [(CAT, [10, 10, 59, 59]), (DOG, [100, 100, 149, 149])],
    [(CAT, [20, 20, 69, 69]), (CAT, SMALL_GT), (DOG, [300, 50, 349, 99])],
]
# and predictions as (label, box, score)
PREDS = [
    [
        (CAT, [10, 10, 59, 59], .9),  # TP
        (CAT, [300, 300, 349, 349], .8),  # FP
        (DOG, [100, 100, 149, 149], .95)
    ],  # TP
    [
        (CAT, [20, 20, 69, 69], .7),  # TP
        (CAT, SMALL_PRED, .5),  # TP under the ImageNet rule, FP at IoU 0.5
        (DOG, [400, 400, 449, 449], .85),  # FP
        (DOG, [500, 400, 549, 449], .8),  # FP
        (DOG, [300, 50, 349, 99], .4)
    ],  # TP
]
# VOC area AP (eval_mode='area'): the area under the precision envelope
# (precision at recall r = the best precision at any recall >= r).
# cat, 3 GT, by score TP FP TP TP: recall 1/3 1/3 2/3 1,
#   precision 1 1/2 2/3 3/4, envelope 1 3/4 3/4 3/4
#   AP = 1/3 * 1 + 1/3 * 3/4 + 1/3 * 3/4 = 5/6
# dog, 2 GT, by score TP FP FP TP: recall 1/2 1/2 1/2 1,
#   precision 1 1/2 1/3 1/2, envelope 1 1/2 1/2 1/2
#   AP = 1/2 * 1 + 1/2 * 1/2 = 3/4
VID_MAP = (5 / 6 + 3 / 4) / 2  # 19/24
# at plain IoU 0.5 the small cat's prediction is a FP: TP FP TP FP,
#   recall 1/3 1/3 2/3 2/3, precision 1 1/2 2/3 1/2, envelope 1 2/3 2/3 1/2
#   AP = 1/3 * 1 + 1/3 * 2/3 = 5/9
IOU50_MAP = (5 / 9 + 3 / 4) / 2  # 47/72


def frame_sample(img_id,
                 gts,
                 preds,
                 video_length=2,
                 ignore=(),
                 with_instances=True):
    """A frame's ``DetDataSample`` as the test loop gives it to a metric:
    ``instances`` as the dataset parsed them, ``gt_instances`` rescaled by
    the test pipeline's ``Resize`` (here by 1/2), predictions in
    original-image coordinates."""
    sample = DetDataSample(
        metainfo=dict(
            img_id=img_id,
            frame_id=img_id,
            ori_shape=(480, 640),
            img_shape=(240, 320),
            scale_factor=(.5, .5),
            ori_video_length=video_length))
    if with_instances:
        sample.set_metainfo(
            dict(instances=[
                dict(bbox=box, bbox_label=label, ignore_flag=int(i in ignore))
                for i, (label, box) in enumerate(gts)
            ]))
    sample.gt_instances = InstanceData(
        bboxes=torch.tensor([box for _, box in gts]).reshape(-1, 4) * .5,
        labels=torch.tensor([label for label, _ in gts]))
    sample.ignored_instances = InstanceData(
        bboxes=torch.zeros(0, 4), labels=torch.zeros(0, dtype=torch.long))
    sample.pred_instances = InstanceData(
        bboxes=torch.tensor([box for _, box, _ in preds],
                            dtype=torch.float32).reshape(-1, 4),
        scores=torch.tensor([score for _, _, score in preds]),
        labels=torch.tensor([label for label, _, _ in preds]))
    return sample


def track_sample(frames):
    track = TrackDataSample()
    track.video_data_samples = frames
    return track


def video_steps():
    """The whole video in one step."""
    return [[
        track_sample([frame_sample(i, GTS[i], PREDS[i])
                      for i in range(2)]).to_dict()
    ]]


def frame_steps():
    """One frame per step (``TrackImgSampler`` in test mode)."""
    return [[track_sample([frame_sample(i, GTS[i], PREDS[i])]).to_dict()]
            for i in range(2)]


def evaluate(steps, classes=('cat', 'dog'), **kwargs):
    metric = ImagenetVIDMetric(nproc=1, **kwargs)
    metric.dataset_meta = dict(classes=classes)
    for step in steps:
        metric.process(None, step)
    return metric.evaluate()


def test_hand_computed_map_and_the_small_box_rule():
    metric = ImagenetVIDMetric(nproc=1)
    metric.dataset_meta = dict(classes=('cat', 'dog'))
    for step in video_steps():
        metric.process(None, step)
    frames = list(metric.results)
    assert metric.evaluate() == {'vid/mAP': pytest.approx(VID_MAP)}

    # the same frames at plain IoU 0.5 (mmdet's default rule, no dataset)
    gts, preds = zip(*frames)
    plain, _ = eval_map(
        preds,
        gts,
        iou_thr=.5,
        logger='silent',
        nproc=1,
        use_legacy_coordinate=True)
    assert plain == pytest.approx(IOU50_MAP)

    # the one prediction that makes the difference
    det = np.array([SMALL_PRED + [.5]], dtype=np.float32)
    gt = np.array([SMALL_GT], dtype=np.float32)
    no_gt = np.zeros((0, 4), dtype=np.float32)
    tp, fp = tpfp_vid_devkit(det, gt, no_gt, .5, None, True)
    assert tp.tolist() == [[1.]] and fp.tolist() == [[0.]]
    tp, fp = tpfp_default(det, gt, no_gt, .5, None, True)
    assert tp.tolist() == [[0.]] and fp.tolist() == [[1.]]
    # mmdet 3.3.0's tpfp_imagenet measures the IoU against gt_bboxes - 1:
    # intersection 1 x 1, IoU 1/31 = 0.032 < 0.082, a miss that the devkit
    # (eval_vid_detection.m, no shift) does not make
    tp, fp = tpfp_imagenet(det, gt, no_gt, .5, None, True)
    assert tp.tolist() == [[0.]] and fp.tolist() == [[1.]]


def test_gt_comes_from_instances_not_the_rescaled_gt_instances():
    # the frames carry gt_instances at half scale; scoring against them
    # would miss every prediction
    assert evaluate(video_steps()) == {'vid/mAP': pytest.approx(VID_MAP)}


def test_gt_from_ann_file(tmp_path):
    # the same boxes as COCO [x, y, w, h] with w = x2 - x1, plus a crowd box
    # on the cat FP at .8 (ignored: it no longer counts, cat AP 1) and a box
    # of a category that is not in the classes
    boxes = [(i, label, box, 0) for i in range(2) for label, box in GTS[i]]
    boxes += [(0, CAT, [300, 300, 349, 349], 1), (1, 2, [0, 0, 9, 9], 0)]
    ann_file = tmp_path / 'val.json'
    ann_file.write_text(
        json.dumps(
            dict(
                images=[
                    dict(
                        id=i,
                        file_name=f'{i}.JPEG',
                        width=640,
                        height=480,
                        video_id=1,
                        frame_id=i) for i in range(2)
                ],
                annotations=[
                    dict(
                        id=n,
                        image_id=i,
                        category_id=(7, 3, 5)[label],
                        bbox=[x1, y1, x2 - x1, y2 - y1],
                        area=(x2 - x1) * (y2 - y1),
                        iscrowd=crowd)
                    for n, (i, label, (x1, y1, x2, y2),
                            crowd) in enumerate(boxes)
                ],
                categories=[
                    dict(id=7, name='cat'),
                    dict(id=3, name='dog'),
                    dict(id=5, name='bird')
                ])))
    steps = [[
        track_sample([
            frame_sample(i, GTS[i], PREDS[i], with_instances=False)
            for i in range(2)
        ]).to_dict()
    ]]
    assert evaluate(
        steps, ann_file=str(ann_file)) == {
            'vid/mAP': pytest.approx((1 + 3 / 4) / 2)
        }
    with pytest.raises(AssertionError, match='ann_file'):
        evaluate(steps)


def test_whole_video_and_one_frame_per_step_agree():
    by_video = evaluate(video_steps())
    by_frame = evaluate(frame_steps())
    assert by_video == by_frame == {'vid/mAP': pytest.approx(VID_MAP)}


def test_class_names_from_dataset_meta():
    logger = MMLogger.get_instance('test_vid_metric', log_level='INFO')
    assert MMLogger.get_current_instance() is logger
    log = io.StringIO()
    handler = logging.StreamHandler(log)
    logger.addHandler(handler)
    gts = [(0, [10, 10, 59, 59]), (1, [100, 100, 149, 149]),
           (2, [300, 50, 349, 99])]
    preds = [(0, [10, 10, 59, 59], .9), (2, [300, 50, 349, 99], .8)]
    steps = [[track_sample([frame_sample(0, gts, preds, 1)]).to_dict()]]
    try:
        # car and bike found (AP 1), bus missed (AP 0)
        classes = ('car', 'bus', 'bike')
        assert evaluate(steps, classes) == {'vid/mAP': pytest.approx(2 / 3)}
        rows = {
            line.split('|')[1].strip(): line.split('|')[5].strip()
            for line in log.getvalue().splitlines() if line.count('|') == 6
        }
        assert rows == {
            'class': 'ap',
            'car': '1.000',
            'bus': '0.000',
            'bike': '1.000',
            'mAP': '0.667'
        }
        # more classes than the 30 of ImageNet VID, and no table on request
        log.seek(0)
        log.truncate()
        many = tuple(f'class{i}' for i in range(40))
        assert evaluate(
            steps, many, classwise=False) == {
                'vid/mAP': pytest.approx(2 / 3)
            }
        assert '|' not in log.getvalue()
    finally:
        logger.removeHandler(handler)


def test_class_without_gt_is_left_out_of_the_mean():
    # birds are predicted (false positives) but never annotated: eval_map
    # gives the class AP 0 and leaves it out of the mean
    preds = [PREDS[0] + [(BIRD, [10, 10, 59, 59], .99)], PREDS[1]]
    steps = [[
        track_sample([frame_sample(i, GTS[i], preds[i])
                      for i in range(2)]).to_dict()
    ]]
    assert evaluate(steps, ('cat', 'dog', 'bird')) == {
        'vid/mAP': pytest.approx(VID_MAP)
    }
    # no class with ground truth at all: mAP 0
    steps = [[track_sample([frame_sample(0, [], PREDS[0], 1)]).to_dict()]]
    assert evaluate(steps) == {'vid/mAP': 0.}


def test_ignored_boxes_neither_count_nor_penalise():
    gts = [(CAT, [10, 10, 59, 59]), (CAT, [100, 100, 149, 149])]
    preds = [(CAT, [100, 100, 149, 149], .9), (CAT, [10, 10, 59, 59], .8)]
    # the crowd box matched first would be a FP if it counted: AP 1/2
    steps = [[
        track_sample([frame_sample(0, gts, preds, 1, ignore=(1, ))]).to_dict()
    ]]
    assert evaluate(steps) == {'vid/mAP': pytest.approx(1.)}


def test_registered_and_coexists_with_coco_video_metric():
    with DefaultScope.overwrite_default_scope('mmdet'):
        evaluator = Evaluator([
            dict(type='CocoVideoMetric'),
            dict(type='ImagenetVIDMetric', nproc=1)
        ])
    assert isinstance(evaluator.metrics[1], ImagenetVIDMetric)
    assert METRICS.get('ImagenetVIDMetric') is ImagenetVIDMetric
    evaluator.dataset_meta = dict(classes=('cat', 'dog'))
    evaluator.process(
        [track_sample([frame_sample(i, GTS[i], PREDS[i]) for i in range(2)])])
    results = evaluator.evaluate(1)
    assert results['vid/mAP'] == pytest.approx(VID_MAP)
    assert 'coco/bbox_mAP_50' in results


def _evaluate_on_rank(rank, port, out_dir):
    """Rank ``rank`` of 2 scores frame ``rank``."""
    dist.init_process_group(
        'gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank, world_size=2)
    os.chdir(out_dir)  # collect_tracking_results writes to ./.dist_test
    metric = ImagenetVIDMetric(nproc=1)
    metric.dataset_meta = dict(classes=('cat', 'dog'))
    metric.process(None, frame_steps()[rank])
    with open(os.path.join(out_dir, f'rank{rank}.json'), 'w') as f:
        json.dump(metric.evaluate(), f)
    dist.destroy_process_group()


def test_two_ranks_get_the_result_of_all_frames(tmp_path):
    with socket.socket() as free:  # a port no other process listens on
        free.bind(('127.0.0.1', 0))
        port = free.getsockname()[1]
    # fork: the ranks need no fresh import of the OpenMMLab stack (~40 s)
    mp.start_processes(
        _evaluate_on_rank,
        args=(port, str(tmp_path)),
        nprocs=2,
        start_method='fork')
    for rank in (0, 1):
        result = json.loads((tmp_path / f'rank{rank}.json').read_text())
        assert result == {'vid/mAP': pytest.approx(VID_MAP)}
