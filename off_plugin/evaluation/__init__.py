# Copyright (c) off_plugin authors. All rights reserved.
from .score_fusion import fuse_scores, load_dumped_scores, top_k_accuracy

__all__ = ['load_dumped_scores', 'fuse_scores', 'top_k_accuracy']
