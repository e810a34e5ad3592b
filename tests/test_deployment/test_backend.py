# Copyright (c) off_plugin authors. All rights reserved.
"""The shared export and ONNX Runtime helpers: a file is written whole and
checked, carries its metadata, and a wrong file or device is refused in one
line."""
import onnx
import pytest
import torch

from off_plugin.deployment.backend import (Graph, ORTModel, compare_outputs,
                                           parity_line, providers)


class Affine(torch.nn.Module):

    def forward(self, x):
        return 2 * x + 1, x.sum(dim=1)


def test_export_checks_and_reads_back_metadata(tmp_path):
    x = torch.randn(2, 3)
    graph = Graph('', Affine(), (x, ), ['x'], ['y', 'total'],
                  dict(x={0: torch.export.Dim('batch', min=1, max=8)}),
                  dict(task='unit', graph='affine', sizes=[2, 3]))
    path = graph.export(str(tmp_path / 'affine.onnx'))
    assert sorted(p.name for p in tmp_path.iterdir()) == ['affine.onnx']
    onnx.checker.check_model(path, full_check=True)
    model = ORTModel(path).expect('unit', 'affine')
    assert model.metadata['sizes'] == [2, 3]
    y, total = model(torch.ones(5, 3).numpy())  # another batch size
    assert (y == 3).all() and (total == 3).all() and y.shape == (5, 3)
    difference, _ = graph.verify(path, (torch.randn(4, 3), ))
    assert difference < 1e-5


def test_suffix_names_files_beside_the_main_one():
    graph = Graph('frame', Affine(), (), [], [])
    assert graph.path('out/model.onnx') == 'out/model.frame.onnx'
    assert graph._replace(suffix='').path('out/model.onnx') == \
        'out/model.onnx'


def test_compare_and_parity_line():
    expected = [torch.tensor([100., -200.]).numpy()]
    difference, tolerance = compare_outputs(
        expected, [torch.tensor([100.01, -200.]).numpy()])
    assert difference == pytest.approx(0.01, rel=1e-3)
    assert tolerance == pytest.approx(0.02)  # 1e-4 of the scale, 200
    assert parity_line(difference, tolerance) == \
        'max abs difference: 0.01 (pass at 0.02)'
    assert parity_line(0.03, 0.02).endswith('(fail at 0.02)')
    with pytest.raises(ValueError, match='different shapes'):
        compare_outputs(expected, [torch.zeros(3).numpy()])


def test_wrong_file_and_device_are_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match='export_onnx.py'):
        ORTModel(str(tmp_path / 'missing.onnx'))
    graph = Graph(
        '',
        Affine(), (torch.randn(2, 3), ), ['x'], ['y', 't'],
        metadata=dict(task='unit', graph='affine'))
    path = graph.export(str(tmp_path / 'a.onnx'))
    with pytest.raises(
            ValueError, match='not the window graph of '
            'restoration'):
        ORTModel(path).expect('restoration', 'window')
    with pytest.raises(ValueError, match='onnxruntime-gpu'):
        providers('cuda:0')  # the CPU build has no CUDA provider
    with pytest.raises(ValueError, match='use cpu, cuda or cuda:N'):
        providers('tpu')


def test_a_file_that_is_not_onnx_is_refused_in_one_line(tmp_path):
    (tmp_path / 'weights.pth').write_bytes(b'PK\x03\x04 not a model')
    with pytest.raises(
            ValueError,
            match=r'weights.pth: ONNX Runtime cannot '
            r'load it \(.*\); pass an .onnx file of '
            'tools/deployment/export_onnx.py'):
        ORTModel(str(tmp_path / 'weights.pth'))


@pytest.mark.parametrize('fails', ['save', 'check'])
def test_a_failed_export_keeps_the_old_file_and_leaves_no_part(
        tmp_path, monkeypatch, fails):
    """A disk filling up in ``onnx.save`` (it wrote part of the file) or a
    graph ``onnx.checker`` refuses: the file of a previous export stays and
    no temporary is left."""
    graph = Graph('', Affine(), (torch.randn(2, 3), ), ['x'], ['y', 't'])
    path = graph.export(str(tmp_path / 'a.onnx'))
    before = open(path, 'rb').read()
    save = onnx.save

    def save_half(model, f):
        save(model, f)
        with open(f, 'r+b') as file:
            file.truncate(len(before) // 2)
        raise OSError(28, 'No space left on device')

    def refuse(*args, **kwargs):
        raise onnx.checker.ValidationError('bad graph')

    if fails == 'save':
        monkeypatch.setattr(onnx, 'save', save_half)
    else:
        monkeypatch.setattr(onnx.checker, 'check_model', refuse)
    with pytest.raises((OSError, onnx.checker.ValidationError)):
        graph.export(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ['a.onnx']
    assert open(path, 'rb').read() == before
