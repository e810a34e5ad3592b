# Copyright (c) off_plugin authors. All rights reserved.
import copy

import numpy as np
import pytest
import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmaction.utils import register_all_modules
from mmengine.registry import DefaultScope

import off_plugin.recognition  # noqa: F401

register_all_modules(init_default_scope=False)

BACKBONE = dict(
    type='ResNet', depth=18, pretrained=None, out_indices=(0, 1, 2, 3))
OFF_HEAD = dict(
    type='OFFHead',
    num_classes=3,
    topk=(1, ),
    average_clips='score',
    dropout_ratio=0.,
    off_sub_network=dict(
        type='OFFSubNetwork',
        in_channels=(64, 128, 256, 512),
        off_unit=dict(reduce_channels=8),
        levels=[
            dict(
                in_indices=(0, ),
                stem_channels=8,
                out_channels=16,
                num_blocks=1,
                stem_stride=2),
            dict(
                in_indices=(1, ),
                stem_channels=8,
                out_channels=16,
                num_blocks=1,
                stem_stride=2),
            dict(
                in_indices=(2, ),
                stem_channels=8,
                out_channels=16,
                num_blocks=1),
        ]))
PREPROCESSOR = dict(
    type='ActionDataPreprocessor',
    mean=[0., 0., 0.],
    std=[1., 1., 1.],
    format_shape='NCHW')


def build(**kwargs):
    cfg = dict(
        type='OFFRecognizer',
        backbone=BACKBONE,
        cls_head=dict(
            type='TSNHead',
            num_classes=3,
            in_channels=512,
            average_clips='score'),
        off_head=OFF_HEAD,
        train_cfg=dict(num_segments=3),
        test_cfg=dict(num_segments=4),
        data_preprocessor=PREPROCESSOR)
    cfg.update(kwargs)
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmaction'):
        model = MODELS.build(cfg)
        model.init_weights()
    return model


def build_tsn(cfg):
    with DefaultScope.overwrite_default_scope('mmaction'):
        return MODELS.build(cfg)


def samples(labels):
    return [
        ActionDataSample().set_gt_label(torch.tensor([label]))
        for label in labels
    ]


def test_one_loss_per_level_and_only_off_parameters_move():
    model = build()
    model.train()
    assert not model.backbone.training and not model.cls_head.training
    frozen = {
        k: v.clone()
        for k, v in model.state_dict().items()
        if k.startswith(('backbone', 'cls_head'))
    }
    off_before = {k: v.clone() for k, v in model.off_head.state_dict().items()}
    optimizer = torch.optim.SGD(
        [p for p in model.parameters() if p.requires_grad], lr=0.5)

    losses = model.loss(torch.randn(2, 3, 3, 32, 32), samples([0, 2]))
    assert sorted(k for k in losses if k.startswith('loss')) == [
        'loss_off0', 'loss_off1', 'loss_off2'
    ]
    for key in ('loss_off0', 'loss_off1', 'loss_off2'):
        assert losses[key].item() == pytest.approx(np.log(3), abs=0.05)
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    optimizer.step()

    for k, v in model.state_dict().items():
        if k in frozen:
            assert torch.equal(v, frozen[k]), k  # BN statistics too
    moved = [
        k for k, v in model.off_head.state_dict().items()
        if not torch.equal(v, off_before[k])
    ]
    assert any(k.startswith('fcs.0') for k in moved)
    assert any('off_sub_network.levels.0.units.0.reduce' in k for k in moved)


def test_unfrozen_model_also_trains_the_tsn_head():
    model = build(freeze_feature_generation=False)
    losses = model.loss(torch.randn(2, 3, 3, 32, 32), samples([0, 1]))
    assert 'loss_cls' in losses and 'loss_off2' in losses
    assert all(p.requires_grad for p in model.backbone.parameters())


def test_test_score_is_weighted_sum_of_tsn_and_last_off_level():
    model = build(test_cfg=dict(num_segments=4, rgb_weight=0.3, off_weight=2.))
    model.eval()
    inputs = torch.randn(2, 4, 3, 32, 32)
    with torch.no_grad():
        out = model.predict(inputs, samples([0, 1]))
        tsn, off_levels = model._forward(inputs)
    expected = 0.3 * tsn + 2. * off_levels[-1]
    for sample, score in zip(out, expected):
        assert torch.allclose(sample.pred_score, score, atol=1e-5)


def test_per_level_off_weights_sum_every_level():
    model = build(
        test_cfg=dict(num_segments=4, rgb_weight=1., off_weight=(0.5, 0., 2.)))
    model.eval()
    inputs = torch.randn(2, 4, 3, 32, 32)
    with torch.no_grad():
        out = model.predict(inputs, samples([0, 1]))
        tsn, levels = model._forward(inputs)
    assert len(levels) == 3
    expected = tsn + 0.5 * levels[0] + 2. * levels[2]
    for sample, score in zip(out, expected):
        assert torch.allclose(sample.pred_score, score, atol=1e-5)
    model.test_cfg['off_weight'] = (1., 2.)
    with pytest.raises(ValueError, match='2 entries for 3 OFF levels'):
        model.predict(inputs, samples([0, 1]))


def test_multi_crop_testing_pairs_frames_within_one_crop_and_video():
    """With 2 videos x 3 crops x 4 segments the prediction of each video
    must equal the mean over its crops of the score of each crop alone."""
    model = build()
    model.eval()
    clips = torch.randn(2, 3, 4, 3, 32, 32)  # video, crop, segment
    with torch.no_grad():
        batched = model.predict(clips.flatten(1, 2), samples([0, 1]))
        for video in range(2):
            per_crop = [
                model.predict(clips[video, crop][None],
                              samples([0]))[0].pred_score for crop in range(3)
            ]
            assert torch.allclose(
                batched[video].pred_score,
                torch.stack(per_crop).mean(0),
                atol=1e-5)
        # Mixing another video's frames into a crop changes the result: the
        # check above is sensitive to wrong pairing.
        mixed = clips.clone()
        mixed[0, 0, 2:] = clips[1, 0, 2:]
        other = model.predict(mixed.flatten(1, 2), samples([0, 1]))
        assert not torch.allclose(other[0].pred_score, batched[0].pred_score)


def test_views_not_a_multiple_of_segments_is_a_clear_error():
    model = build()
    model.eval()
    with pytest.raises(ValueError, match='test_cfg.num_segments'):
        model.predict(torch.randn(1, 6, 3, 32, 32), samples([0]))


def test_stage1_checkpoint_is_loaded_and_other_models_refused(tmp_path):
    tsn = build_tsn(
        dict(
            type='Recognizer2D',
            backbone=dict(BACKBONE, out_indices=(3, )),
            cls_head=dict(type='TSNHead', num_classes=3, in_channels=512),
            data_preprocessor=PREPROCESSOR))
    torch.save(dict(state_dict=tsn.state_dict()), tmp_path / 'tsn.pth')
    model = build(feature_checkpoint=str(tmp_path / 'tsn.pth'))
    for k, v in tsn.state_dict().items():
        assert torch.equal(model.state_dict()[k], v), k

    other = build_tsn(
        dict(
            type='Recognizer2D',
            backbone=dict(BACKBONE, depth=34),
            cls_head=dict(type='TSNHead', num_classes=5, in_channels=512),
            data_preprocessor=PREPROCESSOR))
    torch.save(dict(state_dict=other.state_dict()), tmp_path / 'other.pth')
    with pytest.raises(
            ValueError,
            match='other.pth: not a checkpoint of '
            "this model's feature generation sub-network"):
        build(feature_checkpoint=str(tmp_path / 'other.pth'))


def test_a_checkpoint_of_another_model_is_refused_not_half_loaded(tmp_path):
    from mmengine.runner import load_checkpoint
    model = build()
    torch.save(dict(state_dict=model.state_dict()), tmp_path / 'off.pth')
    torch.manual_seed(1)
    again = build()
    load_checkpoint(again, str(tmp_path / 'off.pth'))
    for k, v in model.state_dict().items():
        assert torch.equal(again.state_dict()[k], v), k
    # a stage-1 TSN checkpoint given as the model's checkpoint
    tsn = {
        k: v
        for k, v in model.state_dict().items() if not k.startswith('off_head.')
    }
    torch.save(dict(state_dict=tsn), tmp_path / 'tsn.pth')
    before = copy.deepcopy(again.state_dict())
    with pytest.raises(
            ValueError,
            match='not a checkpoint of this '
            r'OFFRecognizer \(\d+ weights missing \(e.g. '
            r'off_head.*model.feature_checkpoint'):
        load_checkpoint(again, str(tmp_path / 'tsn.pth'))
    for k, v in before.items():
        assert torch.equal(again.state_dict()[k], v), k


def known_scores(model, monkeypatch, num_videos, crops, segments):
    """Make the heads return known raw scores: TSN per view (crop-major)
    and each OFF level per pair; returns them as NumPy arrays."""
    rng = np.random.default_rng(0)
    views = num_videos * crops * segments
    tsn = rng.normal(size=(views, 3)).astype(np.float32)
    levels = [
        rng.normal(size=(num_videos * crops, segments - 1,
                         3)).astype(np.float32) for _ in range(3)
    ]
    monkeypatch.setattr(
        model.cls_head,
        'forward', lambda x, num_segs: torch.from_numpy(tsn).reshape(
            -1, num_segs, 3).mean(1))
    monkeypatch.setattr(
        model.off_head, 'pair_scores',
        lambda feats, num_segs: [torch.from_numpy(v) for v in levels])
    return tsn, levels


def test_authors_max_over_crops_equals_a_hand_computation(monkeypatch):
    """test_cfg.crop_agg='max' (their tools/test.py, crop_agg=np.max):
    per stream, for every segment (pair) the maximum over the crops, then
    the mean over segments (pairs), then the fusion weights."""
    model = build(
        test_cfg=dict(
            num_segments=4,
            rgb_weight=1.,
            off_weight=(0., 1., 2.),
            crop_agg='max'))
    model.eval()
    videos, crops, segs = 2, 10, 4
    tsn, levels = known_scores(model, monkeypatch, videos, crops, segs)
    with torch.no_grad():
        out = model.predict(
            torch.randn(videos, crops * segs, 3, 32, 32), samples([0, 1]))
    for n in range(videos):
        # views are crop-major: view = crop * segments + segment
        stream = [
            np.mean([
                max(tsn[(n * crops + c) * segs + t][k] for c in range(crops))
                for t in range(segs)
            ],
                    axis=0) for k in range(3)
        ]
        off = [[
            np.mean([
                max(level[n * crops + c][p][k] for c in range(crops))
                for p in range(segs - 1)
            ]) for k in range(3)
        ] for level in levels]
        expected = (
            np.array(stream) + 0. * np.array(off[0]) + 1. * np.array(off[1]) +
            2. * np.array(off[2]))
        np.testing.assert_allclose(
            out[n].pred_score.numpy(), expected, rtol=1e-5)
    # MMAction2's mean over crops of the fused score differs
    model.test_cfg['crop_agg'] = 'mean'
    with torch.no_grad():
        mean = model.predict(
            torch.randn(videos, crops * segs, 3, 32, 32), samples([0, 1]))
    fused = (
        tsn.reshape(videos, crops, segs, 3).mean(2) +
        levels[1].reshape(videos, crops, segs - 1, 3).mean(2) +
        2 * levels[2].reshape(videos, crops, segs - 1, 3).mean(2))
    np.testing.assert_allclose(
        mean[0].pred_score.numpy(), fused[0].mean(0), rtol=1e-5)
    assert not np.allclose(mean[0].pred_score.numpy(),
                           out[0].pred_score.numpy())


def test_max_over_one_crop_is_the_mean_protocol():
    """With one crop the maximum is that crop: the real heads' per-segment
    scores, averaged, give the consensus scores of 'mean'."""
    inputs = torch.randn(2, 4, 3, 32, 32)
    scores = []
    for crop_agg in ('max', 'mean'):
        model = build(test_cfg=dict(num_segments=4, crop_agg=crop_agg))
        model.eval()
        with torch.no_grad():
            scores.append(
                torch.stack([
                    s.pred_score
                    for s in model.predict(inputs, samples([0, 1]))
                ]))
    assert torch.allclose(scores[0], scores[1], atol=1e-5)


def test_bad_crop_agg_names_the_field():
    with pytest.raises(ValueError, match="test_cfg.crop_agg='median'"):
        build(test_cfg=dict(num_segments=4, crop_agg='median'))
    with pytest.raises(ValueError, match='TSNHead, not a TSMHead'):
        build(
            cls_head=dict(
                type='TSMHead', num_classes=3, in_channels=512,
                num_segments=4),
            test_cfg=dict(num_segments=4, crop_agg='max'))


@pytest.mark.parametrize('off_unit,unit_per_map', [(None, False),
                                                   (dict(), True)])
def test_hypercolumn_control_and_unit_per_map_variants(off_unit, unit_per_map):
    head = copy.deepcopy(OFF_HEAD)
    head['off_sub_network'].update(
        off_unit=off_unit, unit_per_map=unit_per_map)
    head['off_sub_network']['levels'][1]['in_indices'] = (1, )
    model = build(off_head=head)
    losses = model.loss(torch.randn(2, 3, 3, 32, 32), samples([0, 1]))
    assert torch.isfinite(losses['loss_off2'])
    units = model.off_head.off_sub_network.levels[0].units
    assert type(units[0]).__name__ == ('HypercolumnUnit'
                                       if off_unit is None else 'OFFUnit')
