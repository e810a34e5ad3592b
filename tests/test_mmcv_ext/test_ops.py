# Copyright (c) off_plugin authors. All rights reserved.
"""mmcv's ops as mmdet calls them (``mmcv.ops``), on off-mmcv-ext, against
NumPy references of mmcv's semantics (reference.py); the gradients by
``torch.autograd.gradcheck``; the same ops on CUDA against the CPU where a
GPU is present."""
import mmcv._ext
import numpy as np
import pytest
import torch
from mmcv.ops import RoIAlign, RoIPool, batched_nms, nms, roi_align, roi_pool

from . import reference

COMPILED = mmcv._ext.__file__.endswith('.so')
needs_cuda = pytest.mark.skipif(
    not torch.cuda.is_available(), reason='needs a CUDA GPU')


def random_boxes(rng, n, size=64.0):
    xy = rng.uniform(-8, size, (n, 2))
    wh = rng.uniform(0, size / 3, (n, 2))
    return np.concatenate([xy, xy + wh], axis=1)


@pytest.mark.parametrize('offset', [0, 1])
@pytest.mark.parametrize('iou_threshold', [0.3, 0.5, 0.7])
def test_nms_keeps_what_greedy_nms_keeps(offset, iou_threshold):
    rng = np.random.default_rng(offset * 10 + int(iou_threshold * 10))
    boxes = random_boxes(rng, 100)  # and two jittered copies of each
    boxes = np.concatenate(
        [boxes] + [boxes + rng.uniform(-2, 2, boxes.shape) for _ in range(2)])
    scores = rng.uniform(size=300)
    dets, keep = nms(
        torch.from_numpy(boxes).float(),
        torch.from_numpy(scores).float(),
        iou_threshold,
        offset=offset)
    expected = reference.nms(boxes, scores, iou_threshold, offset)
    assert 20 < len(expected) < 300  # some boxes suppressed, some kept
    np.testing.assert_array_equal(keep.numpy(), expected)
    np.testing.assert_allclose(dets[:, 4].numpy(), scores[expected], 1e-6)


def test_nms_offset_counts_the_last_pixel():
    # x2 - x1 = 1: IoU 1/3 without offset (kept at 0.4), 2/4 with (dropped)
    boxes = torch.tensor([[0., 0., 1., 1.], [0., 0., 1., 2.]])
    scores = torch.tensor([0.9, 0.8])
    assert mmcv._ext.nms(boxes, scores, 0.4, 0).tolist() == [0]
    boxes = torch.tensor([[0., 0., 2., 1.], [1., 0., 3., 1.]])
    assert mmcv._ext.nms(boxes, scores, 0.4, 0).tolist() == [0, 1]
    assert mmcv._ext.nms(boxes, scores, 0.4, 1).tolist() == [0]


def test_nms_iou_equal_to_threshold_is_kept():
    boxes = torch.tensor([[0., 0., 2., 1.], [0., 0., 1., 1.]])  # IoU 0.5
    scores = torch.tensor([0.9, 0.8])
    assert mmcv._ext.nms(boxes, scores, 0.5, 0).tolist() == [0, 1]
    assert mmcv._ext.nms(boxes, scores, 0.49, 0).tolist() == [0]


@pytest.mark.skipif(
    COMPILED,
    reason="mmcv's compiled CPU nms sorts "
    'unstably: ties there may keep either box')
def test_nms_ties_keep_the_first_box():
    boxes = torch.tensor([[0., 0., 4., 4.], [0., 0., 4., 4.], [9, 9, 12, 12]])
    scores = torch.tensor([0.5, 0.5, 0.5])
    assert mmcv._ext.nms(boxes, scores, 0.5, 0).tolist() == [0, 2]
    assert mmcv._ext.nms(boxes.flip(0), scores, 0.5, 0).tolist() == [0, 1]


def test_nms_of_no_boxes():
    dets, keep = nms(torch.zeros(0, 4), torch.zeros(0), 0.5)
    assert dets.shape == (0, 5) and keep.shape == (0, ) and \
        keep.dtype == torch.int64


def test_batched_nms_suppresses_within_a_class_only():
    boxes = torch.tensor([[0., 0., 10, 10], [1, 1, 10, 10], [1, 1, 10, 10]])
    scores = torch.tensor([0.9, 0.8, 0.7])
    dets, keep = batched_nms(boxes, scores, torch.tensor([0, 0, 1]),
                             dict(type='nms', iou_threshold=0.5))
    assert keep.tolist() == [0, 2]


def roi_cases():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(2, 3, 9, 11))
    rois = np.concatenate([
        np.array([[0, 0, 2, 1], [1, 4, 6, 5], [1, 12, 3, 16]]),
        random_boxes(rng, 9, size=12.0) * 2,  # some past the borders
        np.array([
            [-6, -6, -1, -2],  # outside the map
            [3, 3, 3, 3],  # a point
            [30, 28, 44, 36]
        ]),  # beyond the map
    ])
    batch = np.array([0, 1, 0] + [i % 2 for i in range(9)] + [0, 1, 1])
    return features, np.concatenate([batch[:, None], rois], axis=1)


@pytest.mark.parametrize('aligned', [True, False])
@pytest.mark.parametrize('sampling_ratio', [0, 2])
@pytest.mark.parametrize('spatial_scale', [0.5, 1.0])
def test_roi_align_averages_bilinear_samples(aligned, sampling_ratio,
                                             spatial_scale):
    features, rois = roi_cases()
    layer = RoIAlign((3, 2), spatial_scale, sampling_ratio, 'avg', aligned)
    out = layer(torch.from_numpy(features), torch.from_numpy(rois))
    expected = reference.roi_align(features, rois, 3, 2, spatial_scale,
                                   sampling_ratio, aligned)
    assert np.abs(expected).max() > 0.1 and (expected == 0).any()
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize('aligned', [True, False])
def test_roi_align_gradient(aligned):
    features, rois = roi_cases()
    x = torch.from_numpy(features).requires_grad_()
    assert torch.autograd.gradcheck(
        lambda x: roi_align(x, torch.from_numpy(rois),
                            (2, 3), 0.5, 0, 'avg', aligned), (x, ))


def test_roi_align_of_no_rois_and_its_gradient():
    x = torch.rand(1, 4, 8, 8, requires_grad=True)
    out = RoIAlign(7, 0.25)(x, torch.zeros(0, 5))
    assert out.shape == (0, 4, 7, 7)
    out.sum().backward()
    assert torch.equal(x.grad, torch.zeros_like(x))


@pytest.mark.skipif(COMPILED, reason="the compiled mmcv has max pooling")
def test_roi_align_max_pooling_names_the_full_build():
    with pytest.raises(NotImplementedError) as error:
        RoIAlign(2, pool_mode='max')(torch.rand(1, 1, 4, 4), torch.zeros(1, 5))
    assert "'roi_align' with pool_mode='max'" in str(error.value)
    assert '--mmcv-full' in str(error.value)
    assert '\n' not in str(error.value)


no_cpu_roi_pool = pytest.mark.skipif(
    COMPILED, reason="mmcv 2.1.0's compiled RoIPool has no CPU kernel")


@no_cpu_roi_pool
@pytest.mark.parametrize('spatial_scale', [0.25, 0.5, 1.0])
def test_roi_pool_takes_the_maximum_of_mmcv_bins(spatial_scale):
    features, rois = roi_cases()
    output = torch.zeros(len(rois), 3, 3, 2, dtype=torch.float64)
    argmax = torch.zeros(len(rois), 3, 3, 2, dtype=torch.int32)
    mmcv._ext.roi_pool_forward(
        torch.from_numpy(features),
        torch.from_numpy(rois),
        output,
        argmax,
        pooled_height=3,
        pooled_width=2,
        spatial_scale=spatial_scale)
    expected, expected_argmax = reference.roi_pool(features, rois, 3, 2,
                                                   spatial_scale)
    assert (expected_argmax == -1).any() and (expected_argmax >= 0).any()
    np.testing.assert_array_equal(output.numpy(), expected)
    np.testing.assert_array_equal(argmax.numpy(), expected_argmax)
    layer_out = RoIPool((3, 2), spatial_scale)(torch.from_numpy(features),
                                               torch.from_numpy(rois))
    np.testing.assert_array_equal(layer_out.numpy(), expected)


@no_cpu_roi_pool
def test_roi_pool_gradient():
    features, rois = roi_cases()
    x = torch.from_numpy(features).requires_grad_()
    assert torch.autograd.gradcheck(
        lambda x: roi_pool(x, torch.from_numpy(rois), (2, 3), 0.5), (x, ))


def test_other_ops_stop_in_one_line_naming_op_and_full_build():
    if COMPILED:
        pytest.skip('the compiled mmcv has every op')
    with pytest.raises(NotImplementedError) as error:
        mmcv._ext.deform_conv_forward(torch.zeros(1))
    message = str(error.value)
    assert "'deform_conv_forward'" in message and '--mmcv-full' in message
    assert '\n' not in message


@needs_cuda
@pytest.mark.gpu
def test_ops_on_cuda_match_the_cpu():
    rng = np.random.default_rng(1)
    boxes = torch.from_numpy(random_boxes(rng, 500)).float()
    scores = torch.from_numpy(rng.uniform(size=500)).float()
    for offset in (0, 1):
        assert torch.equal(
            nms(boxes.cuda(), scores.cuda(), 0.5, offset=offset)[1].cpu(),
            nms(boxes, scores, 0.5, offset=offset)[1])
    features, rois = (torch.from_numpy(a).float() for a in roi_cases())
    for layer in (RoIAlign(
        (3, 2), 0.5, 0), RoIAlign(2, 1.0, 2, 'avg', False), RoIPool((3, 2),
                                                                    0.5)):
        outs, grads = [], []
        for device in ('cpu', 'cuda'):
            x = features.to(device).requires_grad_()
            out = layer(x, rois.to(device))
            out.backward(torch.ones_like(out))
            outs.append(out.detach().cpu())
            grads.append(x.grad.cpu())
        torch.testing.assert_close(outs[1], outs[0], rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(grads[1], grads[0], rtol=1e-4, atol=1e-4)
