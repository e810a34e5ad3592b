# Copyright (c) off_plugin authors. All rights reserved.
"""ClipPSNR: MMagic's PSNR, plus every clip's value in a json."""
import json

import numpy as np
import pytest
import torch
from mmagic.evaluation.metrics import PSNR
from mmagic.registry import METRICS
from mmengine.registry import DefaultScope

import off_plugin.restoration  # noqa: F401


def sample(name, gt, pred):
    return dict(
        gt_path=f'{name}/im4.png', gt_img=gt, output=dict(pred_img=pred))


def test_clip_psnr_writes_each_clip_and_averages_like_psnr(tmp_path):
    rng = np.random.default_rng(0)
    gt = [
        torch.from_numpy(rng.integers(0, 256, (3, 8, 8))).float()
        for _ in range(3)
    ]
    # one clip off by 2 grey levels everywhere: 20 log10(255 / 2) dB
    pred = [
        gt[0] + 2, gt[1] + rng.normal(0, 4, (3, 8, 8)),
        gt[2] + rng.normal(0, 8, (3, 8, 8))
    ]
    samples = [
        sample(f'clip{i}', g, p.float())
        for i, (g, p) in enumerate(zip(gt, pred))
    ]
    out = tmp_path / 'per_clip.json'
    with DefaultScope.overwrite_default_scope('mmagic'):
        metric = METRICS.build(dict(type='ClipPSNR', out_file=str(out)))
    reference = PSNR()
    for m in (metric, reference):
        m.process(None, samples[:2])
        m.process(None, samples[2:])
    result = metric.compute_metrics(metric.results)
    assert result == reference.compute_metrics(reference.results)
    per_clip = json.loads(out.read_text())
    assert list(per_clip) == [
        'clip0/im4.png', 'clip1/im4.png', 'clip2/im4.png'
    ]
    assert per_clip['clip0/im4.png'] == pytest.approx(20 * np.log10(255 / 2))
    assert per_clip['clip1/im4.png'] > per_clip['clip2/im4.png']
    assert np.mean(list(per_clip.values())) == pytest.approx(result['PSNR'])
