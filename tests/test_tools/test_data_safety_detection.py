# Copyright (c) off_plugin authors. All rights reserved.
"""The detection tools read a user's folder and write into it only what
they document: checksums of every file before, after a successful run, and
after a failed or killed one.

The runs go through each tool's command line (``run_tool(main)`` with its
``sys.argv``) in this process: a fresh interpreter costs about 10 s of
imports. Only the killed run is a process of its own."""
import json
import runpy
import subprocess
import sys

import pytest
import torch
from data_safety import (ROOT, assert_one_line_error, assert_unchanged,
                         checksums, kill_after, mim_in_process, tool_path)
from mmdet.registry import MODELS
from mmdet.utils import register_all_modules
from mmengine.config import Config
from moving_objects import CLASSES, make_moving_objects

import off_plugin.detection  # noqa: F401
from off_plugin.utils.cli import run_tool

pytestmark = pytest.mark.slow  # every test runs a tool as a process

CONFIGS = ROOT / 'configs' / 'detection' / 'off'
OFF = CONFIGS / 'off-ms_rfcn_r18-tiny_1xb8-5e_moving-objects.py'
BASELINE = CONFIGS / 'rfcn_r18-tiny_1xb8-5e_moving-objects.py'
AIRPLANE = 'n02691156'


@pytest.fixture
def run(capsys, monkeypatch):
    """``run(tool, *args)``: ``tools/<tool> args`` as from its command line;
    its exit status and output."""

    def run_here(tool: str, *args) -> subprocess.CompletedProcess:
        path = str(tool_path(tool))
        argv = [str(arg) for arg in args]
        monkeypatch.setattr(sys, 'argv', [path, *argv])
        capsys.readouterr()
        main = runpy.run_path(path)['main']
        main.__globals__['run_mim'] = mim_in_process  # the demo's mim runs
        try:
            run_tool(main)
            code = 0
        except SystemExit as exit:
            code = exit.code
        out = capsys.readouterr()
        return subprocess.CompletedProcess(argv, code, out.out, out.err)

    return run_here


@pytest.fixture
def data(tmp_path):
    """A user's folder: a small moving-objects set (COCO-VID layout, its
    first val video a frame folder)."""
    root = tmp_path / 'user'
    make_moving_objects(
        str(root),
        dict(train=4, val=2),
        num_frames=6,
        size=(64, 64),
        object_size=(18, 24))
    return root


@pytest.fixture
def user(data):
    """The folder of ``data`` with a checkpoint of the demo's OFF detector
    (random weights)."""
    register_all_modules(init_default_scope=True)
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(OFF).model)
    torch.save(
        dict(
            state_dict=model.state_dict(),
            meta=dict(dataset_meta=dict(classes=CLASSES))), data / 'off.pth')
    return data


def test_detect_video_writes_only_out_and_its_json(user, run):
    before = checksums(user)
    frames = user / 'Data' / 'val' / '0000'
    out = user / 'out' / 'video.mp4'
    result = run('detect_video.py', OFF, user / 'off.pth', frames, out,
                 '--score-thr', '0', '--cfg-options',
                 'model.detector.test_cfg.rcnn.max_per_img=5')
    assert result.returncode == 0, result.stderr[-2000:]
    assert_unchanged(before, user, documented=['out'])
    assert sorted(
        p.name for p in out.parent.iterdir()) == ['video.json', 'video.mp4']
    with open(out.with_suffix('.json')) as f:
        detections = json.load(f)
    # --cfg-options reached the model: 5 detections a frame at threshold 0
    assert [len(f['scores']) for f in detections['frames']] == [5] * 6

    # failed: a checkpoint of another model, refused before any output
    after = checksums(user)
    result = run('detect_video.py', BASELINE, user / 'off.pth', frames,
                 user / 'failed' / 'video.mp4')
    assert_one_line_error(
        result, f'{user / "off.pth"}: not a checkpoint of '
        'this OFFVideoDetector', 'unknown weights',
        'Use the config it was trained with')
    # failed: the output would overwrite the checkpoint
    result = run('detect_video.py', OFF, user / 'off.pth', frames, '--out',
                 user / 'off.pth')
    assert_one_line_error(
        result, f'{user / "off.pth"}: this output would '
        'overwrite an input of the run')
    assert_unchanged(after, user)

    # killed while writing: the input as it was, OUT not there (only the
    # documented temporary files beside it)
    killed = user / 'killed'
    code = kill_after([
        sys.executable, ROOT / 'demo' / 'detect_video.py', OFF,
        user / 'off.pth', frames, killed / 'video.mp4'
    ], killed)
    assert code < 0
    assert_unchanged(after, user, documented=['killed'])
    assert all('.tmp' in p.name for p in killed.iterdir())


def ilsvrc(root):
    """A tiny ILSVRC2015 tree: a train and a val snippet of 2 frames and a
    DET image (frames never read: empty), their XML, FGFA's lists."""
    snippets = dict(
        train='train/ILSVRC2015_VID_train_0000/a',
        val='val/ILSVRC2015_val_00000000')
    names = [f'VID/{s}/{i:06d}' for s in snippets.values() for i in (0, 1)]
    for name in names + ['DET/train/n02691156/b']:
        image = root / 'Data' / f'{name}.JPEG'
        xml = root / 'Annotations' / f'{name}.xml'
        for path in (image, xml):
            path.parent.mkdir(parents=True, exist_ok=True)
        image.write_bytes(b'')
        xml.write_text(
            '<annotation><size><width>64</width><height>48</height></size>'
            f'<object><trackid>0</trackid><name>{AIRPLANE}</name><bndbox>'
            '<xmin>1</xmin><ymin>2</ymin><xmax>30</xmax><ymax>40</ymax>'
            '</bndbox></object></annotation>')
    (root / 'ImageSets').mkdir()
    for name, line in (('VID_train_15frames', f'{snippets["train"]} 1 1 2'),
                       ('VID_val_videos', f'{snippets["val"]} 1 0 2'),
                       ('DET_train_30classes', 'train/n02691156/b 1')):
        (root / 'ImageSets' / f'{name}.txt').write_text(line + '\n')
    return root / 'Annotations' / f'{names[-1]}.xml'


def test_convert_imagenet_vid_writes_only_its_jsons(tmp_path, run):
    root = tmp_path / 'ILSVRC2015'
    xml = ilsvrc(root)
    before = checksums(root)
    result = run('convert_imagenet_vid.py', root)
    assert result.returncode == 0, result.stderr[-2000:]
    assert_unchanged(before, root, documented=['annotations'])
    assert sorted(p.name for p in (root / 'annotations').iterdir()) == [
        'imagenet_det_30cls.json', 'imagenet_vid_train.json',
        'imagenet_vid_val.json'
    ]
    with open(root / 'annotations' / 'imagenet_vid_val.json') as f:
        assert [a['bbox']
                for a in json.load(f)['annotations']] == [[1, 2, 29, 38]] * 2

    # failed on a damaged XML: nothing written, no folder made, neither in
    # -o nor in the default place
    xml.write_text(xml.read_text()[:40])
    (root / 'annotations').rename(tmp_path / 'converted')
    before = checksums(root)
    for out in (['-o', tmp_path / 'out'], []):
        result = run('convert_imagenet_vid.py', root, *out)
        assert_one_line_error(result, f'{xml}: cannot read the annotation',
                              're-extract it from the ILSVRC2015 archive')
        assert_unchanged(before, root)
    assert not (tmp_path / 'out').exists()


def test_detection_demo_reads_the_data_root_writes_the_work_dir(
        data, tmp_path, run):
    before = checksums(data)
    work_dir = tmp_path / 'work'
    loaders = ('train_dataloader', 'test_dataloader')
    result = run(
        'detection_demo.py', '--data-root', data, '--work-dir', work_dir,
        '--epochs', '1', '--cfg-options', 'train_dataloader.batch_size=4',
        *(f'{loader}.{key}' for loader in loaders
          for key in ('num_workers=0', 'persistent_workers=False')),
        *(f'val_{key}=None' for key in ('dataloader', 'cfg', 'evaluator')))
    assert result.returncode == 0, result.stdout[-3000:]
    assert_unchanged(before, data)
    assert 'writing the embedded' not in result.stdout
    lines = result.stdout.splitlines()
    fitted = lines.index(f'fitted to {data}/annotations/train.json:')
    # objects of 18-24 px: zoomed to the 24 px wanted, one anchor scale
    assert lines[fitted + 1] == (
        '  input scale 72x72: frames 64x64, median object 21 px, wanted '
        '24-48 px (3-6 strides of 8 px): zoomed x1.13')
    assert lines[fitted + 2].startswith(
        '  anchors: scales [2.83] (x8 px = 23 px) for objects of 22-26 px')
    # the iterations of the batch that --cfg-options set
    assert lines[fitted + 4] == ('  training: 1 epochs of 3 iterations (12 '
                                 'key frames, batch 4) (--epochs)')
    assert sorted(p.name for p in work_dir.iterdir()) == [
        'rfcn', 'rfcn.py', 'rfcn_off', 'rfcn_off.py'
    ]
    cfg = Config.fromfile(work_dir / 'rfcn_off.py')
    assert cfg.train_dataloader.batch_size == 4
    assert cfg.model.detector.rpn_head.anchor_generator.scales == [2**1.5]
    assert cfg.test_dataloader.dataset.pipeline[0].transforms[1].scale == (72,
                                                                           72)
    summary = lines[-3:]
    assert summary[0].startswith(f'Held-out ImageNet-VID mAP@0.5 on {data}')
    for line, name in zip(summary[1:],
                          ('R-FCN (single frame)', 'R-FCN + OFF (MS)')):
        assert line.startswith(f'  {name} ')
        assert 0 <= float(line[24:29]) <= 1, line

    # failed: no val.json; one line before anything is written
    (data / 'annotations' / 'val.json').rename(tmp_path / 'val.json')
    before = checksums(data)
    result = run('detection_demo.py', '--data-root', data, '--work-dir',
                 tmp_path / 'failed')
    assert_one_line_error(result, f'{data}/annotations/val.json: no such '
                          'file', 'leave --data-root out for the embedded '
                          'set')
    assert_unchanged(before, data)
    assert not (tmp_path / 'failed').exists()
    # a work directory inside the data root is refused
    result = run('detection_demo.py', '--data-root', data, '--work-dir',
                 data / 'work')
    assert_one_line_error(
        result, f'{data / "work"}: the work directory is '
        f'inside the data root {data}')
    assert_unchanged(before, data)
