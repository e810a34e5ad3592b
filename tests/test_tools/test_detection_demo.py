# Copyright (c) off_plugin authors. All rights reserved.
"""What demo/detection_demo.py fits to a set: input scale, anchors,
detections per frame and epochs from the training json."""
import os.path as osp
import runpy

import numpy as np
import pytest
from mmengine.config import Config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = runpy.run_path(osp.join(ROOT, 'demo', 'detection_demo.py'))
OFF = DEMO['MODELS'][1][2]


def coco(num_frames, frame_size, box_size, max_objects=3, aspect=None, seed=0):
    """Key frames of ``frame_size`` (w, h), each with 1 to ``max_objects``
    boxes of sides drawn from ``box_size`` (or h = w times a factor drawn
    from ``aspect``), and a frame that is no key frame, with a huge box."""
    rng = np.random.default_rng(seed)
    images, annotations = [], []
    for i in range(num_frames + 1):
        images.append(
            dict(
                id=i,
                width=frame_size[0],
                height=frame_size[1],
                is_vid_train_frame=i < num_frames))
        for _ in range(rng.integers(1, max_objects + 1)):
            w, h = rng.integers(box_size[0], box_size[1] + 1, 2)
            if aspect:
                h = w * rng.uniform(*aspect)
            if i == num_frames:
                w = h = 1000
            annotations.append(dict(image_id=i, bbox=[0, 0, int(w), h]))
    return dict(images=images, annotations=annotations, categories=[])


@pytest.fixture(scope='module')
def cfg():
    return Config.fromfile(OFF)


def test_embedded_set_keeps_the_configs_recipe(cfg):
    # the embedded set's statistics: 800 key frames of 128x128, 1-3
    # objects of 26-40 px: every choice is the config's own
    options, lines = DEMO['fit_recipe'](coco(800, (128, 128), (26, 40)), cfg)
    anchors = cfg.model.detector.rpn_head.anchor_generator
    assert options == {
        'scale': (128, 128),
        'model.detector.rpn_head.anchor_generator.scales': anchors.scales,
        'model.detector.rpn_head.anchor_generator.ratios': anchors.ratios,
        'model.detector.test_cfg.rcnn.max_per_img': 20,
        'model.detector.test_cfg.rpn.max_per_img': 50,
        'train_cfg.max_epochs': 5,
        'default_hooks.checkpoint.interval': 5,
        'param_scheduler.1.end': 5,
    }
    assert lines[0] == ('input scale 128x128: frames 128x128, median object '
                        '33 px, wanted 24-48 px (3-6 strides of 8 px): kept')
    assert lines[3] == ('training: 5 epochs of 100 iterations (800 key '
                        'frames, batch 8), about 500 iterations')


def test_small_objects_are_zoomed_and_anchored(cfg):
    # SMALL_OBJECTS's statistics: 500 key frames of 160x120, 1-4 objects of
    # 14-22 px
    options, lines = DEMO['fit_recipe'](coco(
        500, (160, 120), (14, 22), max_objects=4), cfg)
    assert options['scale'] == (215, 161)
    assert options['model.detector.rpn_head.anchor_generator.scales'] == [
        2**1.5
    ]
    assert options['train_cfg.max_epochs'] == 8
    assert lines[0].endswith('median object 18 px, wanted 24-48 px (3-6 '
                             'strides of 8 px): zoomed x1.34')
    assert lines[1].startswith('anchors: scales [2.83] (x8 px = 23 px) for '
                               'objects of 21-27 px at that scale')
    assert lines[3] == ('training: 8 epochs of 63 iterations (500 key '
                        'frames, batch 8), about 500 iterations')


def test_spread_tall_crowded_and_few_frames(cfg):
    options, lines = DEMO['fit_recipe'](
        coco(10, (256, 256), (8, 64), max_objects=12, aspect=(2.5, 3.5)),
        cfg,
        path='train.json')
    # large objects (median 60 px): zoomed out; sizes of 14-82 px at that
    # scale, 2.5 octaves: 6 anchor scales (on quarter octaves); h / w about
    # 3: ratio 4 added; up to 12 objects
    assert lines[0].endswith('median object 60 px, wanted 24-48 px (3-6 '
                             'strides of 8 px): zoomed x0.80')
    scales = options['model.detector.rpn_head.anchor_generator.scales']
    assert np.log2(scales).tolist() == [1, 1.5, 1.75, 2.25, 2.75, 3.25]
    assert options['model.detector.rpn_head.anchor_generator.ratios'] == [
        .5, 1., 2., 4.
    ]
    assert options['model.detector.test_cfg.rcnn.max_per_img'] == 48
    assert options['model.detector.test_cfg.rpn.max_per_img'] == 120
    assert options['train_cfg.max_epochs'] == 50  # bounded
    options, lines = DEMO['fit_recipe'](
        coco(10, (256, 256), (8, 64)), cfg, epochs=3)
    assert options['train_cfg.max_epochs'] == 3
    assert lines[3].endswith('(--epochs)')


def test_set_without_key_frames_is_named(cfg):
    with pytest.raises(
            DEMO['ToolError'],
            match='^DIR/train.json: no '
            'training key frame with boxes'):
        DEMO['fit_recipe'](
            coco(0, (64, 64), (10, 20)), cfg, path='DIR/train.json')
