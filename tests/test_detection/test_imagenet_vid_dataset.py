# Copyright (c) off_plugin authors. All rights reserved.
"""ImagenetVIDDataset and NeighbourRefFrameSample: frame order, key frames,
one-frame DET videos, reference frames at video edges, bad input."""
import json
import random

import cv2
import numpy as np
import pytest
from mmdet.registry import DATASETS, TRANSFORMS
from mmdet.utils import register_all_modules

import off_plugin.detection  # noqa: F401

CLASSES = ('static', 'moving_left', 'moving_right')


@pytest.fixture(scope='module', autouse=True)
def mmdet_scope():
    register_all_modules(init_default_scope=True)


def write_vid(root, images, annotations, categories=CLASSES, name='vid'):
    coco = dict(
        categories=[dict(id=i + 1, name=c) for i, c in enumerate(categories)],
        videos=[dict(id=1, name='a'),
                dict(id=2, name='b')],
        images=images,
        annotations=annotations)
    path = root / f'{name}.json'
    path.write_text(json.dumps(coco))
    return str(path)


def image(img_id, video_id, frame_id, key=True, size=(64, 48)):
    return dict(
        id=img_id,
        video_id=video_id,
        frame_id=frame_id,
        file_name=f'{video_id}/{frame_id}.jpg',
        width=size[0],
        height=size[1],
        is_vid_train_frame=key)


def box(ann_id, img_id, bbox, cat=1):
    return dict(
        id=ann_id,
        image_id=img_id,
        category_id=cat,
        bbox=bbox,
        area=bbox[2] * bbox[3],
        iscrowd=False,
        instance_id=1)


@pytest.fixture
def vid_file(tmp_path):
    # video 1: frames listed out of order; frame 2 has no box; frame 3 is
    # not a key frame. video 2: one frame, no key frame.
    images = [
        image(3, 1, 2),
        image(1, 1, 0),
        image(4, 1, 3, key=False),
        image(2, 1, 1, key=False),
        image(5, 2, 0, key=False)
    ]
    anns = [
        box(1, 1, [2, 2, 10, 10]),
        box(2, 2, [3, 2, 10, 10]),
        box(3, 4, [50, 40, 30, 20]),
        box(4, 5, [1, 1, 5, 5], cat=2)
    ]
    return write_vid(tmp_path, images, anns)


@pytest.fixture
def det_file(tmp_path):
    coco = dict(
        categories=[dict(id=i + 1, name=c) for i, c in enumerate(CLASSES)],
        images=[
            dict(id=1, file_name='det/1.jpg', width=40, height=40),
            dict(id=2, file_name='det/2.jpg', width=40, height=40)
        ],
        annotations=[box(1, 1, [5, 5, 20, 20], cat=3)])
    path = tmp_path / 'det.json'
    path.write_text(json.dumps(coco))
    return str(path)


def dataset(ann_file, test_mode=False, **kwargs):
    return DATASETS.build(
        dict(
            type='ImagenetVIDDataset',
            ann_file=ann_file,
            metainfo=dict(classes=CLASSES),
            test_mode=test_mode,
            pipeline=[],
            **kwargs))


def test_frames_in_order_none_dropped_and_key_frames(vid_file):
    train = dataset(vid_file)
    video = train.get_data_info(0)
    assert [f['frame_id'] for f in video['images']] == [0, 1, 2, 3]
    # frame 0 is the only key frame with boxes; frame 2 (no box) stays as a
    # reference frame; video 2 has no key frame and is left out of training
    assert video['key_frame_ids'] == [0]
    assert len(train) == 1 and train.get_len_per_video(0) == 1

    test = dataset(vid_file, test_mode=True)
    assert len(test) == 2
    assert [test.get_len_per_video(i) for i in range(2)] == [4, 1]
    assert [f['frame_id'] for f in test.get_data_info(0)['images']] == \
        [0, 1, 2, 3]


def test_boxes_outside_the_image_are_clipped_and_counted(vid_file):
    with pytest.warns(
            UserWarning,
            match='vid.json: 1 boxes reached outside their image'):
        test = dataset(vid_file, test_mode=True)
    frame3 = test.get_data_info(0)['images'][3]
    assert frame3['instances'][0]['bbox'] == [50, 40, 64, 48]


def test_det_images_join_as_one_frame_videos(vid_file, det_file):
    train = dataset(vid_file, det_ann_file=det_file)
    # VID video 1 + DET image 1; DET image 2 has no box: not a key frame
    assert len(train) == 2
    det = train.get_data_info(1)
    assert len(det['images']) == 1 and det['key_frame_ids'] == [0]
    assert det['video_id'] > 2 and det['images'][0]['video_id'] == \
        det['video_id']
    assert det['images'][0]['instances'][0]['bbox_label'] == 2


def test_category_outside_the_classes_is_an_error(tmp_path):
    path = write_vid(
        tmp_path, [image(1, 1, 0)],
        [box(1, 1, [1, 1, 4, 4]),
         box(2, 1, [5, 5, 4, 4], cat=2)],
        categories=('static', 'zebra'),
        name='bad')
    with pytest.raises(
            ValueError, match=r'bad.json: boxes of the category ids \[2\]'):
        dataset(path)


def test_repeated_frame_id_is_an_error(tmp_path):
    path = write_vid(
        tmp_path, [image(1, 1, 0), image(2, 1, 0)], [], name='dup')
    with pytest.raises(ValueError, match='dup.json: video 1 .* same frame_id'):
        dataset(path, test_mode=True)


def test_missing_frame_file_names_the_file(vid_file, tmp_path):
    train = DATASETS.build(
        dict(
            type='ImagenetVIDDataset',
            ann_file=vid_file,
            data_prefix=dict(img_path=str(tmp_path / 'Data')),
            metainfo=dict(classes=CLASSES),
            pipeline=[
                dict(type='NeighbourRefFrameSample'),
                dict(
                    type='TransformBroadcaster',
                    transforms=[dict(type='LoadImageFromFile')])
            ]))
    with pytest.raises(FileNotFoundError, match=r'Data/1/0.jpg is missing'):
        train[(0, 0)]


def test_training_loads_key_frame_with_its_previous_frame(vid_file, tmp_path):
    for f in range(4):
        (tmp_path / 'Data' / '1').mkdir(parents=True, exist_ok=True)
        cv2.imwrite(
            str(tmp_path / 'Data' / '1' / f'{f}.jpg'),
            np.full((48, 64, 3), 10 * f, np.uint8))
    pipeline = [
        dict(type='NeighbourRefFrameSample', frame_range=(-1, -1)),
        dict(
            type='TransformBroadcaster',
            share_random_params=True,
            transforms=[
                dict(type='LoadImageFromFile'),
                dict(type='LoadTrackAnnotations')
            ]),
        dict(type='PackTrackInputs')
    ]
    train = DATASETS.build(
        dict(
            type='ImagenetVIDDataset',
            ann_file=vid_file,
            data_prefix=dict(img_path=str(tmp_path / 'Data')),
            metainfo=dict(classes=CLASSES),
            pipeline=pipeline,
            filter_cfg=dict(filter_empty_gt=False)))
    # key frames: 0 and 2 (frame 2 has no box, allowed by the filter)
    assert train.get_data_info(0)['key_frame_ids'] == [0, 2]
    packed = train[(0, 1)]
    track = packed['data_samples']
    key = track[track.key_frames_inds[0]]
    ref = track[track.ref_frames_inds[0]]
    assert (key.frame_id, ref.frame_id) == (2, 1)
    assert packed['inputs'].shape == (2, 3, 48, 64)
    assert packed['inputs'][track.key_frames_inds[0]].float().mean() == \
        pytest.approx(20, abs=1)
    assert len(key.gt_instances) == 0


@pytest.mark.parametrize(
    'frame_range,key,length,expected',
    [
        ((-1, -1), 0, 5, {0}),  # first frame: itself
        ((-1, -1), 3, 5, {2}),
        ((-2, -1), 1, 5, {0}),  # only one neighbour in range
        ((-2, -1), 4, 5, {2, 3}),
        (2, 4, 5, {2, 3}),  # symmetric range at the end of a video
        (2, 0, 5, {1, 2}),
        (3, 0, 1, {0}),  # one-frame video (ImageNet DET)
    ])
def test_reference_frames_at_video_edges(frame_range, key, length, expected):
    sampler = TRANSFORMS.build(
        dict(type='NeighbourRefFrameSample', frame_range=frame_range))
    random.seed(0)
    refs = set()
    for _ in range(50):
        frames, flags = sampler.sampling_frames(length, key)
        assert frames == sorted(frames) and len(frames) == 2
        assert frames[flags.index(True)] == key and flags.count(True) == 1
        refs.add(frames[flags.index(False)])
    assert refs == expected


def test_bad_frame_range():
    with pytest.raises(ValueError, match='low <= high'):
        TRANSFORMS.build(
            dict(type='NeighbourRefFrameSample', frame_range=(-1, -3)))
