# Copyright (c) off_plugin authors. All rights reserved.
"""Scores of ``mim test ... --dump results.pkl`` files: loading, weighted
fusion of streams and top-k accuracy."""
from typing import Sequence, Tuple

import numpy as np
from mmengine.fileio import load


def load_dumped_scores(path: str) -> Tuple[np.ndarray, np.ndarray]:
    """(num_videos, num_classes) scores and (num_videos, ) labels of a dump
    written by MMAction2's test tool (``--dump``)."""
    results = load(path)
    try:
        scores = np.stack([np.asarray(r['pred_score']) for r in results])
        labels = np.array([int(np.asarray(r['gt_label']).reshape(-1)[0])
                           for r in results])
    except (KeyError, TypeError) as err:
        raise ValueError(
            f'{path}: not a recognition result dump (each entry needs '
            f"'pred_score' and 'gt_label'); write it with `mim test mmaction "
            f'<config> --checkpoint <ckpt> --dump {path}`.') from err
    return scores, labels


def fuse_scores(scores: Sequence[np.ndarray],
                weights: Sequence[float]) -> np.ndarray:
    """Weighted sum of the streams' (num_videos, num_classes) scores."""
    if len(scores) != len(weights):
        raise ValueError(f'{len(scores)} score sets but {len(weights)} '
                         'weights: give one weight per stream.')
    return sum(w * s for w, s in zip(weights, scores))


def top_k_accuracy(scores: np.ndarray, labels: np.ndarray, k: int = 1
                   ) -> float:
    """Fraction of videos whose label is among the k highest scores."""
    top = np.argsort(-scores, axis=1)[:, :k]
    return float((top == labels[:, None]).any(axis=1).mean())
