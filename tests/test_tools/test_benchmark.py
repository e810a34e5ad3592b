# Copyright (c) off_plugin authors. All rights reserved.
"""tools/analysis_tools/benchmark.py: the side-by-side timer, the PASS /
FAIL lines, each subcommand's flags, the ``unit``, ``restoration`` and
``deploy`` subcommands on small inputs and the fresh-interpreter import
timer."""
import importlib.util
import os.path as osp
import re
import runpy
import sys
from collections import Counter
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from benchmarks import deploy
from benchmarks.imports import time_import
from benchmarks.recognition import moving_texture
from benchmarks.timing import side_by_side, target
from tiny_runs import DETECTION, STAGE2

TOOL = osp.join(
    osp.dirname(osp.dirname(osp.dirname(__file__))), 'tools', 'analysis_tools',
    'benchmark.py')


@pytest.fixture(scope='module')
def main():
    return runpy.run_path(TOOL)['main']


def test_side_by_side_times_each_call_in_turn_and_takes_the_median():
    calls = []
    results = side_by_side(
        {
            'a': lambda i: calls.append(('a', i)),
            'b': lambda i: calls.append(('b', i))
        },
        'cpu',
        warmup=1,
        repeats=3)
    assert calls == [(name, i) for i in range(4) for name in 'ab']
    assert set(results) == {'a', 'b'}
    assert all(r['seconds'] >= 0 and r['memory'] is None
               for r in results.values())


def test_targets_print_pass_and_fail(capsys):
    assert target('x', 1.2, 1.25, at_most=True)
    assert not target('y', 0.8, 0.85, at_most=False)
    out = capsys.readouterr().out.splitlines()
    assert out == [
        'PASS: x: x1.20 (target <= x1.25)', 'FAIL: y: x0.80 (target >= x0.85)'
    ]


def test_each_subcommand_takes_its_own_flags(main, capsys):
    parse_args = main.__globals__['parse_args']
    args = parse_args([
        'all', '--compile', '--frame-size', '60', '100', '--restore-size',
        '32', '48'
    ])
    assert args.compile and args.frame_size == [60, 100]
    assert not hasattr(args, 'threads')
    args = parse_args(
        ['deploy', '--recognizer-cfg-options', 'a.b=[1, 2]', 'c=x'])
    assert args.recognizer_cfg_options == {'a.b': [1, 2], 'c': 'x'}
    assert args.detector_cfg_options == {}
    capsys.readouterr()
    for argv in (['unit', '--frame-size', '60',
                  '100'], ['detection', '--segments',
                           '3'], ['import', '--device', 'cuda'],
                 ['restoration', '--recognizer-cfg-options', 'a=1'], []):
        with pytest.raises(SystemExit):
            parse_args(argv)
        assert 'error: ' in capsys.readouterr().err


def test_unit_benchmark_reports_every_level_with_a_verdict(main, capsys):
    main(['unit', '--segments', '3', '--repeats', '1', '--warmup', '0'])
    out = capsys.readouterr().out
    verdicts = re.findall(r'^(PASS|FAIL): OFF at (\d+) px', out, re.M)
    assert [level for _, level in verdicts] == ['28', '14', '7']
    ratios = re.findall(r'OFF \(reduced features\):.* x([\d.]+) of memory',
                        out)
    assert len(ratios) == 3 and all(float(r) > 0 for r in ratios)
    # the README's table: one row per target, with the ratio printed above
    rows = re.findall(
        r'^\| OFF at (\d+) px .* \| x([\d.]+) \| <= x2\.00 \| '
        r'(PASS|FAIL) \|$', out, re.M)
    assert [(verdict, level) for level, _, verdict in rows] == verdicts
    assert [ratio for _, ratio, _ in rows] == ratios
    assert re.search(r'^Targets on CPU .*, \d+ cores, torch ', out, re.M)
    assert re.search(r'^\d of 3 targets met$', out, re.M)


def test_restoration_benchmark_streams_with_features_once_per_frame(
        main, capsys, monkeypatch):
    from off_plugin.restoration import DnCNN, DnCNNOFF
    calls = Counter()

    def spy(cls, method):
        original = getattr(cls, method)

        def wrapper(self, x, *args):
            frames = int(x.shape[1]) if method == 'frame_features' else None
            calls[method, self.num_frames, frames] += 1
            return original(self, x, *args)

        monkeypatch.setattr(cls, method, wrapper)

    spy(DnCNN, 'forward')
    spy(DnCNNOFF, 'frame_features')
    spy(DnCNNOFF, 'restore')
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small convolutions: spare a shared machine
    try:
        main([
            'restoration', '--restore-size', '32', '48', '--video-frames', '4',
            '--warmup', '0', '--repeats', '1'
        ])
    finally:
        torch.set_num_threads(threads)
    out = capsys.readouterr().out
    # one window each, then a video of 4 frames: DnCNN_OFF(k) computes the
    # features of each frame once (k frames at a time for the window) and
    # restores each frame once
    # the window and its FLOP count (one traced call) before the video
    assert calls == {
        ('forward', 1, None): 2 + 4,
        ('frame_features', 2, 2): 2,
        ('frame_features', 2, 1): 4,
        ('frame_features', 3, 3): 2,
        ('frame_features', 3, 1): 4,
        ('restore', 2, None): 2 + 4,
        ('restore', 3, None): 2 + 4,
    }
    for title in ('one window', 'streaming'):
        section = out.split(f'restoration, {title}: ')[1]
        models = re.findall(
            r'^ +(\S+): +[\d.]+ ms, +[\d.]+ frames/s, '
            r'x([\d.]+) of DnCNN, [\d.]+ M params', section, re.M)[:3]
        assert [name for name, _ in models
                ] == ['DnCNN', 'DnCNN_OFF(2)', 'DnCNN_OFF(3)']
        assert float(models[0][1]) == 1 and all(
            float(ratio) > 0 for _, ratio in models)
    # DnCNN's FLOPs: every 3x3 convolution, stride 1, over 32x48 pixels
    from mmengine.config import Config
    dncnn = Config.fromfile(
        'configs/restoration/off/dncnn_4xb7-50e_vimeo90k-jpeg2000-q40.py')
    from mmagic.registry import MODELS
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmagic'):
        generator = MODELS.build(dncnn.model.generator)
    expected = sum(32 * 48 * m.weight.numel() for m in generator.modules()
                   if isinstance(m, torch.nn.Conv2d))
    printed = re.search(r'^ +DnCNN: .* ([\d.]+) GFLOPs$', out, re.M)
    assert float(printed.group(1)) == round(expected / 1e9, 2)
    assert re.search(
        r'^(PASS|FAIL): DnCNN_OFF\(3\) streaming / DnCNN per '
        r'frame .*: x[\d.]+ \(target <= x1\.25\)$', out, re.M)
    assert re.search(r'^[01] of 1 targets met$', out, re.M)


def test_recognition_video_moves_as_tvl1_measures_it():
    """The two-stream pipeline times TV-L1 on frames with real motion: the
    benchmark's texture moves by (-1, -2) px a frame, and TV-L1 finds it."""
    from optical_flow import tvl1_flow
    video = moving_texture(2, 3, 64)
    assert video.shape == (2, 3, 64, 64, 3) and video.dtype == np.uint8
    flow = tvl1_flow(video[1]) * (40. / 255) - 20  # bound 20, 128 = still
    x, y = np.median(flow[:, 12:-12, 12:-12].reshape(-1, 2), axis=0)
    assert abs(x + 1) < 0.25 and abs(y + 2) < 0.25


def test_import_timer_runs_a_fresh_interpreter_and_names_a_failure():
    seconds, modules = time_import('json')
    assert 0 < seconds < 5
    # a fresh interpreter: none of this process's modules (torch, mmengine)
    assert 10 < modules < 200
    # the setup runs first, untimed, in the same interpreter
    _, with_setup = time_import('json', 'import csv, decimal')
    assert with_setup > modules
    with pytest.raises(
            RuntimeError,
            match=r'(?s)import no_such_module_here '
            'failed.*ModuleNotFoundError'):
        time_import('no_such_module_here')


def test_deploy_benchmark_times_each_runtime_and_precision_against_eager(
        main, capsys, monkeypatch):
    from off_plugin.deployment import backend, quantization
    loaded, load = [], deploy.load_config

    def load_config(path, cfg_options=None):
        loaded.append((path, cfg_options))
        return load(path, cfg_options)

    monkeypatch.setattr(deploy, 'load_config', load_config)
    # every file quantized from its float32 file, and loaded with --threads
    quantized, quantize = [], quantization.quantize

    def spy_quantize(float_file, out, samples, keep_float=()):
        quantized.append((osp.basename(float_file), osp.basename(out),
                          len(samples), tuple(keep_float)))
        return quantize(float_file, out, samples, keep_float)

    monkeypatch.setattr(quantization, 'quantize', spy_quantize)
    exported, runtimes = [], deploy.runtimes

    def spy_runtimes(graphs, *args, **kwargs):
        exported.append(graphs)
        return runtimes(graphs, *args, **kwargs)

    monkeypatch.setattr(deploy, 'runtimes', spy_runtimes)
    classes = [backend.ORTModel]
    openvino = 'OpenVINO' in [
        row for row, _ in deploy.backends(SimpleNamespace(device='cpu'))
    ]
    if openvino:
        from off_plugin.deployment.openvino import OVModel
        classes.append(OVModel)
    opened = []
    for cls in classes:

        def init(self, path, device='cpu', threads=None, init=cls.__init__):
            opened.append((self.backend, osp.basename(path), threads))
            init(self, path, device, threads)

        monkeypatch.setattr(cls, '__init__', init)
    capsys.readouterr()
    # the demo recognizer and detector: the paper-scale ones export in the
    # deployment tests
    main([
        'deploy', '--recognizer',
        str(STAGE2), '--detector',
        str(DETECTION), '--segments', '8', '--size', '64', '--restore-size',
        '24', '32', '--video-frames', '3', '--frame-size', '96', '96',
        '--repeats', '1', '--warmup', '0', '--threads', '1',
        '--detector-cfg-options', 'model.detector.test_cfg.rcnn.'
        'max_per_img=50'
    ])
    out = capsys.readouterr().out
    assert loaded[0] == (str(STAGE2), {})
    assert loaded[2] == (str(DETECTION), {
        'model.detector.test_cfg.rcnn.max_per_img': 50
    })
    assert re.search(
        rf'^deploy: int8 = static QDQ .* calibrated on {deploy.CALIBRATION} '
        r'random inputs .*'
        r'speed only \(random weights\); the accuracy cost is in '
        r'docs/user_guides/deployment\.md$', out, re.M)
    assert ('OpenVINO rows: skipped' in out) is not openvino
    rows = ['ONNX Runtime float32', 'ONNX Runtime int8'
            ] + (['OpenVINO float32', 'OpenVINO int8'] if openvino else [])
    titles = []
    for family in ('recognizer', 'DnCNN_OFF(3) streaming', 'detector'):
        block = re.search(
            rf'^deploy, {re.escape(family)}: cpu, 1 threads.*; int8 keeps '
            r'(.+) float\n'
            r'((?: +.+: +[\d.]+ ms, .* x[\d.]+ of PyTorch \(eager\) '
            r'float32\n)+)', out, re.M)
        assert block, family
        titles.append(block[1])
        found = re.findall(r'^ +(.+): +[\d.]+ ms, .* x([\d.]+) of', block[2],
                           re.M)
        assert [row for row, _ in found
                ] == ['PyTorch (eager) float32'] + rows, family
        assert all(float(ratio) > 0 for _, ratio in found), family
    # the float32 targets as they were, the int8 ones per runtime
    targets = dict(
        zip(rows, ['1.50', '2.00'] + (['', '2.00'] if openvino else [])))
    verdicts = re.findall(
        r'^\| deploy (recognizer|DnCNN_OFF\(3\) streaming): (.+) / '
        r'PyTorch \(eager\) float32 throughput \| x[\d.]+ \| '
        r'>= x([\d.]+) \| (?:PASS|FAIL) \|$', out, re.M)
    assert verdicts == [(family, row, bound)
                        for family in ('recognizer', 'DnCNN_OFF(3) streaming')
                        for row, bound in targets.items() if bound]
    untargeted = re.findall(
        r"^([^:]+): (.+) gives x[\d.]+ of PyTorch \(eager\) float32's "
        r'throughput \(no target\)$', out, re.M)
    assert untargeted == [
        (family, row) for family in ('recognizer', 'DnCNN_OFF(3) streaming')
        for row in rows if not targets[row]
    ] + [('detector', row) for row in rows]
    # each graph quantized once from its float32 file on random inputs;
    # every runtime loads the float32 and the int8 files with --threads
    # keeping each graph's own float_modules float
    files = [['model'], ['model', 'model.frame', 'model.fusion'], ['model']]
    assert [[g.path('model.onnx') for g in graphs] for graphs in exported
            ] == [[f'{stem}.onnx' for stem in family] for family in files]
    assert quantized == [(graph.path('model.onnx'),
                          graph.path('model.int8.onnx'), deploy.CALIBRATION,
                          tuple(graph.float_modules)) for graphs in exported
                         for graph in graphs]
    assert titles == [
        ', '.join(dict.fromkeys(m for g in graphs
                                for m in g.float_modules)) or 'nothing'
        for graphs in exported
    ]
    expected = []
    for family in files:
        for runtime in classes:
            for precision in ('', '.int8'):
                expected += [(runtime.backend,
                              f'model{precision}{stem[len("model"):]}.onnx', 1)
                             for stem in family]
    assert opened == expected


def test_deploy_benchmark_says_why_it_skips_openvino(monkeypatch, capsys):
    cpu, cuda = SimpleNamespace(device='cpu'), SimpleNamespace(device='cuda')
    onnxruntime = [('ONNX Runtime', 'onnxruntime')]
    if importlib.util.find_spec('openvino'):
        assert deploy.backends(cpu) == list(deploy.RUNTIMES)
        assert capsys.readouterr().out == ''
        assert deploy.backends(cuda) == onnxruntime
        assert capsys.readouterr().out == (
            '\ndeploy, OpenVINO rows: skipped (OpenVINO runs on the cpu, '
            'not --device cuda)\n')
    # openvino not installed (the extra)
    monkeypatch.setitem(sys.modules, 'off_plugin.deployment.openvino', None)
    assert deploy.backends(cpu) == onnxruntime
    assert re.fullmatch(
        r'\ndeploy, OpenVINO rows: skipped \(openvino does not import '
        r'\(.+\); pip install "off_plugin\[openvino\]"\)\n',
        capsys.readouterr().out)
