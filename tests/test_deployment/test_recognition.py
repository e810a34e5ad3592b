# Copyright (c) off_plugin authors. All rights reserved.
"""Recognizers exported to ONNX give PyTorch's test scores on ONNX Runtime:
the demo OFF recognizer on random and demo clips (and through the
inference tool), and every paper family at small sizes."""
import runpy

import numpy as np
import pytest
import torch
from data_safety import assert_unchanged, checksums
from mmaction.apis import inference_recognizer, init_recognizer
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from motion_videos import MOTIONS, render_clip, write_video
from tiny_runs import RECOGNITION, ROOT, STAGE2

from off_plugin.deployment import recognition
from off_plugin.deployment.backend import Graph, ORTModel

TOOL = str(ROOT / 'demo' / 'recognize_video.py')


def random_weights(model):
    """Every weight random, so that no part of the graph is an identity or
    zero (TSN's head starts at zero bias, OFF's last layers small)."""
    torch.manual_seed(0)
    with torch.no_grad():
        for param in model.parameters():
            param.normal_(0, 0.1)
    return model


@pytest.fixture(scope='module')
def demo(tmp_path_factory):
    """The motion-demo OFF recognizer with random weights as a checkpoint,
    its export, and a motion video."""
    root = tmp_path_factory.mktemp('deploy_recognition')
    cfg = Config.fromfile(STAGE2)
    model = random_weights(recognition.init_model(cfg, None))
    torch.save(
        dict(meta=dict(epoch=10), state_dict=model.state_dict()),
        root / 'off.pth')
    graph, = recognition.graphs(model)
    graph.export(str(root / 'off.onnx'))
    frames = render_clip(
        np.random.default_rng(1),
        MOTIONS['move_left'],
        size=64,
        num_frames=24,
        speed=1,
        patch=16)
    write_video(str(root / 'clip.mp4'), frames)
    return root, graph


def test_demo_recognizer_on_random_clips_of_any_batch_size(demo):
    root, graph = demo
    assert graph.inputs[0].shape == (1, 8, 3, 56, 56)  # 8 segments, 1 crop
    clips = torch.randint(0, 256, (3, 8, 3, 56, 56)).float()
    difference, tolerance = graph.verify(str(root / 'off.onnx'), (clips, ))
    assert difference < tolerance == 1e-4  # softmax scores: scale 1
    scores, = ORTModel(str(root / 'off.onnx'))(clips.numpy())
    assert scores.shape == (3, 4)
    np.testing.assert_allclose(scores.sum(axis=1), 1, rtol=1e-5)
    assert scores.std(axis=0).max() > 1e-3  # the clips get other scores


def test_demo_clip_gets_inference_recognizers_score(demo):
    root, graph = demo
    video = str(root / 'clip.mp4')
    model = init_recognizer(str(STAGE2), str(root / 'off.pth'), 'cpu')
    expected = inference_recognizer(model, video).pred_score
    result = recognition.ONNXRecognizer(model.cfg, str(root / 'off.onnx'))(
        video)
    torch.testing.assert_close(
        result.pred_score, expected, rtol=1e-4, atol=1e-6)
    data = pseudo_collate([
        Compose(model.cfg.test_pipeline)(dict(
            filename=video, label=-1, start_index=0, modality='RGB'))
    ])
    difference, tolerance = graph.verify(
        str(root / 'off.onnx'), (data['inputs'][0][None].float(), ))
    assert difference < tolerance


def test_recognize_video_tool_on_onnxruntime_as_on_pytorch(demo, capsys):
    root, _ = demo
    before = checksums(root)
    tool = runpy.run_path(TOOL)
    args = [str(STAGE2), str(root / 'clip.mp4'), '--topk', '4']
    on_torch = tool['main']([args[0], str(root / 'off.pth'), *args[1:]])
    on_ort = tool['main']([
        args[0],
        str(root / 'off.onnx'), *args[1:], '--backend', 'onnxruntime'
    ])
    assert [c for c, _ in on_ort] == [c for c, _ in on_torch]
    np.testing.assert_allclose([s for _, s in on_ort],
                               [s for _, s in on_torch],
                               rtol=1e-4)
    assert_unchanged(before, root)


def test_a_file_of_other_views_is_refused(demo, tmp_path):
    root, _ = demo
    four = Graph(
        '',
        torch.nn.Identity(), (torch.zeros(1, 4, 3, 8, 8), ), ['clips'],
        ['scores'],
        metadata=dict(
            task='recognition',
            graph='recognizer',
            views=[1, 4],
            num_classes=4))
    four.export(str(tmp_path / 'four.onnx'))
    with pytest.raises(
            ValueError,
            match=r'four.onnx takes 4 views .* gives '
            '8; export with this config'):
        recognition.ONNXRecognizer(
            Config.fromfile(STAGE2), str(tmp_path / 'four.onnx'))(
                str(root / 'clip.mp4'))


@pytest.mark.parametrize('config, segments', [
    ('ucf101/off_bninception-caffe_4xb32-7of25seg-20kiter_ucf101-split1-'
     'flow.py', 3),
    ('ucf101/off_bninception_4xb32-7of25seg-20kiter_ucf101-split1-'
     'rgbdiff.py', 3),
    ('kinetics400/off_tsn-r50_4xb32-7of25seg-30e_kinetics400-rgb.py', 3),
])
def test_paper_families_match_pytorch(config, segments, tmp_path):
    """The Caffe-layout BN-Inception (flow, 10 crops, maximum over crops),
    the UCF-101 BN-Inception (RGB difference) and the ResNet-50 TSN
    recognizers with OFF, at 64 px (3 segments)."""
    cfg = Config.fromfile(RECOGNITION / config)
    model = random_weights(recognition.init_model(cfg, None))
    graph, = recognition.graphs(model, shape=(64, 64), num_segments=segments)
    path = graph.export(str(tmp_path / 'model.onnx'))
    difference, tolerance = graph.verify(path)
    assert difference < tolerance
    scores, = ORTModel(path)(graph.inputs[0].numpy())
    assert scores.shape == (1, model.cls_head.num_classes)
