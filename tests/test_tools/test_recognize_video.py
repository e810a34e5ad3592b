# Copyright (c) off_plugin authors. All rights reserved.
"""MMAction2's own ``init_recognizer`` / ``inference_recognizer`` on an OFF
config give the fused TSN + OFF score; demo/recognize_video.py uses them,
takes ``--cfg-options``, fails in one line and writes nothing."""
import runpy

import numpy as np
import pytest
import torch
from data_safety import assert_unchanged, checksums
from mmaction.apis import inference_recognizer, init_recognizer
from mmaction.registry import MODELS
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope
from motion_videos import MOTIONS, render_clip, write_video
from tiny_runs import ROOT, STAGE2

from off_plugin.utils import ToolError

TOOL = str(ROOT / 'demo' / 'recognize_video.py')


@pytest.fixture(scope='module')
def demo(tmp_path_factory):
    """A demo-format checkpoint of the motion-demo OFF config (random
    weights, ``meta`` and ``state_dict``), a motion video and the class
    list, in one folder."""
    root = tmp_path_factory.mktemp('recognize_video')
    cfg = Config.fromfile(STAGE2)
    cfg.model.feature_checkpoint = None
    init_default_scope('mmaction')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    torch.save(
        dict(
            meta=dict(epoch=10, cfg=cfg.pretty_text),
            state_dict=model.state_dict()), root / 'off.pth')
    frames = render_clip(
        np.random.default_rng(1),
        MOTIONS['move_left'],
        size=64,
        num_frames=24,
        speed=1,
        patch=16)
    write_video(str(root / 'clip.mp4'), frames)
    (root / 'classes.txt').write_text('\n'.join(MOTIONS) + '\n')
    return root


def fused_by_hand(model, video, rgb_weight=1., off_weight=1.):
    """softmax(rgb_weight * TSN + off_weight * last OFF level) of the demo
    config's test pipeline output ('prob' averaging over its one crop)."""
    data = Compose(model.cfg.test_pipeline)(
        dict(filename=video, label=-1, start_index=0, modality='RGB'))
    inputs = model.data_preprocessor(
        dict(inputs=[data['inputs']], data_samples=None))['inputs']
    assert inputs.shape == (1, 8, 3, 56, 56)  # 8 segments, one crop
    with torch.no_grad():
        maps = model.backbone(inputs.flatten(0, 1))
        tsn = model.cls_head(maps[-1], num_segs=8)
        off = model.off_head(maps, num_segs=8)[-1]
    return torch.softmax(rgb_weight * tsn + off_weight * off, dim=1)[0]


def test_inference_recognizer_gives_the_fused_score(demo):
    model = init_recognizer(str(STAGE2), str(demo / 'off.pth'), device='cpu')
    saved = torch.load(demo / 'off.pth')['state_dict']
    for key, value in saved.items():
        assert torch.equal(model.state_dict()[key], value), key
    result = inference_recognizer(model, str(demo / 'clip.mp4'))
    expected = fused_by_hand(model, str(demo / 'clip.mp4'))
    torch.testing.assert_close(
        result.pred_score, expected, rtol=1e-5, atol=1e-6)
    assert int(result.pred_label) == int(expected.argmax())


def test_tool_prints_the_top_classes_with_cfg_options_and_writes_nothing(
        demo, capsys):
    before = checksums(demo)
    tool = runpy.run_path(TOOL)
    results = tool['main']([
        str(STAGE2),
        str(demo / 'off.pth'),
        str(demo / 'clip.mp4'), '--label-file',
        str(demo / 'classes.txt'), '--topk', '2', '--cfg-options',
        'model.test_cfg.rgb_weight=0'
    ])
    printed = capsys.readouterr().out.splitlines()[-2:]
    model = init_recognizer(str(STAGE2), str(demo / 'off.pth'), device='cpu')
    expected = fused_by_hand(model, str(demo / 'clip.mp4'), rgb_weight=0.)
    values, indices = expected.topk(2)
    assert [name for name, _ in results] == [list(MOTIONS)[i] for i in indices]
    np.testing.assert_allclose([score for _, score in results],
                               values,
                               rtol=1e-5)
    assert printed == [f'{name}: {score:.4f}' for name, score in results]
    assert_unchanged(before, demo)


def test_tool_errors_name_the_file_and_fix(demo, tmp_path):
    tool = runpy.run_path(TOOL)
    args = [str(STAGE2), str(demo / 'off.pth'), str(demo / 'clip.mp4')]
    two = tmp_path / 'two.txt'
    two.write_text('a\nb\n')
    with pytest.raises(
            ToolError,
            match='--label-file has 2 names but the '
            'model of .* scores 4 classes'):
        tool['main']([*args, '--label-file', str(two)])
    with pytest.raises(ToolError, match='nothing.pth: no such checkpoint'):
        tool['main']([
            str(STAGE2),
            str(tmp_path / 'nothing.pth'),
            str(demo / 'clip.mp4')
        ])
    with pytest.raises(ToolError, match='nothing.mp4: no such video'):
        tool['main']([*args[:2], str(tmp_path / 'nothing.mp4')])
    with pytest.raises(ToolError, match='nothing.py: no such config'):
        tool['main']([str(tmp_path / 'nothing.py'), *args[1:]])
    assert not list(tmp_path.iterdir())[1:]  # two.txt only
