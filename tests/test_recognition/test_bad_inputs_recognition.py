# Copyright (c) off_plugin authors. All rights reserved.
"""Bad input for action recognition, one table row a case, each a real bad
file fed through the repo's configs (dataset, pipeline and model as a run
builds them). A case either follows a documented rule (the row checks the
values) or raises one line naming the file, the field and the fix, and
writes nothing."""
import copy
import functools

import cv2
import numpy as np
import pytest
import torch
from mmaction.registry import DATASETS, MODELS
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import DefaultScope
from motion_videos import render_clip, write_video
from tiny_runs import RECOGNITION, STAGE2

import off_plugin.recognition  # noqa: F401

FLOW = (
    RECOGNITION / 'ucf101' /
    'off_bninception_4xb32-7of25seg-20kiter_ucf101-split1-flow.py')
REENCODE = 'Re-encode or re-download it, or drop it from the annotation file'


@functools.cache
def config(path):
    return Config.fromfile(path)


def dataset(path, loader, ann_file, data_root, **kwargs):
    """``loader``'s dataset of the config at ``path`` on our files."""
    cfg = copy.deepcopy(config(path)[loader].dataset)
    cfg.update(ann_file=str(ann_file), **copy.deepcopy(kwargs))
    prefix = 'img' if cfg.type.endswith('RawframeDataset') else 'video'
    cfg.data_prefix = {prefix: str(data_root)}
    with DefaultScope.overwrite_default_scope('mmaction'):
        return DATASETS.build(cfg)


def stages(data):
    """The results of sample 0 after each transform, by transform type."""
    results, seen = data.get_data_info(0), {}
    for transform in data.pipeline.transforms:
        results = transform(results)
        seen[type(transform).__name__] = dict(results)
    return seen


def model(path, **changes):
    """The model of the config at ``path``, ``changes`` merged into its
    dicts (``train_cfg=dict(num_segments=4)``), of random weights."""
    cfg = copy.deepcopy(config(path).model)
    for key, change in changes.items():
        cfg[key].update(change)
    cfg.pop('feature_checkpoint', None)
    with DefaultScope.overwrite_default_scope('mmaction'):
        return MODELS.build(cfg)


def forward(net, data, training):
    """A batch of ``data[0]`` through the model, as a run feeds it."""
    batch = net.data_preprocessor(pseudo_collate([data[0]]), training)
    net.train(training)
    with torch.no_grad():
        return net(**batch, mode='loss' if training else 'predict')


def video(path, num_frames=24):
    """A motion-demo video of ``num_frames`` frames."""
    path.parent.mkdir(exist_ok=True)
    write_video(
        str(path),
        render_clip(np.random.default_rng(0), (1, 0), 64, num_frames, 1, 16))
    return path


def video_list(tmp_path,
               text,
               loader='train_dataloader',
               path=STAGE2,
               **kwargs):
    """Write the list ``text``; returns what builds ``loader``'s dataset (a
    VideoDataset) of the config at ``path`` on it."""
    (tmp_path / 'videos').mkdir(exist_ok=True)
    (tmp_path / 'list.txt').write_text(text)
    return functools.partial(dataset, path, loader, tmp_path / 'list.txt',
                             tmp_path / 'videos', **kwargs)


def rawframe_list(tmp_path, text, **kwargs):
    """As ``video_list``: the UCF-101 flow config's CheckedRawframeDataset."""
    (tmp_path / 'list.txt').write_text(text)
    return functools.partial(dataset, FLOW, 'train_dataloader',
                             tmp_path / 'list.txt', tmp_path, **kwargs)


def flow_frames(tmp_path, total=30):
    """A flow rawframe folder (x/y 32x40 jpgs of no motion, the layout of
    optical_flow) and a list of it; returns the folder
    and the flow config's test-mode dataset on it."""
    frames = tmp_path / 'rawframes' / 'clip'
    frames.mkdir(parents=True)
    for i in range(1, total + 1):
        for axis in 'xy':
            cv2.imwrite(
                str(frames / f'{axis}_{i:05d}.jpg'),
                np.full((32, 40), 128, np.uint8))
    (tmp_path / 'list.txt').write_text(f'clip {total} 0\n')
    return frames, dataset(FLOW, 'val_dataloader', tmp_path / 'list.txt',
                           tmp_path / 'rawframes')


# 1. Videos that do not decode (CheckedDecordInit / CheckedDecordDecode).


def empty_video(tmp_path):
    data = video_list(tmp_path, 'clip.mp4 0\n')()
    path = tmp_path / 'videos' / 'clip.mp4'
    path.write_bytes(b'')
    return lambda: data[0], (f"'{path}'", 'the file is empty (0 bytes)',
                             REENCODE)


def truncated_video(tmp_path):
    data = video_list(tmp_path, 'clip.mp4 0\n')()
    path = video(tmp_path / 'videos' / 'clip.mp4')
    path.write_bytes(path.read_bytes()[:100])
    return lambda: data[0], (f"'{path}' (100 bytes)",
                             'corrupt, truncated or not a video', REENCODE)


def text_named_mp4(tmp_path):
    data = video_list(tmp_path, 'clip.mp4 0\n')()
    path = tmp_path / 'videos' / 'clip.mp4'
    path.write_text('clip.mp4 0\nan annotation list, not a video\n')
    return lambda: data[0], (f"'{path}'", 'not a video', REENCODE)


def zero_frame_video(tmp_path):
    data = video_list(tmp_path, 'clip.mp4 0\n')()
    path = tmp_path / 'videos' / 'clip.mp4'
    cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), 25,
                    (64, 64)).release()  # an mp4 container, no frame
    return lambda: data[0], (f"'{path}'", 'cannot find video stream', REENCODE)


def missing_video(tmp_path):
    data = video_list(tmp_path, 'clip.mp4 0\n')()
    return lambda: data[0], (f"'{tmp_path}/videos/clip.mp4' does not exist",
                             'fix its path in the annotation file')


# 2. A clip shorter than the sampler needs: its last frame repeats
# (documented by IntervalConsistentSampleFrames).


def short_clip(tmp_path):
    video(tmp_path / 'videos' / 'clip.mp4', num_frames=3)
    train = video_list(tmp_path, 'clip.mp4 0\n')()
    test = video_list(tmp_path, 'clip.mp4 0\n', 'test_dataloader')()

    def check(results):
        for seen, inds in zip(results,
                              ([0, 1, 2, 2, 2], [0, 1, 2, 2, 2, 2, 2, 2])):
            sampled = seen['IntervalConsistentSampleFrames']['frame_inds']
            assert sampled.tolist() == inds
            imgs = seen['CheckedDecordDecode']['imgs']
            assert all(np.array_equal(img, imgs[2]) for img in imgs[3:])
            assert not np.array_equal(imgs[1], imgs[2])
            assert seen['PackActionInputs']['inputs'].shape == (len(inds), 3,
                                                                56, 56)

    return lambda: (stages(train), stages(test)), check


# 3. A missing or corrupt frame in a rawframe folder (the flow config).


def missing_frame(tmp_path):
    frames, data = flow_frames(tmp_path)
    (frames / 'x_00010.jpg').unlink()
    return lambda: data[0], (
        f"frame 10 of '{frames}' is missing: no file "
        f"'{frames}/x_00010.jpg' (total_frames=30 in the annotation file)",
        'Re-extract the frames of this video, or set its total_frames')


def corrupt_frame(tmp_path):
    frames, data = flow_frames(tmp_path)
    (frames / 'y_00007.jpg').write_bytes(b'\xff\xd8\xff truncated')
    return lambda: data[0], (f"frame 7 of '{frames}' does not decode: "
                             f"'{frames}/y_00007.jpg'",
                             'Re-extract the frames of this video')


# 4. Annotation lists: CheckedVideoDataset (the demo configs) and
# CheckedRawframeDataset
# (the flow config).


def video_list_missing_label(tmp_path):
    return video_list(
        tmp_path,
        'a.mp4 0\nb.mp4\n'), ('list.txt, line 2: \'b.mp4\' has no label',
                              "write the line as '<video> <label>'")


def video_list_extra_column(tmp_path):
    return video_list(
        tmp_path,
        'my clip.mp4 2\n'), ("list.txt, line 1: 'my clip.mp4 2' has 3 column",
                             'remove the extra columns', 'delimiter')


def video_list_non_integer_label(tmp_path):
    return video_list(tmp_path, 'a.mp4 0\nb.mp4 left\n'), (
        "list.txt, line 2: 'b.mp4 left' has label 'left', not an integer",
        'write the class index')


def video_list_empty_line(tmp_path):
    return video_list(tmp_path, 'a.mp4 0\n\nb.mp4 1\n'), (
        "list.txt, line 2: '' is empty; remove the line", )


def video_list_label_past_dataset_classes(tmp_path):
    return video_list(
        tmp_path, 'a.mp4 3\nb.mp4 4\n', num_classes=4), (
            "list.txt, line 2: 'b.mp4 4' has label 4, outside 0..3 (the "
            "dataset's num_classes=4)", 'fix the label')


def video_list_unlabelled_for_testing(tmp_path):
    """Rule: a list without any label is an inference list (labels -1),
    test mode only."""

    def check(data):
        assert [data.get_data_info(i)['label'] for i in (0, 1)] == [-1, -1]

    return video_list(tmp_path, 'a.mp4\nb.mp4\n', 'test_dataloader'), check


def video_list_partly_unlabelled_for_testing(tmp_path):
    return video_list(tmp_path, 'a.mp4 1\nb.mp4\n', 'test_dataloader'), (
        "list.txt, line 2: 'b.mp4' has no label while other lines have one",
        "write the line as '<video> <label>'")


def rawframe_list_missing_column(tmp_path):
    return rawframe_list(tmp_path, 'a 30 0\nb 41\n'), (
        "list.txt, line 2: 'b 41' has no label",
        "write the line as '<frame_dir> <total_frames> <label>'")


def rawframe_list_extra_column(tmp_path):
    return rawframe_list(
        tmp_path,
        'a 5 30 0\n'), ("list.txt, line 1: 'a 5 30 0' has 4 column",
                        'remove the extra columns, or set with_offset=True')


def rawframe_list_non_integer(tmp_path):
    return rawframe_list(tmp_path, 'a 30 0\nb 41.5 2\n'), (
        "list.txt, line 2: 'b 41.5 2' has total_frames '41.5', not an "
        'integer', 'write the total_frames as a whole number')


def rawframe_list_label_past_dataset_classes(tmp_path):
    classes = config(FLOW).num_classes
    return rawframe_list(
        tmp_path, 'a 30 100\nb 41 101\n', num_classes=classes), (
            "list.txt, line 2: 'b 41 101' has label 101, outside 0..100",
            'fix the label')


def label_past_model_classes(tmp_path):
    """The dataset does not know num_classes (as in the demo configs): the
    OFF head refuses the label."""
    video(tmp_path / 'videos' / 'clip.mp4')
    data = video_list(tmp_path, 'clip.mp4 4\n')()
    return lambda: forward(model(STAGE2), data, True), (
        'OFFHead: a training sample has label 4, outside 0..3 '
        '(num_classes=4)', 'fix the label in the annotation file',
        "set the model's num_classes", 'given num_classes names the line')


# 5. Frames of another channel count: documented by
# off_plugin.recognition.CheckedRawFrameDecode.


def gray_and_rgba_frames(tmp_path):
    """RGB rawframes through the demo test pipeline, CheckedRawFrameDecode
    for the Decord transforms."""
    frames = tmp_path / 'rawframes' / 'clip'
    frames.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(1, 9):
        cv2.imwrite(
            str(frames / f'img_{i:05d}.png'),
            rng.integers(0, 256, (64, 64, 3), np.uint8))
    cv2.imwrite(str(frames / 'img_00003.png'), np.full((64, 64), 77, np.uint8))
    bgra = np.zeros((64, 64, 4), np.uint8)
    bgra[...] = (10, 20, 30, 0)  # fully transparent
    cv2.imwrite(str(frames / 'img_00004.png'), bgra)
    (tmp_path / 'list.txt').write_text('clip 8 0\n')
    pipeline = [
        t for t in config(STAGE2).test_pipeline
        if t.type != 'CheckedDecordInit'
    ]
    pipeline[1] = dict(type='CheckedRawFrameDecode')
    data = dataset(
        STAGE2,
        'test_dataloader',
        tmp_path / 'list.txt',
        tmp_path / 'rawframes',
        type='CheckedRawframeDataset',
        filename_tmpl='img_{:05}.png',
        pipeline=pipeline)

    def check(packed):
        inputs = packed['inputs']  # (8 segments, RGB, H, W)
        assert inputs.shape == (8, 3, 56, 56)
        assert (inputs[2] == 77).all()
        rgb = torch.tensor([30, 20, 10], dtype=torch.uint8)
        assert (inputs[3] == rgb[:, None, None]).all()

    return lambda: data[0], check


def color_flow_frame(tmp_path):
    frames, data = flow_frames(tmp_path)
    red = np.zeros((32, 40, 3), np.uint8)
    red[..., 2] = 255
    cv2.imwrite(str(frames / 'x_00003.jpg'), red)

    def check(packed):
        # (25 segments, 5 frames x (x, y), H, W): frame 3 is the first
        # segment's third, its x the luminance of red
        inputs = packed['inputs'].float()
        assert inputs.shape == (25, 10, 224, 224)
        assert abs(inputs[0, 4].mean() - 0.299 * 255) < 2
        assert (inputs[0, 5] - 128).abs().max() < 2

    return lambda: data[0], check


# 6. The model's num_segments differs from its sampler's.


def num_segments_of_test_cfg_off_by_a_factor(tmp_path):
    video(tmp_path / 'videos' / 'clip.mp4')
    data = video_list(tmp_path, 'clip.mp4 0\n', 'test_dataloader')()
    net = model(STAGE2, test_cfg=dict(num_segments=4))
    return lambda: forward(net, data, False), (
        'OFFRecognizer: the test pipeline gives 8 segments per video, not '
        'model.test_cfg.num_segments=4; set one to the other',
        'num_segments in testing')


def num_segments_of_train_cfg_differs(tmp_path):
    video(tmp_path / 'videos' / 'clip.mp4')
    data = video_list(tmp_path, 'clip.mp4 0\n')()
    net = model(STAGE2, train_cfg=dict(num_segments=4))
    return lambda: forward(net, data, True), (
        'OFFRecognizer: the train pipeline gives 5 segments per video, not '
        'model.train_cfg.num_segments=4; set one to the other',
        'num_clips in training')


def three_crops_of_all_segments(tmp_path):
    """Rule (OFFRecognizer): ``crops * num_segments`` views are crops."""
    video(tmp_path / 'videos' / 'clip.mp4')
    pipeline = copy.deepcopy(config(STAGE2).test_pipeline)
    pipeline[3] = dict(type='ThreeCrop', crop_size=(48, 64))
    data = video_list(
        tmp_path, 'clip.mp4 0\n', 'test_dataloader', pipeline=pipeline)()

    def check(predicted):
        assert predicted[0].pred_score.shape == (4, )

    return lambda: forward(model(STAGE2), data, False), check


CASES = [
    empty_video, truncated_video, text_named_mp4, zero_frame_video,
    missing_video, short_clip, missing_frame, corrupt_frame,
    video_list_missing_label, video_list_extra_column,
    video_list_non_integer_label, video_list_empty_line,
    video_list_label_past_dataset_classes, video_list_unlabelled_for_testing,
    video_list_partly_unlabelled_for_testing, rawframe_list_missing_column,
    rawframe_list_extra_column, rawframe_list_non_integer,
    rawframe_list_label_past_dataset_classes, label_past_model_classes,
    gray_and_rgba_frames, color_flow_frame,
    num_segments_of_test_cfg_off_by_a_factor,
    num_segments_of_train_cfg_differs, three_crops_of_all_segments
]


@pytest.mark.parametrize('case', CASES, ids=lambda case: case.__name__)
def test_bad_input(case, tmp_path):
    """``case(tmp_path)`` makes the bad file and returns what feeds it and
    either the fragments of the one-line error or the rule's check."""
    feed, expected = case(tmp_path)
    files = sorted(tmp_path.rglob('*'))
    if callable(expected):
        expected(feed())
    else:
        with pytest.raises(Exception) as info:
            feed()
        message = str(info.value)
        assert '\n' not in message
        for fragment in expected:
            assert fragment in message, message
    assert sorted(tmp_path.rglob('*')) == files  # nothing written
