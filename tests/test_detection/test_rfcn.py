# Copyright (c) off_plugin authors. All rights reserved.
"""R-FCN: position-sensitive pooling, voting, losses and predictions."""
import pytest
import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmengine.config import ConfigDict
from mmengine.registry import DefaultScope
from mmengine.structures import InstanceData

import off_plugin.detection  # noqa: F401


@pytest.fixture(autouse=True)
def mmdet_scope():
    """Build in mmdet's scope, whatever scope an earlier test left."""
    with DefaultScope.overwrite_default_scope('mmdet'):
        yield


def rfcn_head(num_classes=3, in_channels=16, k=3, sampler='OHEMSampler'):
    return MODELS.build(
        dict(
            type='RFCNRoIHead',
            bbox_roi_extractor=dict(
                type='PSRoIExtractor',
                roi_layer=dict(type='PSRoIPool', output_size=k),
                featmap_strides=[1]),
            bbox_head=dict(
                type='RFCNBBoxHead',
                in_channels=in_channels,
                roi_feat_size=k,
                num_classes=num_classes),
            train_cfg=ConfigDict(
                assigner=dict(
                    type='MaxIoUAssigner',
                    pos_iou_thr=0.5,
                    neg_iou_thr=0.5,
                    min_pos_iou=0.5),
                sampler=dict(
                    type=sampler,
                    num=8,
                    pos_fraction=0.25,
                    add_gt_as_proposals=True),
                pos_weight=-1),
            test_cfg=ConfigDict(
                score_thr=0.0,
                nms=dict(type='nms', iou_threshold=0.3),
                max_per_img=100)))


def test_ps_roi_pooling_of_hand_built_map():
    """Output channel c, bin (i, j) averages input channel (c*k + i)*k + j
    over the bin: 2 outputs, k = 2, the RoI (1, 1)-(5, 5) on a 6x6 map."""
    k, outputs = 2, 2
    ys, xs = torch.meshgrid(torch.arange(6.), torch.arange(6.), indexing='ij')
    # channel ch holds ch * 100 + 10 * y + x
    maps = torch.stack(
        [ch * 100 + 10 * ys + xs for ch in range(outputs * k * k)])[None]
    extractor = MODELS.build(
        dict(
            type='PSRoIExtractor',
            roi_layer=dict(type='PSRoIPool', output_size=k),
            out_channels=outputs,
            featmap_strides=[1]))
    pooled = extractor((maps, ), torch.tensor([[0., 1., 1., 5., 5.]]))
    # a 4x4 RoI: bins of 2x2 pixels, rows 1 + 2i and 2 + 2i (mean
    # 1.5 + 2i), columns likewise
    expected = torch.tensor([[[
        (c * k * k + i * k + j) * 100 + 10 * (1.5 + 2 * i) + (1.5 + 2 * j)
        for j in range(k)
    ] for i in range(k)] for c in range(outputs)])
    assert pooled.shape == (1, outputs, k, k)
    torch.testing.assert_close(pooled[0], expected)

    # ps_roi_align, same layout: on a map constant per channel every bin
    # reads its own channel's constant.
    align = MODELS.build(
        dict(
            type='PSRoIExtractor',
            roi_layer=dict(type='PSRoIAlign', output_size=k, sampling_ratio=2),
            out_channels=outputs,
            featmap_strides=[1]))
    flat = torch.arange(
        outputs * k * k,
        dtype=torch.float).view(1, -1, 1, 1).expand(1, -1, 4, 4).contiguous()
    torch.testing.assert_close(
        align((flat, ), torch.tensor([[0., .5, .5, 3., 3.]]))[0],
        torch.arange(outputs * k * k, dtype=torch.float).view(outputs, k, k))


def test_roi_layer_must_be_position_sensitive():
    with pytest.raises(ValueError, match='PSRoIAlign or PSRoIPool'):
        MODELS.build(
            dict(
                type='PSRoIExtractor',
                roi_layer=dict(type='RoIAlign', output_size=7),
                out_channels=4,
                featmap_strides=[16]))


def test_voting_averages_bins_into_scores_and_deltas():
    head = rfcn_head(num_classes=3, k=3).bbox_head
    pooled = torch.randn(5, 3 + 1 + 4, 3, 3)
    cls_score, bbox_pred = head(pooled)
    torch.testing.assert_close(cls_score, pooled[:, :4].mean((2, 3)))
    torch.testing.assert_close(bbox_pred, pooled[:, 4:].mean((2, 3)))
    # the score maps: k*k*(C+1) class channels, then k*k*4 box channels
    assert head.score_maps(torch.randn(2, 16, 6, 6)).shape == (2, 9 * 8, 6, 6)


def test_extractor_channels_follow_the_head():
    head = rfcn_head(num_classes=5)
    assert head.bbox_roi_extractor.out_channels == 5 + 1 + 4
    with pytest.raises(ValueError, match='num_classes \\+ 1 \\+ 4 = 10'):
        MODELS.build(
            dict(
                type='RFCNRoIHead',
                bbox_roi_extractor=dict(
                    type='PSRoIExtractor',
                    out_channels=8,
                    roi_layer=dict(type='PSRoIPool', output_size=3),
                    featmap_strides=[1]),
                bbox_head=dict(
                    type='RFCNBBoxHead',
                    in_channels=16,
                    roi_feat_size=3,
                    num_classes=5)))


def sample(boxes, labels, size=(32, 32)):
    data_sample = DetDataSample(
        metainfo=dict(img_shape=size, ori_shape=size, scale_factor=(1., 1.)))
    data_sample.gt_instances = InstanceData(
        bboxes=torch.tensor(boxes, dtype=torch.float),
        labels=torch.tensor(labels))
    return data_sample


def proposals(boxes):
    return InstanceData(
        bboxes=torch.tensor(boxes, dtype=torch.float),
        scores=torch.ones(len(boxes)))


@pytest.mark.parametrize('sampler', ['OHEMSampler', 'RandomSampler'])
def test_losses_with_mmdet_samplers(sampler):
    torch.manual_seed(0)
    head = rfcn_head(sampler=sampler)
    head.init_weights()
    feats = (torch.randn(2, 16, 32, 32), )
    samples = [sample([[4, 4, 20, 20]], [1]), sample([[8, 2, 30, 18]], [2])]
    rpn = [
        proposals([[4, 4, 20, 21], [0, 0, 10, 10], [12, 12, 31, 31]]),
        proposals([[8, 3, 29, 18], [1, 20, 9, 30]])
    ]
    losses = head.loss(feats, rpn, samples)
    assert set(losses) == {'loss_cls', 'loss_bbox', 'acc'}
    # randomly initialised: about uniform over 4 classes
    assert losses['loss_cls'].item() == pytest.approx(
        torch.log(torch.tensor(4.)).item(), abs=0.1)
    assert losses['loss_bbox'].item() > 0
    losses['loss_cls'].backward()
    assert head.bbox_head.fc_cls.weight.grad.abs().sum() > 0


def test_predictions_follow_the_score_maps():
    """Bins of class 2 biased up most, zero deltas: the top detections are
    class 2 with the proposals' boxes, scaled back to the original image
    (mmdet's order: classes 0..C-1, then background)."""
    head = rfcn_head(num_classes=3, k=3)
    cls, reg = head.bbox_head.fc_cls, head.bbox_head.fc_reg
    for conv in (cls, reg):
        torch.nn.init.zeros_(conv.weight)
        torch.nn.init.zeros_(conv.bias)
    with torch.no_grad():
        cls.bias.view(4, 9)[1] = 5.  # every bin of class 1
        cls.bias.view(4, 9)[2] = 8.  # every bin of class 2
    data_sample = sample([], [], size=(32, 32))
    data_sample.set_metainfo(dict(scale_factor=(.5, .5), ori_shape=(64, 64)))
    result = head.predict((torch.randn(1, 16, 32, 32), ),
                          [proposals([[2, 2, 12, 12], [16, 16, 30, 28]])],
                          [data_sample],
                          rescale=True)[0]
    top = result.scores.argsort(descending=True)[:2]
    assert result.labels[top].tolist() == [2, 2]
    expected_score = torch.softmax(torch.tensor([0., 5., 8., 0.]), 0)[2]
    torch.testing.assert_close(result.scores[top], expected_score.repeat(2))
    torch.testing.assert_close(
        result.bboxes[top].sort(0).values,
        torch.tensor([[4., 4., 24., 24.], [32., 32., 60., 56.]]))
