# Copyright (c) off_plugin authors. All rights reserved.
"""The exported files on OpenVINO (``--backend openvino``) as on PyTorch:
the demo OFF recognizer (any batch size, and through
demo/recognize_video.py), the DnCNN_OFF(3) demo restorer (its three graphs
at two sizes, streaming, and demo/restore_video.py) and the R-FCN tiny
detector with OFF (online, each frame's maps fed to the next, and
demo/detect_video.py); a wrong file or device, or no OpenVINO, ends the
tools in the same one line as on ONNX Runtime.

The exported files are those of the ONNX Runtime tests (their module
fixtures: each runs once in this module too)."""
import json
import runpy
import subprocess
import sys
from types import SimpleNamespace
from unittest import mock

import cv2
import numpy as np
import pytest
import test_detection
import test_recognition
import test_restoration
import torch
from data_safety import assert_one_line_error, assert_unchanged, checksums
from test_detection import RFCN_OFF, assert_same_detections, detector
from test_restoration import CONFIGS, DEMO, assert_streams_as_pytorch, video
from tiny_runs import STAGE2

from off_plugin.deployment import detection, restoration
from off_plugin.deployment.backend import Graph, ORTModel, int8_path
from off_plugin.deployment.openvino import OVModel
from off_plugin.deployment.quantization import quantize
from off_plugin.detection.inference import iter_video_detections
from off_plugin.restoration import restore_frames

# the ONNX Runtime tests' module fixtures: each runs once in this module too
demo = test_recognition.demo
exported = test_restoration.exported
frames = test_detection.frames

RECOGNIZE_VIDEO = test_recognition.TOOL
RESTORE_VIDEO = test_restoration.TOOL
DETECT_VIDEO = test_detection.TOOL
RESTORER = str(CONFIGS / DEMO['DnCNN_OFF(3)'])
#: the restorer of the fixture ``exported`` (test_restoration.py)
DNCNN_OFF = pytest.mark.parametrize(
    'exported', ['DnCNN_OFF(3)'], indirect=True)


def spy_openvino():
    """A spy on :meth:`OVModel.run`: the tool ran its file on OpenVINO."""
    return mock.patch.object(
        OVModel, 'run', autospec=True, side_effect=OVModel.run)


def tool_run(tool, *args, monkeypatch, capsys):
    """``python <tool> args`` in this process (its ``__main__``, through
    ``run_tool``), as a finished command."""
    monkeypatch.setattr(sys, 'argv', [tool, *map(str, args)])
    code = 0
    try:
        runpy.run_path(tool, run_name='__main__')
    except SystemExit as exit_:
        code = exit_.code
    out = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, out.out, out.err)


# --- recognition --------------------------------------------------------


def test_demo_recognizer_on_openvino_equals_pytorch_at_batch_1_and_2(demo):
    root, graph = demo
    path = str(root / 'off.onnx')
    model = OVModel(path).expect('recognition', 'recognizer')
    assert model.input_shapes == [[None, 8, 3, 56, 56]]  # dynamic batch
    torch.manual_seed(1)
    for batch in (1, 2):
        clips = torch.randint(0, 256, (batch, 8, 3, 56, 56)).float()
        difference, tolerance = graph.verify(
            path, (clips, ), backend='openvino')
        assert difference < tolerance == 1e-4  # softmax scores: scale 1
        scores, = model(clips.numpy())
        with torch.no_grad():
            expected = graph.module(clips).numpy()
        assert scores.shape == (batch, 4)
        np.testing.assert_allclose(scores, expected, rtol=0, atol=1e-4)
        np.testing.assert_allclose(scores.sum(axis=1), 1, rtol=1e-5)
    assert np.abs(scores[0] - scores[1]).max() > 1e-3  # other clip, scores


def test_recognize_video_tool_on_openvino_as_on_pytorch(demo, capsys):
    root, _ = demo
    before = checksums(root)
    tool = runpy.run_path(RECOGNIZE_VIDEO)
    args = [str(STAGE2), str(root / 'clip.mp4'), '--topk', '4']
    on_torch = tool['main']([args[0], str(root / 'off.pth'), *args[1:]])
    with spy_openvino() as run:
        on_openvino = tool['main']([
            args[0],
            str(root / 'off.onnx'), *args[1:], '--backend', 'openvino'
        ])
    assert run.call_count == 1  # the video's clips, one call
    assert [c for c, _ in on_openvino] == [c for c, _ in on_torch]
    np.testing.assert_allclose([s for _, s in on_openvino],
                               [s for _, s in on_torch],
                               rtol=1e-4)
    printed = capsys.readouterr().out.splitlines()
    assert printed[-4:] == [f'{c}: {s:.4f}' for c, s in on_openvino]
    assert_unchanged(before, root)


# --- restoration --------------------------------------------------------


@DNCNN_OFF
def test_restorer_graphs_on_openvino_equal_pytorch_at_two_sizes(exported):
    _, model, graphs, out = exported
    assert [g.suffix for g in graphs] == ['', 'frame', 'fusion']
    torch.manual_seed(2)
    for graph in graphs:
        for batch, height, width in ((1, 32, 32), (2, 24, 40)):
            inputs = [
                torch.rand(batch, *x.shape[1:-2], height, width) * 255
                for x in graph.inputs
            ]
            difference, tolerance = graph.verify(
                out, inputs, backend='openvino')
            assert difference < tolerance, (graph.suffix, height, width)
            actual, = OVModel(graph.path(out))(*[x.numpy() for x in inputs])
            assert actual.shape[-2:] == (height, width)
    # the restorer does something: the target frame is not passed through
    window = graphs[0].inputs[0]
    restored, = OVModel(out)(window.numpy())
    target = window[:, model.generator.num_frames // 2].numpy()
    assert np.abs(restored - target).mean() > 1


@DNCNN_OFF
def test_streaming_on_openvino_equals_pytorch(exported):
    _, model, _, out = exported
    runner = restoration.ONNXRestorer(out, backend='openvino')
    assert runner.streaming
    assert all(
        isinstance(m, OVModel)
        for m in (runner.window, runner.frame, runner.fusion))
    assert_streams_as_pytorch(model, runner)


@DNCNN_OFF
def test_int8_files_on_openvino_as_on_onnxruntime(exported, monkeypatch):
    """The int8 (QDQ) files of ONNX Runtime's quantizer, calibrated on
    random windows: OpenVINO reads their metadata, and they restore as on
    ONNX Runtime and near PyTorch's float graphs."""
    _, model, graphs, out = exported
    torch.manual_seed(3)
    windows = [torch.rand(3, 3, 32, 32) * 255 for _ in range(4)]
    monkeypatch.setattr(restoration, 'windows',
                        lambda model, num, split: windows[:num])
    samples = restoration.calibration_inputs(model, graphs, 4, 'val')
    for graph in graphs:
        quantize(
            graph.path(out), graph.path(int8_path(out)), samples[graph.suffix])
        int8 = OVModel(graph.path(int8_path(out)))
        assert int8.metadata['precision'] == 'int8'
        assert int8.metadata['graph'] == graph.metadata['graph']
        difference, tolerance = graph.verify(
            out, graph.inputs, backend='openvino', int8=True)
        assert difference < tolerance, graph.suffix
        inputs = [x.numpy() for x in graph.inputs]
        quantized, = int8(*inputs)
        floats, = OVModel(graph.path(out))(*inputs)
        assert not np.array_equal(quantized, floats)  # int8 it is
        ort, = ORTModel(graph.path(int8_path(out)))(*inputs)
        # the same int8 graph, rounded apart in places: within about a
        # step of the output's uint8 quantization (its range / 255)
        assert np.abs(quantized - ort).max() <= 0.01 * np.abs(floats).max()
    frames = video(5)
    restored = {
        backend:
        list(
            restore_frames(
                restoration.ONNXRestorer(int8_path(out), backend=backend),
                iter(frames)))
        for backend in ('onnxruntime', 'openvino')
    }
    for got, want in zip(restored['openvino'], restored['onnxruntime']):
        assert np.abs(got.astype(int) - want).max() <= 2
        assert (got != want).mean() < 0.2


# --- detection ----------------------------------------------------------


@pytest.fixture(scope='module')
def rfcn_off(tmp_path_factory, frames):
    """R-FCN tiny with OFF (random weights), its export, and PyTorch's
    online detections of the demo frames."""
    root = tmp_path_factory.mktemp('openvino_detection')
    model = detector(RFCN_OFF)
    graph, = detection.graphs(model)
    onnx_file = graph.export(str(root / 'off.onnx'))
    expected = [
        s.pred_instances
        for _, s in iter_video_detections(model, iter(frames[0]))
    ]
    assert all(len(e) > 0 for e in expected)
    return model, graph, onnx_file, expected


def test_online_detections_on_openvino_equal_pytorch(rfcn_off, frames):
    model, graph, onnx_file, expected = rfcn_off
    difference, tolerance = graph.verify(onnx_file, backend='openvino')
    assert difference <= tolerance
    runner = detection.ONNXVideoDetector(
        model.cfg, onnx_file, backend='openvino')
    assert isinstance(runner.model, OVModel)
    assert runner.model.input_names == ['img', 'prev_0', 'prev_1', 'is_first']
    actual = [
        s.pred_instances
        for _, s in iter_video_detections(runner, iter(frames[0]))
    ]
    assert len(actual) == 3
    worst = [assert_same_detections(e, a) for e, a in zip(expected, actual)]
    assert max(score for _, score in worst) < 1e-3
    assert max(iou for iou, _ in worst) < 1e-2


def test_detect_video_tool_on_openvino_as_on_pytorch(rfcn_off, frames,
                                                     tmp_path, monkeypatch,
                                                     capsys):
    _, _, onnx_file, expected = rfcn_off
    out = tmp_path / 'openvino' / 'video.mp4'
    with spy_openvino() as run:
        result = tool_run(
            DETECT_VIDEO,
            RFCN_OFF,
            onnx_file,
            frames[1],
            out,
            '--score-thr',
            '0',
            '--backend',
            'openvino',
            monkeypatch=monkeypatch,
            capsys=capsys)
    assert result.returncode == 0, result.stderr[-2000:]
    assert run.call_count == 3  # one call a frame
    assert cv2.VideoCapture(str(out)).get(cv2.CAP_PROP_FRAME_COUNT) == 3
    with open(out.with_suffix('.json')) as f:
        written = json.load(f)['frames']
    assert [r['frame_id'] for r in written] == [0, 1, 2]
    for want, got in zip(expected, written):
        assert_same_detections(want, SimpleNamespace(**got))


# --- the same checks and errors as on ONNX Runtime ----------------------


@pytest.fixture(scope='module')
def other_files(tmp_path_factory):
    """A file of another task / graph, one without metadata, and one that
    is not ONNX."""
    root = tmp_path_factory.mktemp('openvino_other_files')
    for name, metadata in (('unit', dict(task='unit',
                                         graph='affine')), ('bare', {})):
        Graph(
            '',
            torch.nn.Identity(), (torch.zeros(1, 3, 8, 8), ), ['x'], ['y'],
            metadata=metadata).export(str(root / f'{name}.onnx'))
    (root / 'weights.pth').write_bytes(b'PK\x03\x04 not a model')
    return root


def test_metadata_is_read_and_checked_as_on_onnxruntime(other_files):
    messages = {}
    for runtime in (ORTModel, OVModel):
        model = runtime(str(other_files / 'unit.onnx'))
        assert model.metadata == dict(task='unit', graph='affine')
        assert model.input_names == ['x'] and model.output_names == ['y']
        assert model.input_shapes == [[1, 3, 8, 8]]
        x = np.arange(192, dtype=np.float32).reshape(1, 3, 8, 8)
        np.testing.assert_array_equal(model(x)[0], x)
        with pytest.raises(ValueError) as err:
            model.expect('restoration', 'window')
        messages[runtime.backend] = str(err.value)
    assert messages['openvino'] == messages['onnxruntime'] == (
        f'{other_files / "unit.onnx"}: the affine graph of unit, not the '
        'window graph of restoration; pass a file that '
        'tools/deployment/export_onnx.py wrote for a restoration config.')


def test_a_file_that_is_not_onnx_is_refused_naming_openvino(other_files):
    path = str(other_files / 'weights.pth')
    with pytest.raises(ValueError) as err:
        OVModel(path)
    message = str(err.value)
    assert '\n' not in message
    assert message.startswith(f'{path}: OpenVINO cannot load it (')
    assert message.endswith('); pass an .onnx file of '
                            'tools/deployment/export_onnx.py.')
    with pytest.raises(FileNotFoundError, match='no such ONNX file'):
        OVModel(str(other_files / 'missing.onnx'))


def tool_args(name, onnx_file, demo_root, tmp_path):
    """The arguments of a tool ``name`` that runs ``onnx_file``."""
    clip = demo_root / 'clip.mp4'
    return {
        'recognize_video': (RECOGNIZE_VIDEO, STAGE2, onnx_file, clip),
        'restore_video':
        (RESTORE_VIDEO, RESTORER, onnx_file, clip, f'{tmp_path}/out/'),
        'detect_video':
        (DETECT_VIDEO, RFCN_OFF, onnx_file, clip, tmp_path / 'out.mp4'),
    }[name]


TOOLS = ('recognize_video', 'restore_video', 'detect_video')


@pytest.mark.parametrize('tool', TOOLS)
def test_tools_refuse_other_files_in_one_line_as_on_onnxruntime(
        tool, demo, other_files, tmp_path, monkeypatch, capsys):
    before = checksums(tmp_path)
    for name, fragment in (('unit', 'the affine graph of unit, not the'),
                           ('bare', 'no off_plugin metadata, not the'),
                           ('weights', 'cannot load it')):
        suffix = '.pth' if name == 'weights' else '.onnx'
        args = tool_args(tool, other_files / f'{name}{suffix}', demo[0],
                         tmp_path)
        lines = {}
        for backend in ('onnxruntime', 'openvino'):
            result = tool_run(
                *args,
                '--backend',
                backend,
                monkeypatch=monkeypatch,
                capsys=capsys)
            assert_one_line_error(result, f'{tool}: error: ',
                                  f'{name}{suffix}: ', fragment)
            lines[backend] = result.stderr.strip()
        if name == 'weights':  # each names its runtime
            assert 'OpenVINO cannot load it' in lines['openvino']
            assert 'ONNX Runtime cannot load it' in lines['onnxruntime']
        else:
            assert lines['openvino'] == lines['onnxruntime']
    assert_unchanged(before, tmp_path)


@pytest.mark.parametrize('tool', TOOLS)
def test_tools_refuse_cuda_on_openvino_in_one_line(tool, demo, tmp_path,
                                                   monkeypatch, capsys):
    before = checksums(tmp_path)
    args = tool_args(tool, demo[0] / 'off.onnx', demo[0], tmp_path)
    result = tool_run(
        *args,
        '--backend',
        'openvino',
        '--device',
        'cuda',
        monkeypatch=monkeypatch,
        capsys=capsys)
    assert_one_line_error(
        result, f'{tool}: error: --device cuda: --backend openvino runs on '
        'the cpu; use --device cpu, or --backend onnxruntime on CUDA.')
    assert_unchanged(before, tmp_path)


@pytest.mark.parametrize('tool', TOOLS)
def test_tools_without_openvino_name_the_extra_in_one_line(
        tool, demo, tmp_path, monkeypatch, capsys):
    # as if not installed: `import openvino` raises ModuleNotFoundError
    monkeypatch.setitem(sys.modules, 'openvino', None)
    monkeypatch.delitem(sys.modules, 'off_plugin.deployment.openvino')
    args = tool_args(tool, demo[0] / 'off.onnx', demo[0], tmp_path)
    result = tool_run(
        *args, '--backend', 'openvino', monkeypatch=monkeypatch, capsys=capsys)
    assert_one_line_error(
        result, f'{tool}: error: --backend openvino: ',
        'install OpenVINO with \'pip install "off_plugin[openvino]"\'.')
    assert list(tmp_path.iterdir()) == []
