# Copyright (c) off_plugin authors. All rights reserved.
"""OFFVideoDetector: the split, SE blocks, pairs within videos, training on
key frames and online testing that reuses every frame's features."""
import os.path as osp

import pytest
import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample, TrackDataSample
from mmdet.utils import register_all_modules
from mmengine.config import Config
from mmengine.structures import InstanceData

import off_plugin.detection  # noqa: F401
from off_plugin.core.off_sub_network import Bottleneck

CONFIGS = osp.join(
    osp.dirname(osp.dirname(osp.dirname(__file__))), 'configs', 'detection',
    'off')
OFF = osp.join(CONFIGS, 'off-ms_rfcn_r18-tiny_1xb8-5e_moving-objects.py')
SIZE = 64


@pytest.fixture(scope='module', autouse=True)
def mmdet_scope():
    register_all_modules(init_default_scope=True)


def build(off=True):
    cfg = Config.fromfile(OFF).model
    if not off:
        cfg.off = None
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    return model.eval()


def frame_sample(video_id, frame_id, boxes=((8, 8, 40, 36), )):
    sample = DetDataSample(
        metainfo=dict(
            img_shape=(SIZE, SIZE),
            ori_shape=(SIZE, SIZE),
            scale_factor=(1., 1.),
            batch_input_shape=(SIZE, SIZE),
            pad_shape=(SIZE, SIZE),
            video_id=video_id,
            frame_id=frame_id))
    sample.gt_instances = InstanceData(
        bboxes=torch.tensor(boxes, dtype=torch.float),
        labels=torch.ones(len(boxes), dtype=torch.long))
    return sample


def track_sample(frames, key=None):
    track = TrackDataSample()
    track.video_data_samples = frames
    if key is not None:
        track.set_metainfo(
            dict(key_frames_inds=[key], ref_frames_inds=[1 - key]))
    return track


def test_split_sends_first_channels_to_rpn_rest_to_roi_head():
    model = build(off=False)
    x = torch.randn(2, 128, 8, 8)
    rpn_x, roi_x = model.head_inputs((torch.randn(2, 64, 8, 8), x), None)
    assert torch.equal(rpn_x[0], x[:, :64])
    assert torch.equal(roi_x[0], x[:, 64:])


def test_se_bottleneck_scales_the_residual_branch():
    block = Bottleneck(16, 4, 16, se_ratio=4).eval()
    x = torch.randn(2, 16, 5, 5)
    branch = block.conv3(block.conv2(block.conv1(x)))
    gate = torch.sigmoid(
        block.se.fc2(
            torch.relu(block.se.fc1(branch.mean((2, 3), keepdim=True)))))
    torch.testing.assert_close(block(x), torch.relu(branch * gate + x))
    assert not (gate == 1).all()


def test_off_pairs_never_cross_videos():
    refiner = build().off
    key = (torch.randn(2, 64, 8, 8), torch.randn(2, 128, 8, 8))
    ref = (torch.randn(2, 64, 8, 8), torch.randn(2, 128, 8, 8))
    out = refiner(key, ref)
    # another reference for video 1 changes video 1 only
    ref2 = tuple(torch.cat((r[:1], torch.randn_like(r[1:]))) for r in ref)
    out2 = refiner(key, ref2)
    torch.testing.assert_close(out2[0], out[0])
    assert not torch.allclose(out2[1], out[1])
    # the reference matters: itself as reference (no motion) differs
    assert not torch.allclose(refiner(key, key)[0], out[0])


def test_training_pairs_key_and_reference_of_each_video():
    model = build()
    inputs = torch.randn(2, 2, 3, SIZE, SIZE)
    samples = [
        track_sample(
            [frame_sample(1, 3), frame_sample(1, 4)], key=1),
        track_sample(
            [frame_sample(2, 0), frame_sample(2, 1)], key=0),
    ]
    key, ref, key_samples = model._key_ref(inputs, samples)
    assert torch.equal(key, torch.stack((inputs[0, 1], inputs[1, 0])))
    assert torch.equal(ref, torch.stack((inputs[0, 0], inputs[1, 1])))
    assert [s.frame_id for s in key_samples] == [4, 0]

    model.train()
    losses = model.loss(inputs, samples)
    total, _ = model.parse_losses(losses)
    assert {'loss_rpn_cls', 'loss_rpn_bbox', 'loss_cls', 'loss_bbox'
            } <= set(losses) and torch.isfinite(total)
    total.backward()
    unit = model.off.sub_network.levels[1].units[0].reduce.conv
    assert unit.weight.grad.abs().sum() > 0


def count_backbone_images(model):
    seen = []
    model.detector.backbone.register_forward_hook(
        lambda module, args, out: seen.append(args[0].detach().clone()))
    return seen


def test_baseline_never_computes_reference_frames():
    model = build(off=False).train()
    seen = count_backbone_images(model)
    samples = [track_sample([frame_sample(1, 0), frame_sample(1, 1)], key=1)]
    model.loss(torch.randn(1, 2, 3, SIZE, SIZE), samples)
    assert sum(len(x) for x in seen) == 1


def test_online_testing_computes_each_frame_once_and_equals_offline():
    model = build()
    torch.manual_seed(1)
    videos = {
        1: torch.randn(3, 3, SIZE, SIZE),
        2: torch.randn(2, 3, SIZE, SIZE)
    }
    seen = count_backbone_images(model)
    online = {}
    with torch.no_grad():
        for video_id, frames in videos.items():
            for t, frame in enumerate(frames):  # one frame per test step
                out = model.predict(
                    frame[None,
                          None], [track_sample([frame_sample(video_id, t)])])
                online[video_id, t] = out[0][0].pred_instances
    # every frame went through the backbone exactly once
    assert sum(len(x) for x in seen) == 5
    computed = torch.cat(seen)
    ordered = torch.cat([videos[1], videos[2]])
    torch.testing.assert_close(computed, ordered)

    # offline: each frame with the frame before it (the first with itself)
    with torch.no_grad():
        for video_id, frames in videos.items():
            feats = model.extract_frame_feats(frames)
            for t in range(len(frames)):
                key = tuple(f[t:t + 1] for f in feats)
                ref = tuple(f[max(t - 1, 0):max(t - 1, 0) + 1] for f in feats)
                offline = model.predict_frames(key, ref,
                                               [frame_sample(video_id, t)])[0]
                torch.testing.assert_close(offline.bboxes, online[video_id,
                                                                  t].bboxes)
                torch.testing.assert_close(offline.scores, online[video_id,
                                                                  t].scores)
    assert len(online[1, 2].bboxes) > 0


def test_online_batch_of_consecutive_frames_equals_one_by_one():
    model = build()
    frames = torch.randn(4, 3, SIZE, SIZE)
    with torch.no_grad():
        batch = model.predict(
            frames[:, None],
            [track_sample([frame_sample(7, t)]) for t in range(4)])
        model.reset()
        single = [
            model.predict(frames[t][None, None],
                          [track_sample([frame_sample(7, t)])])[0]
            for t in range(4)
        ]
    for b, s in zip(batch, single):
        torch.testing.assert_close(b[0].pred_instances.scores,
                                   s[0].pred_instances.scores)


def test_tensor_mode_is_predict_before_post_processing():
    model = build()
    frames = torch.randn(2, 3, SIZE, SIZE)
    with torch.no_grad():
        model(
            frames[:1, None], [track_sample([frame_sample(3, 0)])],
            mode='tensor')
        cls_score, bbox_pred = model(
            frames[1:, None], [track_sample([frame_sample(3, 1)])],
            mode='tensor')
        # offline: the second frame refined with the first
        feats = model.extract_frame_feats(frames)
        key, ref = (tuple(f[i:i + 1] for f in feats) for i in (1, 0))
        rpn_x, roi_x = model.head_inputs(key, ref)
        samples = [frame_sample(3, 1)]
        proposals = model.detector.rpn_head.predict(
            rpn_x, samples, rescale=False)
        expected = model.detector.roi_head.forward(roi_x, proposals, samples)
    torch.testing.assert_close(cls_score, expected[0])
    torch.testing.assert_close(bbox_pred, expected[1])
    assert cls_score.shape[1] == model.detector.roi_head.bbox_head \
        .num_classes + 1


def test_flops_per_frame_are_the_baselines_plus_the_refiner():
    """MMEngine's FLOP analysis of the tensor mode, online: the reference
    frame's features are kept, so OFF adds only its refiner."""
    from mmengine.analysis import FlopAnalyzer

    def frame_flops(model, forward, inputs):
        model.forward = forward
        analyzer = FlopAnalyzer(model, inputs)
        analyzer.unsupported_ops_warnings(False)
        analyzer.uncalled_modules_warnings(False)
        return analyzer.total()

    frames = torch.randn(2, 1, 1, 3, SIZE, SIZE)
    totals = {}
    for off in (False, True):
        model = build(off=off)
        with torch.no_grad():
            model.predict(frames[0], [track_sample([frame_sample(5, 0)])])
        samples = [track_sample([frame_sample(5, 1)])]
        totals[off] = frame_flops(
            model,
            lambda x, m=model: type(m).forward(m, x, samples, mode='tensor'),
            (frames[1], ))
        if off:
            feats = model.extract_frame_feats(frames[1, 0])
            refiner = frame_flops(model.off, model.off.forward, (feats, feats))
    assert totals[True] == totals[False] + refiner > totals[False]
