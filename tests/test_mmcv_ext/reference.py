# Copyright (c) off_plugin authors. All rights reserved.
"""NumPy references of mmcv 2.1.0's op semantics, written from mmcv's
documentation and kernels' rules (not from off_mmcv_ext), one loop per
output element, in float64."""
import math

import numpy as np


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float,
        offset: int) -> np.ndarray:
    """Greedy NMS: visit boxes by decreasing score (ties: lower index
    first), keep a box unless its IoU with a kept box exceeds the
    threshold. ``offset`` is added to every width and height."""
    order = np.argsort(-scores, kind='stable')
    x1, y1, x2, y2 = boxes.T
    areas = (x2 - x1 + offset) * (y2 - y1 + offset)
    keep = []
    for i in order:
        suppressed = False
        for k in keep:
            w = max(0.0, min(x2[i], x2[k]) - max(x1[i], x1[k]) + offset)
            h = max(0.0, min(y2[i], y2[k]) - max(y1[i], y1[k]) + offset)
            inter = w * h
            if inter / (areas[i] + areas[k] - inter) > iou_threshold:
                suppressed = True
                break
        if not suppressed:
            keep.append(i)
    return np.array(keep, dtype=np.int64)


def _bilinear(plane: np.ndarray, y: float, x: float) -> float:
    """A (H, W) plane at (y, x): 0 beyond one pixel outside, coordinates
    below 0 read as 0, the last row / column extends outwards."""
    height, width = plane.shape
    if y < -1.0 or y > height or x < -1.0 or x > width:
        return 0.0
    y, x = max(y, 0.0), max(x, 0.0)
    y0, x0 = int(y), int(x)
    if y0 >= height - 1:
        y0 = y1 = height - 1
        y = float(y0)
    else:
        y1 = y0 + 1
    if x0 >= width - 1:
        x0 = x1 = width - 1
        x = float(x0)
    else:
        x1 = x0 + 1
    ly, lx = y - y0, x - x0
    return ((1 - ly) * (1 - lx) * plane[y0, x0] +
            (1 - ly) * lx * plane[y0, x1] + ly * (1 - lx) * plane[y1, x0] +
            ly * lx * plane[y1, x1])


def roi_align(features: np.ndarray, rois: np.ndarray, out_h: int, out_w: int,
              spatial_scale: float, sampling_ratio: int,
              aligned: bool) -> np.ndarray:
    """Average RoIAlign. features (N, C, H, W), rois (K, 5) -> (K, C,
    out_h, out_w). ``aligned``: pixel centres at +0.5 (RoI shifted by
    -0.5); otherwise RoIs are at least 1 x 1. Each bin averages a grid of
    ``sampling_ratio`` (0: ceil(RoI size / bins)) samples a side."""
    k, channels = rois.shape[0], features.shape[1]
    out = np.zeros((k, channels, out_h, out_w))
    shift = 0.5 if aligned else 0.0
    for n in range(k):
        b = int(rois[n, 0])
        x1, y1, x2, y2 = rois[n, 1:] * spatial_scale - shift
        roi_w, roi_h = x2 - x1, y2 - y1
        if not aligned:
            roi_w, roi_h = max(roi_w, 1.0), max(roi_h, 1.0)
        bin_w, bin_h = roi_w / out_w, roi_h / out_h
        grid_h = sampling_ratio or math.ceil(roi_h / out_h)
        grid_w = sampling_ratio or math.ceil(roi_w / out_w)
        count = max(grid_h * grid_w, 1)
        for c in range(channels):
            for ph in range(out_h):
                for pw in range(out_w):
                    total = 0.0
                    for iy in range(grid_h):
                        y = y1 + ph * bin_h + (iy + 0.5) * bin_h / grid_h
                        for ix in range(grid_w):
                            x = x1 + pw * bin_w + (ix + 0.5) * bin_w / grid_w
                            total += _bilinear(features[b, c], y, x)
                    out[n, c, ph, pw] = total / count
    return out


def roi_pool(features: np.ndarray, rois: np.ndarray, out_h: int, out_w: int,
             spatial_scale: float) -> tuple:
    """Max RoI pooling as mmcv's: the RoI spans [x1 * s, (x2 + 1) * s), cut
    into equal bins, each widened to whole pixels (floor / ceil) and
    clipped to the map; an empty bin (or RoI) pools 0 with argmax -1.
    Returns (K, C, out_h, out_w) maxima and their argmax in H * W."""
    k, channels = rois.shape[0], features.shape[1]
    height, width = features.shape[2:]
    out = np.zeros((k, channels, out_h, out_w))
    argmax = np.full((k, channels, out_h, out_w), -1, dtype=np.int64)
    for n in range(k):
        b = int(rois[n, 0])
        x1, y1 = rois[n, 1] * spatial_scale, rois[n, 2] * spatial_scale
        x2 = (rois[n, 3] + 1) * spatial_scale
        y2 = (rois[n, 4] + 1) * spatial_scale
        if x2 - x1 <= 0 or y2 - y1 <= 0:
            continue
        bin_w, bin_h = (x2 - x1) / out_w, (y2 - y1) / out_h
        for ph in range(out_h):
            ys = min(max(math.floor(ph * bin_h + y1), 0), height)
            ye = min(max(math.ceil((ph + 1) * bin_h + y1), 0), height)
            for pw in range(out_w):
                xs = min(max(math.floor(pw * bin_w + x1), 0), width)
                xe = min(max(math.ceil((pw + 1) * bin_w + x1), 0), width)
                if ye <= ys or xe <= xs:
                    continue
                for c in range(channels):
                    window = features[b, c, ys:ye, xs:xe]
                    i = int(np.argmax(window))  # first maximum, row-major
                    out[n, c, ph, pw] = window.flat[i]
                    argmax[n, c, ph,
                           pw] = ((ys + i // window.shape[1]) * width + xs +
                                  i % window.shape[1])
    return out, argmax
