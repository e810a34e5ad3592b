# Copyright (c) off_plugin authors. All rights reserved.
import numpy as np
from mmaction.registry import TRANSFORMS
from mmcv.transforms import BaseTransform


@TRANSFORMS.register_module()
class FormatRGBDiff(BaseTransform):
    """Stack the RGB differences of every segment on channels: TSN's RGB
    difference modality, the input-level temporal gradient of the paper.

    ``imgs``: ``M = crops * num_clips * clip_len`` frames (H, W, 3), the
    frames of one segment consecutive (as the samplers and the crop
    transforms give them) -> (crops * num_clips, 3 * (clip_len - 1), H, W)
    float32 with ``frame[i + 1] - frame[i]`` in channels ``3i..3i+2``. Use it
    in place of ``FormatShape``, with ``backbone.in_channels = 3 * (clip_len
    - 1)``.

    Required keys: ``imgs``, ``clip_len``. Modified keys: ``imgs``. Added
    keys: ``input_shape``.
    """

    def transform(self, results: dict) -> dict:
        clip_len = results['clip_len']
        imgs = np.asarray(results['imgs'], dtype=np.float32)
        if clip_len < 2 or imgs.ndim != 4 or len(imgs) % clip_len:
            raise ValueError(
                f'FormatRGBDiff: {results.get("filename")!r} gives '
                f'{len(imgs)} frames of shape {imgs.shape[1:]} with '
                f'clip_len={clip_len}; RGB differences need clip_len >= 2 '
                'frames per segment (set clip_len of the sampling transform, '
                'e.g. 6 for 5 differences) and (H, W, 3) frames.')
        imgs = imgs.reshape((-1, clip_len) + imgs.shape[1:])
        diffs = np.diff(imgs, axis=1)  # (segments, clip_len - 1, H, W, C)
        diffs = diffs.transpose(0, 1, 4, 2, 3)
        results['imgs'] = np.ascontiguousarray(
            diffs.reshape((len(diffs), -1) + diffs.shape[-2:]))
        results['input_shape'] = results['imgs'].shape
        return results
