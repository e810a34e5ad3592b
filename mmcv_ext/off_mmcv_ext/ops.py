# Copyright (c) off_plugin authors. All rights reserved.
"""The functions of mmcv 2.1.0's ``mmcv._ext`` that off_plugin's configs
call, with mmcv's signatures and semantics, on torchvision's kernels (CPU
and CUDA, prebuilt). Loaded as ``mmcv._ext`` by :mod:`off_mmcv_ext`.

- ``nms``: greedy NMS, mmcv's ``offset`` (1: a box is ``x2 - x1 + 1``
  wide) by shifting the far corners.
- ``roi_align_forward`` / ``roi_align_backward``: average pooling
  (``pool_mode=1``), ``aligned``, ``sampling_ratio`` (0: adaptive) and
  ``spatial_scale`` as mmcv's (and torchvision's, both after Detectron2);
  the backward pass is torchvision's, through autograd.
- ``roi_pool_forward`` / ``roi_pool_backward``: mmcv's bins (RoI corners
  scaled without rounding, ``x2 + 1``, bins floored and ceiled), each bin's
  maximum by torchvision's RoIPool kernel; the backward pass routes each
  output's gradient to its argmax.

Every other function of mmcv's extension (rotated boxes, deformable
convolution, 3D point ops, ...) stops, when called, with one line naming
the op and the full build.
"""
import torch
import torchvision
from torch import Tensor
from torchvision.ops import roi_align as tv_roi_align

FULL_BUILD = ('bash tools/setup_env.sh --mmcv-full (or pip install '
              '--no-build-isolation mmcv==2.1.0) compiles all of them')


def _unsupported(op: str, what: str) -> NotImplementedError:
    return NotImplementedError(
        f"mmcv op '{op}' {what}: off-mmcv-ext (mmcv._ext for mmcv-lite) "
        f'implements nms, roi_align and roi_pool only; {FULL_BUILD}')


def __getattr__(name: str):
    """Any other public name of mmcv's extension: a function that stops
    with one line when called (``mmcv.ops`` looks its names up at import
    and only fails when an op runs)."""
    if name.startswith('_'):
        raise AttributeError(name)

    def op(*args, **kwargs):
        raise _unsupported(name, 'needs the compiled mmcv')

    op.__name__ = op.__qualname__ = name
    return op


def get_compiler_version() -> str:
    """What ``mmcv.ops.get_compiler_version`` reports (environment logs)."""
    return f'none: off-mmcv-ext on torchvision {torchvision.__version__}'


def get_compiling_cuda_version() -> str:
    """The CUDA version of torch's (and torchvision's) build."""
    return torch.version.cuda or 'not available'


def nms(boxes: Tensor,
        scores: Tensor,
        iou_threshold: float,
        offset: int = 0) -> Tensor:
    """Indices of the boxes that greedy NMS keeps, by decreasing score.

    Args:
        boxes: (N, 4) x1, y1, x2, y2.
        scores: (N, ).
        iou_threshold: a box is dropped when its IoU with a kept, higher
            scoring box exceeds this.
        offset: 0, or 1 for mmcv's legacy pixel convention (widths and
            heights ``x2 - x1 + 1``).

    Returns:
        (K, ) int64.
    """
    if offset not in (0, 1):
        raise ValueError(f'nms: offset must be 0 or 1, got {offset}')
    if offset:
        boxes = torch.cat([boxes[:, :2], boxes[:, 2:] + offset], dim=1)
    return torchvision.ops.nms(boxes, scores, float(iou_threshold))


def _check_avg(pool_mode: int) -> None:
    if pool_mode != 1:
        raise _unsupported('roi_align', "with pool_mode='max'")


def roi_align_forward(input: Tensor, rois: Tensor, output: Tensor,
                      argmax_y: Tensor, argmax_x: Tensor, aligned_height: int,
                      aligned_width: int, spatial_scale: float,
                      sampling_ratio: int, pool_mode: int,
                      aligned: bool) -> None:
    """Fills ``output`` (K, C, aligned_height, aligned_width) with the
    RoIAlign of ``input`` (N, C, H, W) over ``rois`` (K, 5: batch index, x1,
    y1, x2, y2). ``argmax_y`` / ``argmax_x`` serve max pooling only."""
    _check_avg(pool_mode)
    output.copy_(
        tv_roi_align(input, rois, (aligned_height, aligned_width),
                     spatial_scale, sampling_ratio, aligned))


def roi_align_backward(grad_output: Tensor, rois: Tensor, argmax_y: Tensor,
                       argmax_x: Tensor, grad_input: Tensor,
                       aligned_height: int, aligned_width: int,
                       spatial_scale: float, sampling_ratio: int,
                       pool_mode: int, aligned: bool) -> None:
    """Adds to ``grad_input`` (N, C, H, W) the gradient of RoIAlign given
    ``grad_output`` (K, C, aligned_height, aligned_width). RoIAlign is
    linear in its input, so the gradient at zeros is the gradient."""
    _check_avg(pool_mode)
    with torch.enable_grad():
        zeros = grad_input.new_zeros(grad_input.shape, requires_grad=True)
        pooled = tv_roi_align(zeros, rois, (aligned_height, aligned_width),
                              spatial_scale, sampling_ratio, aligned)
        grad, = torch.autograd.grad(pooled, zeros, grad_output)
    grad_input.add_(grad)


def _roi_pool_bins(rois: Tensor, pooled_height: int, pooled_width: int,
                   spatial_scale: float, height: int, width: int) -> tuple:
    """mmcv's RoIPool bins as integer windows ``[x1, x2) x [y1, y2)``.

    Returns:
        boxes: (K * PH * PW, 5) batch index, x1, y1, x2 - 1, y2 - 1: each
            bin as a box torchvision's RoIPool pools whole (1 x 1 output at
            scale 1 covers ``[round(x1), round(x2) + 1)``).
        empty: (K, PH, PW) bool, bins with no pixel (pooled to 0).
    """
    scale = rois.new_tensor(spatial_scale)
    x1, y1 = rois[:, 1] * scale, rois[:, 2] * scale
    x2, y2 = (rois[:, 3] + 1) * scale, (rois[:, 4] + 1) * scale

    def edges(start, end, bins, size):
        step = (end - start) / bins
        index = torch.arange(bins, device=rois.device, dtype=rois.dtype)
        lo = torch.floor(index * step[:, None] + start[:, None])
        hi = torch.ceil((index + 1) * step[:, None] + start[:, None])
        degenerate = (end - start <= 0)[:, None]
        return lo.clamp(0, size), hi.clamp(0, size), degenerate

    bx1, bx2, bad_w = edges(x1, x2, pooled_width, width)
    by1, by2, bad_h = edges(y1, y2, pooled_height, height)
    k = rois.size(0)
    shape = (k, pooled_height, pooled_width)
    bx1, bx2 = bx1[:, None, :].expand(shape), bx2[:, None, :].expand(shape)
    by1, by2 = by1[:, :, None].expand(shape), by2[:, :, None].expand(shape)
    empty = (bx2 <= bx1) | (by2 <= by1) | (bad_w | bad_h)[:, :, None]
    batch = rois[:, :1, None].expand(k, pooled_height, pooled_width)
    boxes = torch.stack([batch, bx1, by1, bx2 - 1, by2 - 1], dim=-1)
    return boxes.reshape(-1, 5), empty


def roi_pool_forward(input: Tensor, rois: Tensor, output: Tensor,
                     argmax: Tensor, pooled_height: int, pooled_width: int,
                     spatial_scale: float) -> None:
    """Fills ``output`` (K, C, PH, PW) with the RoI max pooling of
    ``input`` (N, C, H, W) over ``rois`` (K, 5), and ``argmax`` (same
    shape, int32) with each maximum's index in H * W (-1: empty bin)."""
    k, channels = rois.size(0), input.size(1)
    if k == 0:
        return
    boxes, empty = _roi_pool_bins(rois, pooled_height, pooled_width,
                                  spatial_scale, input.size(2), input.size(3))
    # torchvision.ops.roi_pool returns the maxima only; its op also gives
    # their indices, which the backward pass needs.
    pooled, index = torch.ops.torchvision.roi_pool(input, boxes, 1.0, 1, 1)
    empty = empty[:, None].expand(k, channels, pooled_height, pooled_width)

    def to_output(t):  # (K * PH * PW, C, 1, 1) -> (K, C, PH, PW)
        return t.reshape(k, pooled_height, pooled_width,
                         channels).permute(0, 3, 1, 2)

    output.copy_(to_output(pooled).masked_fill(empty, 0))
    argmax.copy_(to_output(index).masked_fill(empty, -1))


def roi_pool_backward(grad_output: Tensor, rois: Tensor, argmax: Tensor,
                      grad_input: Tensor, pooled_height: int,
                      pooled_width: int, spatial_scale: float) -> None:
    """Adds each ``grad_output`` (K, C, PH, PW) value to ``grad_input``
    (N, C, H, W) at its maximum's position ``argmax``."""
    k, channels, height, width = (rois.size(0), *grad_input.shape[1:])
    if k == 0:
        return
    batch = rois[:, 0].long()[:, None, None, None]
    plane = batch * channels + torch.arange(
        channels, device=rois.device)[None, :, None, None]
    flat = plane * (height * width) + argmax.long()
    pooled = argmax >= 0
    grad_input.view(-1).index_add_(0, flat[pooled],
                                   grad_output[pooled].to(grad_input.dtype))
