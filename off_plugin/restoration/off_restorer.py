# Copyright (c) off_plugin authors. All rights reserved.
from typing import List, Optional

import torch
from mmagic.models import BaseEditModel
from mmagic.registry import MODELS
from mmagic.structures import DataSample


@MODELS.register_module()
class OFFRestorer(BaseEditModel):
    """Multi-frame restorer: several compressed frames in, the target
    frame restored (MMagic's ``BaseEditModel`` with its ``DataSample``s:
    ``gt_img`` is the target frame, ``output.pred_img`` the restored one,
    so MMagic's ``PSNR`` / ``SSIM`` metrics score the target frame only).

    Shapes: ``inputs`` (N, T, C, H, W) with ``T = generator.num_frames``
    (or (N, C, H, W) for a one-frame generator such as ``DnCNN``) ->
    (N, C, H, W).

    Args:
        generator (dict): ``DnCNN``, ``DnCNNOFF`` or any generator with a
            ``num_frames`` attribute.
        pixel_loss (dict): Loss between the output and ``gt_img``.
        kwargs: ``BaseEditModel`` arguments.
    """

    def forward_tensor(self,
                       inputs: torch.Tensor,
                       data_samples: Optional[List[DataSample]] = None,
                       **kwargs) -> torch.Tensor:
        num_frames = getattr(self.generator, 'num_frames', 1)
        if inputs.ndim == 5:
            if inputs.shape[1] != num_frames:
                raise ValueError(
                    f'OFFRestorer: the pipeline gives {inputs.shape[1]} '
                    f'frames per sample but {type(self.generator).__name__} '
                    f'takes {num_frames}; set the dataset\'s '
                    'num_input_frames to the generator\'s num_frames.')
            if num_frames == 1:
                inputs = inputs[:, 0]
        if data_samples is not None and 'gt_img' in data_samples:
            gt_size = tuple(data_samples.gt_img.shape[-2:])
            if tuple(inputs.shape[-2:]) != gt_size:
                raise ValueError(
                    f'OFFRestorer: input frames of {tuple(inputs.shape[-2:])} '
                    f'pixels but a target of {gt_size}; the compressed and '
                    'original frames must have the same size (re-run '
                    'tools/data/compress_vimeo90k.py on these clips).')
        return self.generator(inputs, **kwargs)
