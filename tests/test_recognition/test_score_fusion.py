# Copyright (c) off_plugin authors. All rights reserved.
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch

from off_plugin.recognition import (check_same_videos, fuse_scores,
                                    search_weights, top_k_accuracy)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))


def test_score_fusion_arithmetic():
    rgb = np.array([[2., 1., 0.], [0., 1., 3.], [1., 0., .5]])
    off = np.array([[0., 3., 0.], [0., 0., 1.], [0., 2., 0.]])
    labels = np.array([1, 2, 1])
    fused = fuse_scores([rgb, off], [1., 2.])
    assert np.array_equal(fused, rgb + 2 * off)
    assert top_k_accuracy(rgb, labels) == pytest.approx(1 / 3)
    assert top_k_accuracy(fused, labels) == 1.
    assert top_k_accuracy(rgb, labels, k=2) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match='one weight per stream'):
        fuse_scores([rgb, off], [1.])


def test_top_k_accuracy_is_mmaction2s():
    """MMAction2's own (its AccMetric's), ties included: of equal scores
    the higher class ranks first."""
    from mmaction.evaluation.functional import top_k_accuracy as mmaction2s
    scores = np.array([[1., 1., 0.], [0., 2., 2.]])
    labels = np.array([0, 1])
    assert top_k_accuracy(scores, labels) == 0.
    assert top_k_accuracy(scores, labels, k=2) == 1.
    rng = np.random.default_rng(0)
    scores, labels = rng.normal(size=(50, 6)), rng.integers(0, 6, 50)
    assert [top_k_accuracy(scores, labels, k) for k in (1, 3)] == \
        mmaction2s(scores, labels, (1, 3))


def streams(rng, num=400, classes=5):
    """Two noisy streams of the same labels; the second is the better."""
    labels = rng.integers(0, classes, num)
    onehot = np.eye(classes)[labels]
    return [onehot + rng.normal(0, s, onehot.shape) for s in (1.2, .6)], \
        labels


def test_weight_search_prefers_the_better_stream():
    rng = np.random.default_rng(0)
    (a, b), labels = streams(rng)
    weights, top1 = search_weights([a, b], labels, grid=(0., .5, 1., 4.))
    assert weights[0] == 1. and weights[1] > 1.
    assert top1 == max(
        top_k_accuracy(fuse_scores([a, b], [1., w]), labels)
        for w in (0., .5, 1., 4.))
    assert top1 > top_k_accuracy(a, labels)


def test_dumps_of_other_videos_are_refused():
    with pytest.raises(ValueError, match='b.pkl and a.pkl do not hold'):
        check_same_videos(
            [np.array([0, 1]), np.array([1, 0])], ['a.pkl', 'b.pkl'])


def dump(path, scores, labels):
    """The layout of MMAction2's --dump: a list of dicts of tensors."""
    with open(path, 'wb') as f:
        pickle.dump([
            dict(
                pred_score=torch.tensor(s),
                gt_label=torch.tensor([int(label)]))
            for s, label in zip(scores, labels)
        ], f)


@pytest.mark.slow
def test_cli_searches_on_val_and_reports_on_test(tmp_path):
    rng = np.random.default_rng(1)
    paths = {}
    for split in ('val', 'test'):
        (a, b), labels = streams(rng)
        for name, s in (('rgb', a), ('off', b)):
            paths[split, name] = str(tmp_path / f'{split}_{name}.pkl')
            dump(paths[split, name], s, labels)
    proc = subprocess.run([
        sys.executable,
        os.path.join(ROOT, 'tools', 'analysis_tools', 'fuse_scores.py'),
        paths['test', 'rgb'], paths['test', 'off'], '--search-on',
        paths['val', 'rgb'], paths['val', 'off']
    ],
                          capture_output=True,
                          text=True,
                          check=True)
    lines = proc.stdout.splitlines()
    assert lines[0].startswith('weights searched on 400 validation videos')
    top1 = {line.split()[0]: float(line.split()[-2]) for line in lines[2:]}
    a, b = [pickle.load(open(paths['test', n], 'rb')) for n in ('rgb', 'off')]
    labels = np.array([int(r['gt_label']) for r in a])
    sa, sb = (np.stack([r['pred_score'].numpy() for r in x]) for x in (a, b))
    assert top1[paths['test', 'rgb']] == round(top_k_accuracy(sa, labels), 4)
    assert top1['fused'] >= top1[paths['test', 'rgb']]
