# Copyright (c) off_plugin authors. All rights reserved.
"""Restorers exported to ONNX restore as on PyTorch: the window graph at
any size, and DnCNN_OFF's streaming pair (each frame's features once) in
restore_frames and demo/restore_video.py."""
import runpy
from unittest import mock

import cv2
import numpy as np
import pytest
import torch
from data_safety import assert_unchanged, checksums
from mmengine.config import Config
from tiny_runs import ROOT

from off_plugin.deployment import restoration
from off_plugin.deployment.backend import Graph, ORTModel
from off_plugin.deployment.openvino import OVModel
from off_plugin.restoration import restore_frames

CONFIGS = ROOT / 'configs' / 'restoration' / 'off'
DEMO = {
    'DnCNN': 'dncnn-c32l10_1xb8-800iter_restoration-demo-q40.py',
    'DnCNN_OFF(3)': 'dncnn-off3-c32_1xb8-800iter_restoration-demo-q40.py',
}
TOOL = str(ROOT / 'demo' / 'restore_video.py')


def restorer(name, **generator):
    """A demo restorer with random weights everywhere (its init would make
    the untrained network the identity)."""
    cfg = Config.fromfile(CONFIGS / DEMO[name])
    cfg.model.generator.update(generator)
    model = restoration.init_model(cfg, None)
    torch.manual_seed(0)
    with torch.no_grad():
        for param in model.parameters():
            param.normal_(0, 0.05)
    return model


def video(num, height=20, width=28):
    rng = np.random.default_rng(0)
    return [
        rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        for _ in range(num)
    ]


FAMILIES = {
    'DnCNN': ('DnCNN', {}),
    'DnCNN_OFF(2)': ('DnCNN_OFF(3)', dict(num_frames=2)),
    'DnCNN_OFF(3)': ('DnCNN_OFF(3)', {}),
}


@pytest.fixture(scope='module', params=list(FAMILIES))
def exported(request, tmp_path_factory):
    """(name, model with random weights, its graphs, their main file),
    exported at 32 x 32."""
    name = request.param
    model = restorer(FAMILIES[name][0], **FAMILIES[name][1])
    graphs = restoration.graphs(model, shape=(32, 32))
    out = str(tmp_path_factory.mktemp('restorer') / 'model.onnx')
    for graph in graphs:
        graph.export(out)
    return name, model, graphs, out


def test_graphs_match_pytorch_at_any_size(exported):
    name, model, graphs, out = exported
    assert [g.suffix for g in graphs
            ] == ([''] if name == 'DnCNN' else ['', 'frame', 'fusion'])
    for graph in graphs:
        for batch, height, width in ((1, 32, 32), (2, 24, 40)):
            inputs = [
                torch.rand(batch, *x.shape[1:-2], height, width) * 255
                for x in graph.inputs
            ]
            difference, tolerance = graph.verify(out, inputs)
            assert difference < tolerance, (graph.suffix, height, width)
    window = graphs[0].inputs[0]
    target = window[:, model.generator.num_frames // 2]
    assert (graphs[0].module(window) - target).abs().mean() > 1


def assert_streams_as_pytorch(model, runner) -> None:
    """``restore_frames`` over 5 frames with ``runner`` (an exported file)
    as with ``model`` on PyTorch, each frame's entry computed once."""
    frames = video(5)
    expected = list(restore_frames(model, iter(frames)))
    with mock.patch.object(runner, 'entry', wraps=runner.entry) as entry:
        restored = list(restore_frames(runner, iter(frames)))
    assert entry.call_count == 5  # each frame's features once
    assert len(restored) == 5
    for got, want in zip(restored, expected):
        # float rounding can move a pixel across .5: at most one level
        assert np.abs(got.astype(int) - want).max() <= 1
        assert (got != want).mean() < 1e-3
    assert not np.array_equal(restored[2], frames[2])


def test_streaming_on_onnxruntime_equals_pytorch(exported):
    name, model, _, out = exported
    ort = restoration.ONNXRestorer(out)
    assert ort.streaming == (name != 'DnCNN')
    assert_streams_as_pytorch(model, ort)


@pytest.mark.parametrize('backend', ['onnxruntime', 'openvino'])
@pytest.mark.parametrize('exported', ['DnCNN_OFF(3)'], indirect=True)
def test_restore_video_tool_on_a_runtime_as_on_pytorch(exported, backend,
                                                       tmp_path):
    """demo/restore_video.py with the exported files on ``backend``:
    streaming (each frame's features, each window's fusion on the
    runtime), the frames PyTorch writes within a grey level, the input
    folder untouched."""
    _, model, _, out = exported
    torch.save(dict(state_dict=model.state_dict()), tmp_path / 'off3.pth')
    frames = tmp_path / 'frames'
    frames.mkdir()
    for i, frame in enumerate(video(4)):
        cv2.imwrite(str(frames / f'{i:05d}.png'), frame)
    before = checksums(tmp_path)
    main = runpy.run_path(TOOL)['main']
    config = str(CONFIGS / DEMO['DnCNN_OFF(3)'])
    main([
        config,
        str(tmp_path / 'off3.pth'),
        str(frames), f'{tmp_path}/torch/'
    ])
    runtime = dict(onnxruntime=ORTModel, openvino=OVModel)[backend]
    with mock.patch.object(
            runtime, 'run', autospec=True, side_effect=runtime.run) as run:
        main([
            config, out,
            str(frames), f'{tmp_path}/{backend}/', '--backend', backend
        ])
    assert run.call_count == 8  # each frame's features, each fusion
    assert_unchanged(before, tmp_path, documented=('torch', backend))
    names = sorted(p.name for p in (tmp_path / 'torch').iterdir())
    assert names == sorted(p.name for p in (tmp_path / backend).iterdir())
    assert names == [f'{i:05d}.png' for i in range(1, 5)]
    for name in names:
        got = cv2.imread(str(tmp_path / backend / name)).astype(int)
        want = cv2.imread(str(tmp_path / 'torch' / name))
        assert np.abs(got - want).max() <= 1
        assert np.abs(got - cv2.imread(str(frames / names[0]))).mean() > 1


def test_a_missing_or_other_file_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match='no such ONNX file'):
        restoration.ONNXRestorer(str(tmp_path / 'missing.onnx'))
    Graph(
        '',
        torch.nn.Identity(), (torch.zeros(1, 8, 3, 8, 8), ), ['clips'],
        ['scores'],
        metadata=dict(task='recognition', graph='recognizer')).export(
            str(tmp_path / 'recognizer.onnx'))
    with pytest.raises(
            ValueError,
            match='recognizer.onnx: the recognizer '
            'graph of recognition, not the window graph of '
            'restoration'):
        restoration.ONNXRestorer(str(tmp_path / 'recognizer.onnx'))
