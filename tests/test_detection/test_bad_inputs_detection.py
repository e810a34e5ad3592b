# Copyright (c) off_plugin authors. All rights reserved.
"""Bad inputs of video object detection (MMDetection), one table.

Every case makes a real bad file in a copy of a tiny real COCO-VID set (or
a tiny ILSVRC tree, or a video) and feeds it where a user would:
``ImagenetVIDDataset`` with the pipeline of the moving-objects config,
``tools/dataset_converters/convert_imagenet_vid.py`` or
``demo/detect_video.py``. Either a documented rule holds (the values are
checked), or the error is one line naming the file, the field and the fix,
and nothing was written.
"""
import copy
import json
import os
import os.path as osp
import runpy
import shutil
import warnings
from typing import Any, Callable, NamedTuple, Optional, Sequence

import cv2
import numpy as np
import pytest
import torch
from mmdet.registry import DATASETS, MODELS
from mmengine.config import Config
from mmengine.registry import DefaultScope
from moving_objects import CLASSES, make_moving_objects

import off_plugin.detection  # noqa: F401
from off_plugin.utils.cli import BAD_INPUT

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
OFF = osp.join(ROOT, 'configs', 'detection', 'off',
               'off-ms_rfcn_r18-tiny_1xb8-5e_moving-objects.py')
CFG = Config.fromfile(OFF)
CONVERT = runpy.run_path(
    osp.join(ROOT, 'tools', 'dataset_converters', 'convert_imagenet_vid.py'))
DETECT = runpy.run_path(osp.join(ROOT, 'demo', 'detect_video.py'))
REMAKE = ('(ImageNet VID: re-create the json with '
          'tools/dataset_converters/convert_imagenet_vid.py)')
REFRAME = 're-extract the frame from the dataset archive, or re-encode it'
REVIDEO = 're-download or re-encode it'
AIRPLANE, PERSON = 'n02691156', 'n00007846'  # a VID class, a DET-only one


class Case(NamedTuple):
    """What to run, and either the rule's ``check`` of its result and
    warnings, or the ``error`` expected, with the ``names`` its message
    must hold and the folder ``out`` that must be left without a file."""
    run: Callable[[], Any]
    check: Optional[Callable[[Any, list], None]] = None
    error: Optional[type] = None
    names: Sequence[str] = ()
    out: Optional[str] = None


@pytest.fixture(scope='module')
def base(tmp_path_factory):
    """One real 3-frame 64x64 moving-objects video (COCO-VID)."""
    root = tmp_path_factory.mktemp('base')
    make_moving_objects(
        str(root),
        dict(val=1),
        num_frames=3,
        size=(64, 64),
        object_size=(16, 24))
    return root


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    """Random weights of the demo's OFF detector, as the Runner saves them."""
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmdet'):
        model = MODELS.build(copy.deepcopy(CFG.model))
    path = tmp_path_factory.mktemp('ckpt') / 'off.pth'
    torch.save(
        dict(
            state_dict=model.state_dict(),
            meta=dict(dataset_meta=dict(classes=CLASSES))), path)
    return str(path)


class Vid:
    """A copy of the base set: edit ``coco`` or the frames, then
    ``load``."""

    def __init__(self, tmp_path, base):
        self.root = tmp_path / 'vid'
        shutil.copytree(base, self.root)
        self.ann_file = str(self.root / 'annotations' / 'val.json')
        with open(self.ann_file) as f:
            self.coco = json.load(f)

    def frame(self, i: int) -> str:
        return str(self.root / 'Data' / 'val' / '0000' / f'{i:06d}.jpg')

    def load(self, test_mode: bool = True, text: Optional[str] = None):
        """Write the json (or ``text``); the run: the config's val (or
        train) dataset on it, every sample of the video."""
        with open(self.ann_file, 'w') as f:
            f.write(json.dumps(self.coco) if text is None else text)
        cfg = copy.deepcopy(CFG.val_dataloader.dataset if test_mode else CFG.
                            train_dataloader.dataset)
        cfg.update(data_root=str(self.root), ann_file='annotations/val.json')

        def run():
            with DefaultScope.overwrite_default_scope('mmdet'):
                dataset = DATASETS.build(cfg)
                return [
                    dataset[(0, i)]
                    for i in range(dataset.get_len_per_video(0))
                ]

        return run


def boxes(samples):
    """Ground-truth boxes of each frame (test pipeline: pixels of the
    frame)."""
    return [s['data_samples'][0].gt_instances.bboxes.tolist() for s in samples]


def box_warnings(records):
    return [
        str(w.message) for w in records
        if 'boxes reached outside' in str(w.message)
    ]


# ---------------------------------------------------------------- COCO-VID
def missing_frame_file(tmp_path, base, _):
    vid = Vid(tmp_path, base)
    os.remove(vid.frame(1))
    return Case(
        vid.load(),
        error=FileNotFoundError,
        names=[
            vid.ann_file, 'image 2 (video 1, frame_id 1)',
            f'{vid.frame(1)} is missing', 'Check data_prefix'
        ])


def box_outside_the_image(tmp_path, base, _):
    vid = Vid(tmp_path, base)
    vid.coco['annotations'][0]['bbox'] = [-5, 50, 20, 30]

    def check(samples, records):
        assert boxes(samples)[0][0] == [0, 50, 15, 64]  # clipped
        assert box_warnings(records) == [
            f'{vid.ann_file}: 1 boxes reached outside their image and were '
            'clipped to it, 0 with less than 1 pixel of width or height '
            'inside it were dropped (first: annotation 1).'
        ]

    return Case(vid.load(), check)


def degenerate_box(bbox):

    def make(tmp_path, base, _):
        vid = Vid(tmp_path, base)
        kept = vid.coco['annotations'][1]['bbox']
        vid.coco['annotations'][0].update(bbox=bbox, area=bbox[2] * bbox[3])

        def check(samples, records):
            x, y, w, h = kept
            assert boxes(samples)[0] == [[x, y, x + w, y + h]]  # dropped
            assert box_warnings(records) == [
                f'{vid.ann_file}: 0 boxes reached outside their image and '
                'were clipped to it, 1 with less than 1 pixel of width or '
                'height inside it were dropped (first: annotation 1).'
            ]

        return Case(vid.load(), check)

    return make


def unknown_category_id(tmp_path, base, _):
    vid = Vid(tmp_path, base)
    vid.coco['annotations'][0]['category_id'] = 9
    return Case(
        vid.load(),
        error=ValueError,
        names=[
            vid.ann_file, 'annotation 1 has category_id 9', '[1, 2, 3]',
            f'fix or remove it {REMAKE}'
        ])


def unknown_category_name(tmp_path, base, _):
    vid = Vid(tmp_path, base)
    vid.coco['categories'][1]['name'] = 'zebra'
    return Case(
        vid.load(),
        error=ValueError,
        names=[vid.ann_file, 'category ids [2] (zebra)', 'Set metainfo=dict('])


def image_without(key):

    def make(tmp_path, base, _):
        vid = Vid(tmp_path, base)
        del vid.coco['images'][1][key]
        return Case(
            vid.load(),
            error=ValueError,
            names=[
                vid.ann_file, f"image 2 (val/0000/000001.jpg) has no '{key}'",
                f'add it {REMAKE}'
            ])

    return make


def annotation_of_no_image(tmp_path, base, _):
    vid = Vid(tmp_path, base)
    vid.coco['annotations'][0]['image_id'] = 99
    return Case(
        vid.load(),
        error=ValueError,
        names=[
            vid.ann_file, 'annotation 1 has image_id 99, which no image has',
            'fix or remove it'
        ])


def repeated_frame_id(tmp_path, base, _):
    vid = Vid(tmp_path, base)
    vid.coco['images'][1]['frame_id'] = 0
    return Case(
        vid.load(),
        error=ValueError,
        names=[
            vid.ann_file, 'video 1', 'same frame_id 0 (images 1 and 2)',
            f'its own frame_id (0, 1, ... in time order) {REMAKE}'
        ])


def repeated_annotation_id(tmp_path, base, _):
    vid = Vid(tmp_path, base)
    vid.coco['annotations'][1]['id'] = 1
    return Case(
        vid.load(),
        error=ValueError,
        names=[
            vid.ann_file, 'annotation 1 has an id used by an earlier',
            'fix or remove it'
        ])


def truncated_json(tmp_path, base, _):
    vid = Vid(tmp_path, base)
    run = vid.load(text=json.dumps(vid.coco)[:200])
    return Case(
        run,
        error=ValueError,
        names=[
            vid.ann_file, 'not a valid json file', 'line 1 column',
            f'write it again {REMAKE}'
        ])


def json_without_videos(tmp_path, base, _):
    vid = Vid(tmp_path, base)
    expected = boxes(vid.load()())
    del vid.coco['videos']

    def check(samples, records):
        # not read: frames group by video_id as before
        assert [s['data_samples'][0].frame_id for s in samples] == [0, 1, 2]
        assert boxes(samples) == expected

    return Case(vid.load(), check)


# ------------------------------------------------------------------ frames
def frame_with_channels(channels):

    def make(tmp_path, base, _):
        vid = Vid(tmp_path, base)
        if channels == 1:  # a 1-channel JPEG
            cv2.imwrite(vid.frame(1), np.full((64, 64), 77, np.uint8))
        else:  # a BGRA PNG, fully transparent
            cv2.imwrite(
                vid.frame(1)[:-len('.jpg')] + '.png',
                np.full((64, 64, 4), [10, 20, 30, 0], np.uint8))
            vid.coco['images'][1]['file_name'] = 'val/0000/000001.png'

        def check(samples, records):
            frame = samples[1]['inputs'][0]  # resized to 128x128
            assert frame.shape == (3, 128, 128)
            values = [77] * 3 if channels == 1 else [10, 20, 30]  # BGR
            assert frame.flatten(1).unique(dim=1).tolist() == \
                [[v] for v in values]

        return Case(vid.load(), check)

    return make


def bad_frame(damage, problem, test_mode=True, index=1):

    def make(tmp_path, base, _):
        vid = Vid(tmp_path, base)
        path = vid.frame(index)
        with open(path, 'rb') as f:
            data = f.read()
        with open(path, 'wb') as f:
            f.write(damage(data))
        return Case(
            vid.load(test_mode),
            error=OSError,
            names=[
                vid.ann_file, f'image {index + 1} (video 1, frame_id {index})',
                f'{path} {problem}', REFRAME
            ])

    return make


# ------------------------------------------------------ ILSVRC converter
def ilsvrc(root, vid_list=None, xml=None, det_list=None):
    """A train and a val snippet of 2 frames, a DET image, FGFA's lists;
    the run: tools/dataset_converters/convert_imagenet_vid.py on it."""
    snippets = dict(
        train='train/ILSVRC2015_VID_train_0000/'
        'ILSVRC2015_train_00000000',
        val='val/ILSVRC2015_val_00000000')
    files = [f'VID/{s}/{i:06d}' for s in snippets.values() for i in (0, 1)]
    for name in files + ['DET/train/ILSVRC2013_train/n02691156/a_1']:
        image = root / 'Data' / f'{name}.JPEG'
        image.parent.mkdir(parents=True, exist_ok=True)
        image.write_bytes(b'')  # never read
        ann = root / 'Annotations' / f'{name}.xml'
        ann.parent.mkdir(parents=True, exist_ok=True)
        ann.write_text(
            '<annotation><size><width>64</width><height>48</height></size>'
            f'<object><trackid>0</trackid><name>{AIRPLANE}</name><bndbox>'
            '<xmin>1</xmin><ymin>2</ymin><xmax>30</xmax><ymax>40</ymax>'
            '</bndbox><occluded>0</occluded><generated>0</generated>'
            '</object></annotation>')
    lists = root / 'ImageSets'
    lists.mkdir()
    (lists /
     'VID_train_15frames.txt').write_text(f'{snippets["train"]} 1 1 2\n')
    (lists / 'VID_val_videos.txt').write_text(vid_list
                                              or f'{snippets["val"]} 1 0 2\n')
    (lists / 'DET_train_30classes.txt').write_text(
        det_list or 'train/ILSVRC2013_train/n02691156/a_1 1\n')
    bad_xml = root / 'Annotations' / f'{files[-1]}.xml'  # val, frame 1
    if xml:
        bad_xml.write_text(xml(bad_xml.read_text()))
    out = root / 'annotations'
    return lambda: CONVERT['main']([str(root), '--out', str(out)]), \
        str(bad_xml), str(out)


def bad_xml(edit, *names):

    def make(tmp_path, base, _):
        run, xml, out = ilsvrc(tmp_path, xml=edit)
        return Case(
            run,
            error=BAD_INPUT,
            out=out,
            names=[xml, *names, 're-extract it from the ILSVRC2015 archive'])

    return make


def vid_list_line_without_a_column(tmp_path, base, _):
    run, _, out = ilsvrc(
        tmp_path, vid_list='val/ILSVRC2015_val_00000000 1 0\n')
    return Case(
        run,
        error=BAD_INPUT,
        out=out,
        names=[
            f'{tmp_path}/ImageSets/VID_val_videos.txt:1:',
            '<frame index> <number of frames>', 'fix or remove the line'
        ])


def det_list_line_without_a_column(tmp_path, base, _):
    run, _, out = ilsvrc(
        tmp_path, det_list='train/ILSVRC2013_train/n02691156/a_1\n')

    def check(result, records):
        # only the first column (the image) is read
        with open(osp.join(out, 'imagenet_det_30cls.json')) as f:
            det = json.load(f)
        assert [i['file_name'] for i in det['images']
                ] == ['DET/train/ILSVRC2013_train/n02691156/a_1.JPEG']
        assert [a['bbox'] for a in det['annotations']] == [[1, 2, 29, 38]]

    return Case(run, check)


# ------------------------------------------------------ tools/detect_video
def write_video(path, num_frames, fourcc='mp4v', size=64):
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*fourcc), 10,
                             (size, size))
    rng = np.random.default_rng(0)
    for _ in range(num_frames):
        writer.write(rng.integers(0, 256, (size, size, 3), np.uint8))
    writer.release()
    return path


def cut(path, fraction):
    with open(path, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(data[:int(len(data) * fraction)])
    return path


def bad_video(make_video, *names):

    def make(tmp_path, base, checkpoint):
        video = make_video(str(tmp_path / 'in'))
        out = tmp_path / 'out'
        argv = [OFF, checkpoint, video, str(out / 'video.mp4')]
        return Case(
            lambda: DETECT['main'](argv),
            error=BAD_INPUT,
            out=str(out),
            names=[video, *names])

    return make


def empty_file(stem):
    open(stem + '.mp4', 'wb').close()
    return stem + '.mp4'


def truncated(ext, fourcc):
    return lambda stem: cut(write_video(stem + ext, 8, fourcc), 0.5)


def zero_frames(stem):
    return write_video(stem + '.avi', 0, 'MJPG')


def image_file(stem):
    cv2.imwrite(stem + '.jpg', np.zeros((8, 8, 3), np.uint8))
    return stem + '.jpg'


def folder_with_a_truncated_frame(stem):
    os.makedirs(stem)
    for t in range(3):
        cv2.imwrite(
            osp.join(stem, f'{t:06d}.jpg'),
            np.full((64, 64, 3), 40 * t, np.uint8))
    cut(osp.join(stem, '000002.jpg'), 0.5)
    return stem


NOT_A_VIDEO = ('OpenCV cannot read this file as a video', REVIDEO)
CASES = [
    missing_frame_file,
    box_outside_the_image,
    pytest.param(degenerate_box([5, 5, 0, 10]), id='zero_width_box'),
    pytest.param(degenerate_box([5, 5, 10, -3]), id='negative_height_box'),
    unknown_category_id,
    unknown_category_name,
    pytest.param(image_without('frame_id'), id='image_without_frame_id'),
    pytest.param(image_without('video_id'), id='image_without_video_id'),
    annotation_of_no_image,
    repeated_frame_id,
    repeated_annotation_id,
    truncated_json,
    json_without_videos,
    pytest.param(frame_with_channels(1), id='grayscale_frame'),
    pytest.param(frame_with_channels(4), id='rgba_frame'),
    pytest.param(
        bad_frame(lambda b: b[:len(b) // 2],
                  'is a truncated JPEG (no end-of-image marker)'),
        id='truncated_jpeg'),
    pytest.param(
        bad_frame(lambda b: b[:2] + bytes(200) + b[202:],
                  'cannot be decoded as an image'),
        id='corrupt_jpeg'),
    pytest.param(
        bad_frame(lambda b: b'', 'is empty (0 bytes)'), id='empty_frame'),
    pytest.param(
        bad_frame(
            lambda b: b[:len(b) // 2],
            'is a truncated JPEG',
            test_mode=False,
            index=0),
        id='truncated_reference_frame_in_training'),
    pytest.param(
        bad_xml(
            lambda x: x[:len(x) // 2], 'cannot read the '
            'annotation (unclosed token: line 1, column'),
        id='truncated_xml'),
    pytest.param(
        bad_xml(lambda x: x.replace('</xmin>', '</xmim>'),
                'mismatched tag: line 1, column'),
        id='malformed_xml'),
    pytest.param(
        bad_xml(lambda x: x.replace(AIRPLANE, PERSON),
                f"object class '{PERSON}' is not one of the 30"),
        id='xml_with_unknown_wnid'),
    vid_list_line_without_a_column,
    det_list_line_without_a_column,
    pytest.param(
        bad_video(empty_file, 'the file is empty (0 bytes)'),
        id='empty_video_file'),
    pytest.param(
        bad_video(truncated('.mp4', 'mp4v'), *NOT_A_VIDEO),
        id='truncated_mp4'),
    pytest.param(
        bad_video(
            truncated('.avi', 'MJPG'), 'only 4 of its 8 frames decode',
            REVIDEO),
        id='truncated_avi_decoding_half'),
    pytest.param(bad_video(image_file, *NOT_A_VIDEO), id='not_a_video'),
    pytest.param(
        bad_video(zero_frames, 'the video has no frames'),
        id='zero_frame_video'),
    pytest.param(
        bad_video(folder_with_a_truncated_frame,
                  '000002.jpg is a truncated JPEG',
                  're-extract it, or remove it from the folder'),
        id='frame_folder_with_a_truncated_frame'),
]


@pytest.mark.parametrize('make', CASES)
def test_bad_input(make, tmp_path, base, checkpoint):
    case = make(tmp_path, base, checkpoint)
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter('always')
        if case.error is None:
            case.check(case.run(), records)
            return
        with pytest.raises(case.error) as info:
            case.run()
    message = str(info.value)
    assert '\n' not in message, message
    for name in case.names:
        assert name in message, (name, message)
    if case.out:  # nothing written, not even a temporary file
        assert not osp.exists(case.out) or os.listdir(case.out) == []
