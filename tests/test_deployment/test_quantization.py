# Copyright (c) off_plugin authors. All rights reserved.
"""Static int8 (QDQ) files of the quantizer, on the streaming DnCNN_OFF(3)
graphs: standard operators that three runtimes agree on, the modules kept
float, the metadata the runners check; and a --verify that can fail."""
import numpy as np
import onnx
import pytest
import torch
from mmengine.config import Config
from onnx import numpy_helper
from onnx.reference import ReferenceEvaluator
from onnx.version_converter import convert_version
from test_restoration import CONFIGS, DEMO, video

from off_plugin.deployment import restoration
from off_plugin.deployment.backend import (int8_path, load_runtime,
                                           non_identity_weights)
from off_plugin.deployment.quantization import nodes_of, quantize
from off_plugin.restoration import restore_frames

#: what the int8 files of these tests keep float
KEEP_FLOAT = ('OFFUnit', )


@pytest.fixture(scope='module')
def int8(tmp_path_factory):
    """(model, graphs, float file) of DnCNN_OFF(3) without a checkpoint,
    exported at 24 x 32 and quantized with its OFF unit kept float,
    calibrated on the graphs' inputs of 4 random windows."""
    cfg = Config.fromfile(CONFIGS / DEMO['DnCNN_OFF(3)'])
    with pytest.warns(UserWarning, match='no layer is an identity'):
        model = restoration.init_model(cfg, None)
    graphs = restoration.graphs(model, shape=(24, 32))
    out = str(tmp_path_factory.mktemp('int8') / 'model.onnx')
    frames = np.stack(video(12, 24, 32)).reshape(4, 3, 24, 32, 3)
    samples = {'': [], 'frame': [], 'fusion': []}
    with torch.no_grad():
        for window in torch.from_numpy(frames).permute(0, 1, 4, 2, 3).float():
            samples[''].append((window[None].numpy(), ))
            feats = [graphs[1].module(x[None]) for x in window]
            samples['frame'] += [(x[None].numpy(), ) for x in window]
            samples['fusion'].append(
                (window[1][None].numpy(), torch.stack(feats, 1).numpy()))
    for graph in graphs:
        graph.export(out)
        quantize(
            graph.path(out), graph.path(int8_path(out)), samples[graph.suffix],
            KEEP_FLOAT)
    return model, graphs, out


def test_int8_files_hold_standard_operators_only(int8):
    _, graphs, out = int8
    for graph in graphs:
        model = onnx.load(graph.path(int8_path(out)))
        ops = {(node.domain, node.op_type) for node in model.graph.node}
        assert {('', 'QuantizeLinear'), ('', 'DequantizeLinear')} <= ops
        assert {domain for domain, _ in ops} == {''}, ops
        assert [o.domain for o in model.opset_import] == ['']
        weights = {
            w.name: numpy_helper.to_array(w)
            for w in model.graph.initializer
        }
        assert any(w.dtype == np.int8 and w.ndim == 4
                   for w in weights.values())  # conv weights in int8


def test_runtimes_agree_on_the_int8_files(int8):
    """ONNX Runtime, OpenVINO and onnx's ReferenceEvaluator run the same
    int8 graph to within a few quantization steps of each other, on
    average a fraction of one; the int8 output is near the float one, and
    not equal to it."""
    _, graphs, out = int8
    fusion = graphs[2]
    inputs = [x.numpy() for x in fusion.inputs]
    path = fusion.path(int8_path(out))
    ort, = load_runtime(path)(*inputs)
    ov, = load_runtime(path, 'openvino')(*inputs)
    # onnx's reference has DequantizeLinear from opset 19 on
    ref, = ReferenceEvaluator(convert_version(onnx.load(path), 19)).run(
        None, dict(zip(fusion.input_names, inputs)))
    float32, = load_runtime(fusion.path(out))(*inputs)
    scale = np.abs(float32).max()
    # rounding ties of a QuantizeLinear differ by one step (0.7 % of the
    # scale here), and a step grows through the layers after it
    for other in (ref, ov):
        assert np.abs(other - ort).max() < 0.04 * scale
        assert np.abs(other - ort).mean() < 0.005 * scale
    assert 1e-4 * scale < np.abs(ort - float32).max() < 0.1 * scale


def test_float_modules_stay_float(int8):
    """The OFF unit, named to stay float, has no quantized node: no
    DequantizeLinear output feeds it (but for its 1x1 convolution's
    input, which it shares with the quantized layers before it)."""
    _, graphs, out = int8
    fusion = graphs[2]
    float_model = onnx.load(fusion.path(out))
    kept = set(nodes_of(float_model, KEEP_FLOAT))
    assert kept and len(kept) < len(float_model.graph.node)
    model = onnx.load(fusion.path(int8_path(out)))
    dequantized = {
        n.output[0]
        for n in model.graph.node if n.op_type == 'DequantizeLinear'
    }
    for node in model.graph.node:
        if node.name in kept and node.op_type != 'Conv':
            assert not dequantized & set(node.input), node.name


def test_int8_files_stream_through_the_runner(int8):
    """The runner takes OUT.int8.onnx as it takes OUT.onnx (metadata of
    the graphs kept, precision added); its frames are near the float
    file's."""
    _, _, out = int8
    runner = restoration.ONNXRestorer(int8_path(out))
    assert runner.streaming
    assert runner.fusion.metadata['precision'] == 'int8'
    assert runner.fusion.metadata['graph'] == 'fusion'
    frames = video(5, 24, 32)
    quantized = np.stack(list(restore_frames(runner, frames))).astype(int)
    float32 = np.stack(
        list(restore_frames(restoration.ONNXRestorer(out),
                            frames))).astype(int)
    assert np.abs(quantized - float32).mean() < 4
    assert (quantized != float32).any()


def test_non_identity_weights_leave_no_zero_parameter():
    """Without a checkpoint the demo's DnCNN_OFF(3) returns its input (its
    last convolution is zero): re-drawn, no parameter is zero and the
    network no longer returns its input."""
    cfg = Config.fromfile(CONFIGS / DEMO['DnCNN_OFF(3)'])
    model = restoration.init_restorer(cfg)
    x = torch.rand(1, 3, 3, 16, 16)
    with torch.no_grad():
        assert torch.equal(model.generator(x), x[:, 1])
        non_identity_weights(model)
        assert all(p.any() for p in model.parameters())
        assert (model.generator(x) - x[:, 1]).abs().max() > 1e-2


def test_verify_fails_on_a_wrong_graph(int8, tmp_path):
    """A file whose middle convolution is scaled by 1.5 fails --verify (it
    would pass with the init's zero last convolution)."""
    _, graphs, out = int8
    fusion = graphs[2]
    assert fusion.verify(out)[0] <= fusion.verify(out)[1]
    model = onnx.load(fusion.path(out))
    convs = [n for n in model.graph.node if n.op_type == 'Conv']
    name = convs[len(convs) // 2].input[1]
    weight = next(w for w in model.graph.initializer if w.name == name)
    weight.CopyFrom(
        numpy_helper.from_array(numpy_helper.to_array(weight) * 1.5, name))
    wrong = tmp_path / 'wrong.onnx'
    onnx.save(model, wrong)
    difference, tolerance = fusion._replace(suffix='').verify(str(wrong))
    assert difference > 10 * tolerance
