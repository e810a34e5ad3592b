# Copyright (c) off_plugin authors. All rights reserved.
"""Scores of ``mim test ... --dump results.pkl`` files: loading, weighted
fusion of streams and top-k accuracy (MMAction2's, as its ``AccMetric`` and
``report_accuracy.py`` compute it)."""
import itertools
from typing import Sequence, Tuple

import numpy as np
from mmaction.evaluation import functional
from mmengine.fileio import load


def load_dumped_scores(path: str) -> Tuple[np.ndarray, np.ndarray]:
    """(num_videos, num_classes) scores and (num_videos, ) labels of a dump
    written by MMAction2's test tool (``--dump``)."""
    results = load(path)
    try:
        scores = np.stack([np.asarray(r['pred_score']) for r in results])
        labels = np.array(
            [int(np.asarray(r['gt_label']).reshape(-1)[0]) for r in results])
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


def top_k_accuracy(scores: np.ndarray,
                   labels: np.ndarray,
                   k: int = 1) -> float:
    """Fraction of videos whose label is among the k highest scores:
    MMAction2's ``top_k_accuracy`` for one k."""
    return float(functional.top_k_accuracy(scores, labels, (k, ))[0])


def search_weights(
    scores: Sequence[np.ndarray],
    labels: np.ndarray,
    grid: Sequence[float] = tuple(np.arange(0, 3.01, .25))
) -> Tuple[Tuple[float, ...], float]:
    """Fusion weights with the best top-1 on a validation split.

    The first stream's weight is 1 (only ratios matter); every other
    stream's weight goes over ``grid``. Ties go to the first combination in
    grid order. Returns ``(weights, top1)``.
    """
    best, best_acc = None, -1.
    for rest in itertools.product(grid, repeat=len(scores) - 1):
        weights = (1., ) + tuple(float(w) for w in rest)
        acc = top_k_accuracy(fuse_scores(scores, weights), labels)
        if acc > best_acc:
            best, best_acc = weights, acc
    return best, best_acc


def check_same_videos(labels: Sequence[np.ndarray],
                      names: Sequence[str]) -> None:
    """Dumps of one split list the same videos in the same order: their
    labels must agree."""
    for lab, name in zip(labels[1:], names[1:]):
        if lab.shape != labels[0].shape or (lab != labels[0]).any():
            raise ValueError(
                f'{name} and {names[0]} do not hold the same videos in the '
                f'same order ({len(lab)} vs {len(labels[0])} results, labels '
                'differ); dump every stream with the same annotation file '
                'and an unshuffled test dataloader.')
