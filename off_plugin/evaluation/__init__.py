# Copyright (c) off_plugin authors. All rights reserved.
from .clip_psnr import ClipPSNR
from .score_fusion import (check_same_videos, fuse_scores, load_dumped_scores,
                           search_weights, top_k_accuracy)
from .vid_metric import ImagenetVIDMetric

__all__ = [
    'load_dumped_scores', 'fuse_scores', 'top_k_accuracy', 'search_weights',
    'check_same_videos', 'ImagenetVIDMetric', 'ClipPSNR'
]
