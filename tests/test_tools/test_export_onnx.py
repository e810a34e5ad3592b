# Copyright (c) off_plugin authors. All rights reserved.
"""tools/deployment/export_onnx.py end to end: the demo recognizer with its
checkpoint, the streaming DnCNN_OFF files, --verify's last line, exit
status and what it writes."""
import runpy

import onnx
import pytest
import torch
from data_safety import (assert_one_line_error, assert_unchanged, checksums,
                         run_tool, tool_path)
from mmengine.config import Config
from tiny_runs import ROOT, STAGE2, restorer_config

from off_plugin.deployment import recognition
from off_plugin.deployment.backend import ORTModel
from off_plugin.utils import ToolError

DNCNN_OFF3 = (
    ROOT / 'configs' / 'restoration' / 'off' /
    'dncnn-off3-c32_1xb8-800iter_restoration-demo-q40.py')


def test_demo_recognizer_with_checkpoint_and_cfg_options(tmp_path):
    """A fresh interpreter exports the motion demo's OFF recognizer with a
    checkpoint, verifies it (exit status 0, the verdict last) and writes
    nothing but OUT; the file scores as the checkpoint's model does,
    ``--cfg-options`` included."""
    model = recognition.init_model(Config.fromfile(STAGE2), None)
    torch.manual_seed(0)
    with torch.no_grad():
        for param in model.parameters():
            param.normal_(0, 0.1)
    (tmp_path / 'ckpt').mkdir()
    torch.save(
        dict(state_dict=model.state_dict()), tmp_path / 'ckpt' / 'off.pth')
    before = checksums(tmp_path)
    out = tmp_path / 'off.onnx'
    result = run_tool('export_onnx.py', STAGE2, out, '--checkpoint',
                      tmp_path / 'ckpt' / 'off.pth', '--verify',
                      '--cfg-options', 'model.test_cfg.off_weight=2')
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    assert lines[-1].startswith('max abs difference: ')
    assert lines[-1].endswith('(pass at 0.0001)')
    assert_unchanged(before, tmp_path, documented=('off.onnx', ))
    onnx.checker.check_model(str(out), full_check=True)

    model.test_cfg['off_weight'] = 2
    graph, = recognition.graphs(model)
    clips = torch.randint(0, 256, (2, 8, 3, 56, 56)).float()
    with torch.no_grad():
        expected = graph.module(clips).numpy()
    scores, = ORTModel(str(out)).expect('recognition', 'recognizer')(
        clips.numpy())
    assert abs(scores - expected).max() < 1e-5
    model.test_cfg['off_weight'] = 1  # the option made a difference
    with torch.no_grad():
        assert abs(graph.module(clips).numpy() - expected).max() > 1e-3


def test_streaming_restorer_writes_its_three_files(tmp_path, capsys):
    tool = runpy.run_path(str(tool_path('export_onnx.py')))
    out = tmp_path / 'off3.onnx'
    assert tool['main'](
        [str(DNCNN_OFF3),
         str(out), '--verify', '--shape', '24', '40'])
    printed = capsys.readouterr().out.splitlines()
    names = ['off3.onnx', 'off3.frame.onnx', 'off3.fusion.onnx']
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)
    for name in names:
        assert sum(
            line.startswith(f'{tmp_path / name}: onnxruntime: max abs '
                            'difference') and '(pass at' in line
            for line in printed) == 1
    assert printed[-1].startswith('max abs difference: ')
    window = ORTModel(str(out))
    assert window.metadata == dict(
        task='restoration', num_frames=3, graph='window')
    frames = torch.rand(1, 3, 3, 48, 16).numpy() * 255  # any size
    assert window(frames)[0].shape == (1, 3, 48, 16)


def test_int8_restorer_verified_and_evaluated_on_two_runtimes(tmp_path):
    """``--int8 --verify --eval`` in a fresh interpreter, on a config of
    tiny compressed clips: the three int8 files beside the float ones (and
    nothing else written, the data only read), each verified on both
    runtimes, and the PSNR table: ONNX Runtime's and OpenVINO's float32 as
    PyTorch's, their int8 near it."""
    config = restorer_config(tmp_path, '')
    before = checksums(tmp_path)
    work = tmp_path / 'export'
    work.mkdir()
    result = run_tool(
        'export_onnx.py',
        config,
        work / 'off3.onnx',
        '--int8',
        '--calib-samples',
        '2',
        '--verify',
        '--eval',
        '--backend',
        'onnxruntime',
        'openvino',
        cwd=work)
    assert result.returncode == 0, result.stderr[-3000:]
    names = [
        f'off3{precision}{graph}.onnx' for precision in ('', '.int8')
        for graph in ('', '.frame', '.fusion')
    ]
    assert sorted(p.name for p in work.iterdir()) == sorted(names)
    assert_unchanged(before, tmp_path, documented=('export', ))
    lines = result.stdout.splitlines()
    for name in names:
        for backend in ('onnxruntime', 'openvino'):
            assert sum(
                line.startswith(f'{work / name}: {backend}: max abs')
                and '(pass at' in line for line in lines) == 1, name
    psnr = {
        ' '.join(line.split()[:2]): float(line.split()[2])
        for line in lines
        if line.split()[:1] in (['PyTorch'], ['onnxruntime'],
                                ['openvino']) and len(line.split()) == 4
    }
    assert len(psnr) == 5, lines[-8:]
    for backend in ('onnxruntime', 'openvino'):
        assert abs(psnr[f'{backend} float32'] - psnr['PyTorch float32']) < 0.01
        assert abs(psnr[f'{backend} int8'] - psnr['PyTorch float32']) < 1
    assert lines[-1].startswith('max abs difference: ')


def test_bad_input_ends_in_one_line_and_writes_nothing(tmp_path):
    """The first in a fresh interpreter (one line, exit status 1), the
    others through ``main``."""
    before = checksums(tmp_path)
    assert_one_line_error(
        run_tool('export_onnx.py', DNCNN_OFF3, tmp_path / 'out.txt'),
        'out.txt', 'must end with .onnx')
    tool = runpy.run_path(str(tool_path('export_onnx.py')))
    with pytest.raises(
            ToolError,
            match='none.pth: no such checkpoint file '
            r'\(--checkpoint\)'):
        tool['main']([
            str(DNCNN_OFF3),
            str(tmp_path / 'out.onnx'), '--checkpoint',
            str(tmp_path / 'none.pth')
        ])
    with pytest.raises(
            ValueError,
            match='--segments: a restorer takes '
            'generator.num_frames frames'):
        tool['main'](
            [str(DNCNN_OFF3),
             str(tmp_path / 'out.onnx'), '--segments', '4'])
    with pytest.raises(ToolError, match='no folder .*missing; make it'):
        tool['main']([str(DNCNN_OFF3), str(tmp_path / 'missing' / 'o.onnx')])
    assert_unchanged(before, tmp_path)
