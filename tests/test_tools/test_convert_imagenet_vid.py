# Copyright (c) off_plugin authors. All rights reserved.
import json
import os
import re
import subprocess
import sys

import pytest
from ilsvrc import (IMAGENET_VID_WNIDS, convert_imagenet_vid,
                    imagenet_vid_categories)
from mmdet.datasets import BaseVideoDataset
from mmdet.evaluation.functional import imagenet_vid_classes

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
TOOL = os.path.join(ROOT, 'tools', 'dataset_converters',
                    'convert_imagenet_vid.py')
SNIPPET_A = 'train/ILSVRC2015_VID_train_0000/ILSVRC2015_train_00000000'
SNIPPET_B = 'train/ILSVRC2015_VID_train_0000/ILSVRC2015_train_00000001'
SNIPPET_VAL = 'val/ILSVRC2015_val_00000000'
DET_A = 'train/ILSVRC2014_train_0000/ILSVRC2014_train_00000663'
DET_B = 'train/ILSVRC2013_train/n02084071/n02084071_1'
AIRPLANE, BEAR, DOG, ZEBRA = 'n02691156', 'n02131653', 'n02084071', 'n02391049'
PERSON = 'n00007846'  # an ImageNet DET class that is not in VID


def obj(name, box, trackid=None, occluded=0, generated=0):
    """One <object>, with the coordinates in ILSVRC's order."""
    x1, y1, x2, y2 = box
    track = '' if trackid is None else f'<trackid>{trackid}</trackid>'
    return (f'<object>{track}<name>{name}</name><bndbox><xmax>{x2}</xmax>'
            f'<xmin>{x1}</xmin><ymax>{y2}</ymax><ymin>{y1}</ymin></bndbox>'
            f'<occluded>{occluded}</occluded><generated>{generated}'
            '</generated></object>')


def write_frame(root, part, name, size, objects):
    """``Data/<part>/<name>.JPEG`` (empty: never read) and its XML."""
    image = root / 'Data' / part / f'{name}.JPEG'
    image.parent.mkdir(parents=True, exist_ok=True)
    image.write_bytes(b'')
    xml = root / 'Annotations' / part / f'{name}.xml'
    xml.parent.mkdir(parents=True, exist_ok=True)
    xml.write_text(
        f'<annotation><folder>{os.path.dirname(name)}</folder><filename>'
        f'{os.path.basename(name)}</filename><size><width>{size[0]}</width>'
        f'<height>{size[1]}</height></size>{"".join(objects)}</annotation>')
    return str(xml)


def make_ilsvrc(root):
    """2 train snippets (4 and 3 frames), 1 val snippet, 2 DET images and
    FGFA's three lists."""
    frames_a = [
        [obj(AIRPLANE, (10, 20, 50, 60), 0)],
        [
            obj(AIRPLANE, (12, 20, 52, 60), 0, generated=1),
            obj(BEAR, (0, 0, 30, 30), 1, occluded=1)
        ],
        [],  # no object: kept as a reference frame
        [
            obj(AIRPLANE, (70, -5, 120, 40), 0),  # partly outside: clipped
            obj(BEAR, (110, 10, 130, 30), 1)
        ],  # all outside: dropped
    ]
    for i, objects in enumerate(frames_a):
        write_frame(root, 'VID', f'{SNIPPET_A}/{i:06d}', (100, 80), objects)
    for i in range(3):
        write_frame(root, 'VID', f'{SNIPPET_B}/{i:06d}', (64, 48),
                    [obj(ZEBRA, (5, 5, 20 + i, 20), 0)])
    for i in range(2):
        write_frame(root, 'VID', f'{SNIPPET_VAL}/{i:06d}', (64, 48),
                    [obj(DOG, (1, 2, 30, 40), 3)])
    write_frame(root, 'DET', DET_A, (200, 150),
                [obj(AIRPLANE, (10, 10, 60, 40)),
                 obj(PERSON, (0, 0, 9, 9))])
    write_frame(root, 'DET', DET_B, (120, 90),
                [obj(DOG, (0, 0, 50, 50)),
                 obj(DOG, (60, 0, 120, 90))])
    lists = root / 'ImageSets'
    lists.mkdir()
    (lists / 'VID_train_15frames.txt'
     ).write_text(f'{SNIPPET_A} 1 1 4\n{SNIPPET_A} 1 3 4\n{SNIPPET_B} 1 1 3\n')
    (lists / 'VID_val_videos.txt').write_text(f'{SNIPPET_VAL} 1 0 2\n')
    (lists / 'DET_train_30classes.txt').write_text(f'{DET_A} 1\n{DET_B} 9\n')


def load(path):
    with open(path) as f:
        return json.load(f)


def test_categories_follow_mmdet():
    assert list(IMAGENET_VID_WNIDS.values()) == imagenet_vid_classes()
    categories = imagenet_vid_categories()
    assert [c['id'] for c in categories] == list(range(1, 31))
    assert [c['name'] for c in categories] == imagenet_vid_classes()
    assert categories[0] == dict(
        id=1, name='airplane', encode_name='n02691156')
    assert categories[29] == dict(id=30, name='zebra', encode_name=ZEBRA)


def test_conversion(tmp_path):
    make_ilsvrc(tmp_path)
    with pytest.warns(UserWarning, match='clipped') as record:
        summary = convert_imagenet_vid(str(tmp_path))
    out = tmp_path / 'annotations'
    names = [
        'imagenet_det_30cls.json', 'imagenet_vid_train.json',
        'imagenet_vid_val.json'
    ]
    assert sorted(os.listdir(out)) == names  # no temporary file left
    assert {
        os.path.basename(p): (c['videos'], c['images'], c['boxes'])
        for p, c in summary.items()
    } == {
        'imagenet_vid_train.json': (2, 7, 7),
        'imagenet_vid_val.json': (1, 2, 2),
        'imagenet_det_30cls.json': (0, 2, 3)
    }
    # one warning line, for the training file only
    warned = [str(w.message) for w in record if 'clipped' in str(w.message)]
    assert warned == [
        f'{out / "imagenet_vid_train.json"}: clipped 2 boxes to the image, '
        'dropped 1 of zero area after clipping (first in '
        f'{tmp_path / "Annotations/VID" / SNIPPET_A / "000003.xml"})'
    ]

    train = load(out / 'imagenet_vid_train.json')
    assert train['categories'] == imagenet_vid_categories()
    assert train['videos'] == [
        dict(id=1, name=SNIPPET_A),
        dict(id=2, name=SNIPPET_B)
    ]
    images = train['images']
    assert [i['id'] for i in images] == list(range(1, 8))
    assert [(i['video_id'], i['frame_id']) for i in images] == [(1, 0), (1, 1),
                                                                (1, 2), (1, 3),
                                                                (2, 0), (2, 1),
                                                                (2, 2)]
    assert [i['is_vid_train_frame']
            for i in images] == [False, True, False, True, False, True, False]
    assert images[2] == dict(
        id=3,
        file_name=f'VID/{SNIPPET_A}/000002.JPEG',
        width=100,
        height=80,
        video_id=1,
        frame_id=2,
        is_vid_train_frame=False)
    assert not [a for a in train['annotations'] if a['image_id'] == 3]
    assert (tmp_path / 'Data' / images[4]['file_name']).is_file()

    anns = train['annotations']
    assert [a['id'] for a in anns] == list(range(1, 8))
    assert [a['image_id'] for a in anns] == [1, 2, 2, 4, 5, 6, 7]
    assert [a['category_id'] for a in anns] == [1, 1, 3, 1, 30, 30, 30]
    # trackid 0 of snippet A, trackid 1 of A, trackid 0 of B
    assert [a['instance_id'] for a in anns] == [1, 1, 2, 1, 3, 3, 3]
    assert anns[0]['bbox'] == [10, 20, 40, 40] and anns[0]['area'] == 1600
    assert anns[3]['bbox'] == [70, 0, 30, 40] and anns[3]['area'] == 1200
    assert anns[6]['bbox'] == [5, 5, 17, 15]
    assert [(a['occluded'], a['generated'])
            for a in anns[:3]] == [(False, False), (False, True),
                                   (True, False)]
    assert all(a['video_id'] == 1 for a in anns[:4])
    assert not any(a['iscrowd'] for a in anns)

    val = load(out / 'imagenet_vid_val.json')
    assert val['videos'] == [dict(id=1, name=SNIPPET_VAL)]
    assert [i['file_name'] for i in val['images']] == [
        f'VID/{SNIPPET_VAL}/000000.JPEG', f'VID/{SNIPPET_VAL}/000001.JPEG'
    ]
    assert [a['bbox'] for a in val['annotations']] == [[1, 2, 29, 38]] * 2

    det = load(out / 'imagenet_det_30cls.json')
    assert 'videos' not in det
    assert det['images'] == [
        dict(
            id=1,
            file_name=f'DET/{DET_A}.JPEG',
            width=200,
            height=150,
            is_vid_train_frame=True),
        dict(
            id=2,
            file_name=f'DET/{DET_B}.JPEG',
            width=120,
            height=90,
            is_vid_train_frame=True)
    ]
    assert [(a['image_id'], a['category_id'], a['instance_id'], a['bbox'])
            for a in det['annotations']] == [(1, 1, 1, [10, 10, 50, 30]),
                                             (2, 9, 1, [0, 0, 50, 50]),
                                             (2, 9, 2, [60, 0, 60, 90])
                                             ]  # the person box is dropped
    assert not any('video_id' in a for a in det['annotations'])
    assert [c['other_classes'] for c in summary.values()] == [0, 0, 1]


def test_json_loads_in_mmdet_video_dataset(tmp_path):
    make_ilsvrc(tmp_path)
    with pytest.warns(UserWarning, match='clipped'):
        convert_imagenet_vid(str(tmp_path), splits=['train', 'det'])

    def dataset(name):
        return BaseVideoDataset(
            ann_file=str(tmp_path / 'annotations' / name),
            metainfo=dict(classes=imagenet_vid_classes()),
            data_prefix=dict(img_path=str(tmp_path / 'Data')),
            test_mode=True)

    train = dataset('imagenet_vid_train.json')
    assert [train.get_len_per_video(i) for i in range(len(train))] == [4, 3]
    frame = train.get_data_info(0)['images'][3]
    assert frame['img_path'] == str(tmp_path / 'Data' / 'VID' / SNIPPET_A /
                                    '000003.JPEG')
    assert [(i['bbox'], i['bbox_label'], i['instance_id'])
            for i in frame['instances']] == [([70, 0, 100, 40], 0, 1)]
    det = dataset('imagenet_det_30cls.json')
    assert [det.get_len_per_video(i) for i in range(len(det))] == [1, 1]
    assert len(det.get_data_info(1)['images'][0]['instances']) == 2


@pytest.mark.parametrize('content, error', [
    ('<annotation><size><width>100', 'cannot read the annotation'),
    ('<annotation><object><name>n02691156</name></object></annotation>',
     'no <size>'),
    ('<annotation><size><width>100</width><height>80</height></size>'
     '<object><trackid>0</trackid><name>n02691156</name><bndbox><xmin>1'
     '</xmin><ymin>1</ymin><ymax>9</ymax></bndbox></object></annotation>',
     '<bndbox> has no <xmax>'),
])
def test_broken_xml_names_the_file(tmp_path, content, error):
    make_ilsvrc(tmp_path)
    xml = tmp_path / 'Annotations' / 'VID' / SNIPPET_B / '000001.xml'
    xml.write_text(content)
    with pytest.raises(ValueError, match=re.escape(f'{xml}: ')) as info:
        convert_imagenet_vid(str(tmp_path))
    assert error in str(info.value) and 're-extract' in str(info.value)
    assert not (tmp_path / 'annotations').exists()  # nothing written


def test_unknown_vid_class_is_an_error(tmp_path):
    make_ilsvrc(tmp_path)
    xml = write_frame(tmp_path, 'VID', f'{SNIPPET_B}/000002', (64, 48),
                      [obj(PERSON, (5, 5, 20, 20), 0)])
    with pytest.raises(ValueError, match=re.escape(xml)) as info:
        convert_imagenet_vid(str(tmp_path), splits=['train'])
    assert PERSON in str(info.value)
    assert 'not one of the 30 ImageNet VID classes' in str(info.value)


def test_missing_inputs_fail_before_any_conversion(tmp_path):
    make_ilsvrc(tmp_path)
    (tmp_path / 'ImageSets' / 'VID_val_videos.txt').unlink()
    with pytest.raises(
            FileNotFoundError, match='ImageSets/VID_val_videos.txt not found'):
        convert_imagenet_vid(str(tmp_path))
    assert not (tmp_path / 'annotations').exists()
    os.rename(tmp_path / 'Data' / 'DET', tmp_path / 'DET')
    with pytest.raises(
            FileNotFoundError,
            match=r'Data/DET not found; expected the ILSVRC2015'):
        convert_imagenet_vid(str(tmp_path), splits=['det'])
    os.remove(tmp_path / 'Data' / 'VID' / SNIPPET_A / '000002.JPEG')
    with pytest.raises(ValueError, match='3 JPEG frames, the list says 4'):
        convert_imagenet_vid(str(tmp_path), splits=['train'])


@pytest.mark.slow
def test_tool_writes_the_three_files(tmp_path):
    make_ilsvrc(tmp_path)
    out = tmp_path / 'coco'
    proc = subprocess.run(
        [sys.executable, TOOL,
         str(tmp_path), '--out',
         str(out)],
        capture_output=True,
        text=True)
    assert proc.returncode == 0, proc.stderr
    assert f'{out / "imagenet_vid_train.json"}: 2 videos, 7 images, 7 boxes' \
        in proc.stdout
    assert f'{out / "imagenet_vid_val.json"}: 1 videos, 2 images, 2 boxes' \
        in proc.stdout
    assert (f'{out / "imagenet_det_30cls.json"}: 0 videos, 2 images, 3 boxes '
            '(boxes of the other DET classes dropped: 1)') in proc.stdout
    assert 'clipped 2 boxes to the image' in proc.stderr
    assert len(load(out / 'imagenet_vid_train.json')['images']) == 7
    assert sorted(os.listdir(out)) == [
        'imagenet_det_30cls.json', 'imagenet_vid_train.json',
        'imagenet_vid_val.json'
    ]
