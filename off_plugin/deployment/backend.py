# Copyright (c) off_plugin authors. All rights reserved.
"""ONNX export, checking and the runtimes, shared by the tasks.

Export uses torch's ``torch.export``-based ONNX exporter
(``torch.onnx.export(..., dynamo=True)``, onnxscript behind it): the default
since torch 2.9 and the one that gets fixes. The TorchScript-based exporter
that MMDeploy patches is deprecated and warns on every call.
"""
import functools
import json
import os.path as osp
import warnings
from typing import (Callable, Dict, Iterable, List, NamedTuple, Optional,
                    Sequence, Tuple)

import numpy as np
import onnx
import onnxruntime as ort
import torch

from ..utils.cli import one_line
from ..utils.fileio import atomic_write

#: opset of the exported files: 18 is what the exporter writes natively
#: (older opsets are converted afterwards, op by op); ONNX Runtime >= 1.14
#: runs it
DEFAULT_OPSET = 18

#: the tolerance of an int8 file's parity, relative to the scale of the
#: float outputs
INT8_RELATIVE = 0.1

#: (PyTorch's outputs, the runtime's) -> (difference, tolerance)
Comparison = Callable[[List[np.ndarray], List[np.ndarray]], Tuple[float,
                                                                  float]]


def int8_path(out: str) -> str:
    """The int8 file of the float file ``OUT.onnx``: ``OUT.int8.onnx``,
    with its other graphs ``OUT.int8.<graph>.onnx`` beside it as the
    float ones are."""
    stem = out[:-len('.onnx')] if out.endswith('.onnx') else out
    return f'{stem}.int8.onnx'


class Graph(NamedTuple):
    """One file of an export: the module and what the exporter needs.

    ``suffix`` names the file: ``''`` for the file the user names
    (``OUT.onnx``), else ``OUT.<suffix>.onnx`` beside it. ``inputs`` are
    example inputs (random, at the export's sizes); ``compare`` judges
    parity (default: :func:`compare_outputs`), ``int8_compare`` that of
    its int8 file (default: :func:`compare_outputs` at
    :data:`INT8_RELATIVE`), whose quantizer keeps the modules
    ``float_modules`` in float (module paths or classes).
    """
    suffix: str
    module: torch.nn.Module
    inputs: Tuple[torch.Tensor, ...]
    input_names: Sequence[str]
    output_names: Sequence[str]
    dynamic_shapes: Optional[dict] = None
    metadata: Dict[str, object] = {}
    compare: Optional[Comparison] = None
    float_modules: Sequence[str] = ()
    int8_compare: Optional[Comparison] = None

    def path(self, out: str) -> str:
        """This graph's file, for ``out`` the file the user named."""
        if not self.suffix:
            return out
        stem = out[:-len('.onnx')] if out.endswith('.onnx') else out
        return f'{stem}.{self.suffix}.onnx'

    def export(self, out: str, opset: int = DEFAULT_OPSET) -> str:
        """Export to :meth:`path` (``out``); returns the path."""
        return export_onnx(self.module, self.inputs, self.path(out),
                           self.input_names, self.output_names,
                           self.dynamic_shapes, opset, self.metadata)

    def verify(self,
               out: str,
               inputs: Optional[Sequence[torch.Tensor]] = None,
               device: str = 'cpu',
               backend: str = 'onnxruntime',
               int8: bool = False) -> Tuple[float, float]:
        """(difference, tolerance) between the module on PyTorch and its
        file (``int8``: its int8 file) on ``backend``, on ``inputs``
        (default: the example inputs)."""
        inputs = tuple(self.inputs if inputs is None else inputs)
        with torch.no_grad():
            expected = self.module.eval()(*inputs)
        expected = [
            t.cpu().numpy()
            for t in (expected if isinstance(expected, (tuple, list)) else (
                expected, ))
        ]
        path = self.path(int8_path(out) if int8 else out)
        actual = load_runtime(path, backend,
                              device)(*[t.cpu().numpy() for t in inputs])
        if int8:
            return (self.int8_compare or functools.partial(
                compare_outputs, relative=INT8_RELATIVE))(expected, actual)
        return (self.compare or compare_outputs)(expected, actual)


def export_onnx(graph: torch.nn.Module,
                args: tuple,
                path: str,
                input_names: Sequence[str],
                output_names: Sequence[str],
                dynamic_shapes: Optional[dict] = None,
                opset: int = DEFAULT_OPSET,
                metadata: Optional[Dict[str, object]] = None) -> str:
    """Export ``graph(*args)`` (eval mode, no gradients) to ``path``.

    ``dynamic_shapes`` maps input names to ``{axis: torch.export.Dim}``;
    the other axes keep the sizes of ``args``. ``metadata`` (JSON-able
    values) goes into the file's ``metadata_props``, where
    :class:`Runtime` reads it back. The file is written whole or not at
    all, with the weights inside it, and must pass ``onnx.checker``.
    """
    graph = graph.eval()
    with torch.no_grad():
        program = torch.onnx.export(
            graph,
            args,
            dynamo=True,
            input_names=list(input_names),
            output_names=list(output_names),
            dynamic_shapes=dynamic_shapes,
            opset_version=opset,
            optimize=True,
            verbose=False)
    model = program.model_proto
    for key, value in (metadata or {}).items():
        model.metadata_props.add(key=key, value=json.dumps(value))
    with atomic_write(path) as tmp:
        onnx.save(model, tmp)
        onnx.checker.check_model(tmp, full_check=True)
    return path


class Runtime:
    """An exported file on an inference runtime: ``model(*arrays)`` runs it
    on numpy arrays (in the order of its inputs) and returns its outputs.

    Subclasses (:class:`ORTModel`, :class:`~.openvino.OVModel`) load the
    file and set ``input_names``, ``output_names``, ``input_shapes`` (one
    list per input, ``None`` for a dynamic axis) and ``metadata`` (what the
    export tool wrote in ``metadata_props``), and implement :meth:`run`.
    """
    #: the name of ``--backend`` that selects it, and the runtime's own
    backend = ''
    name = ''

    def __init__(self, path: str) -> None:
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'{path}: no such ONNX file; export one with '
                'tools/deployment/export_onnx.py CONFIG OUT.onnx.')
        self.path = path
        self.input_names: List[str] = []
        self.output_names: List[str] = []
        self.input_shapes: List[list] = []
        self.metadata: Dict[str, object] = {}

    def __call__(self, *inputs: np.ndarray) -> List[np.ndarray]:
        if len(inputs) != len(self.input_names):
            raise ValueError(
                f'{self.path} takes {len(self.input_names)} inputs '
                f'({", ".join(self.input_names)}), got {len(inputs)}.')
        return self.run(inputs)

    def run(self, inputs: Sequence[np.ndarray]) -> List[np.ndarray]:
        raise NotImplementedError

    def cannot_load(self, err: Exception) -> ValueError:
        """The one-line error for a file the runtime refuses."""
        return ValueError(
            f'{self.path}: {self.name} cannot load it ({one_line(err)}); '
            'pass an .onnx file of tools/deployment/export_onnx.py.')

    def expect(self, task: str, graph: str) -> 'Runtime':
        """Refuse a file that is not the ``graph`` graph of ``task``, in
        one line naming it (``metadata`` written by the export tool)."""
        found = (self.metadata.get('task'), self.metadata.get('graph'))
        if found != (task, graph):
            what = ('no off_plugin metadata' if found == (None, None) else
                    f'the {found[1]} graph of {found[0]}')
            raise ValueError(
                f'{self.path}: {what}, not the {graph} graph of {task}; '
                'pass a file that tools/deployment/export_onnx.py wrote for '
                f'a {task} config.')
        return self


class ORTModel(Runtime):
    """An exported file on ONNX Runtime.

    Args:
        path (str): The ``.onnx`` file.
        device (str): ``'cpu'``, or ``'cuda'`` / ``'cuda:N'`` for ONNX
            Runtime's CUDA provider (``onnxruntime-gpu``).
        threads (int, optional): Threads of an operator (intra-op); None:
            ONNX Runtime's default (one per core).
    """
    backend, name = 'onnxruntime', 'ONNX Runtime'

    def __init__(self,
                 path: str,
                 device: str = 'cpu',
                 threads: Optional[int] = None) -> None:
        super().__init__(path)
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(
                path, options, providers=providers(device))
        except (ort.capi.onnxruntime_pybind11_state.Fail,
                ort.capi.onnxruntime_pybind11_state.InvalidProtobuf,
                ort.capi.onnxruntime_pybind11_state.InvalidGraph) as err:
            raise self.cannot_load(err) from err
        inputs = self.session.get_inputs()
        self.input_names = [i.name for i in inputs]
        self.input_shapes = [[
            d if isinstance(d, int) else None for d in i.shape
        ] for i in inputs]
        self.output_names = [o.name for o in self.session.get_outputs()]
        self.metadata = parse_metadata(
            self.session.get_modelmeta().custom_metadata_map.items())

    def run(self, inputs: Sequence[np.ndarray]) -> List[np.ndarray]:
        return self.session.run(None, dict(zip(self.input_names, inputs)))


#: the runtimes of ``--backend``
BACKENDS = ('onnxruntime', 'openvino')


def load_runtime(path: str,
                 backend: str = 'onnxruntime',
                 device: str = 'cpu',
                 threads: Optional[int] = None) -> Runtime:
    """The ``.onnx`` file ``path`` on ``backend`` (one of
    :data:`BACKENDS`), ``threads`` intra-op threads (None: the runtime's
    default)."""
    if backend == 'onnxruntime':
        return ORTModel(path, device, threads)
    if backend == 'openvino':
        try:
            from .openvino import OVModel
        except ImportError as err:
            raise ValueError(
                f'--backend openvino: {one_line(err)}; install OpenVINO with '
                '\'pip install "off_plugin[openvino]"\'.') from err
        return OVModel(path, device, threads)
    raise ValueError(f'--backend {backend}: use one of '
                     f'{", ".join(BACKENDS)}.')


def read_interface(path: str) -> Tuple[List[str], List[str], dict]:
    """(input names, output names, metadata) of an ``.onnx`` file: its
    graph's inputs and outputs in order, and the ``metadata_props`` that
    :func:`export_onnx` wrote (JSON values)."""
    model = onnx.load(path, load_external_data=False)
    weights = {w.name for w in model.graph.initializer}
    return ([i.name for i in model.graph.input
             if i.name not in weights], [o.name for o in model.graph.output],
            parse_metadata((p.key, p.value) for p in model.metadata_props))


def parse_metadata(items: Iterable[Tuple[str, str]]) -> Dict[str, object]:
    """A file's ``metadata_props``: the JSON values :func:`export_onnx`
    wrote, decoded; the others (ONNX Runtime's quantizer adds its own
    strings) as they are."""
    metadata = {}
    for key, value in items:
        try:
            metadata[key] = json.loads(value)
        except ValueError:
            metadata[key] = value
    return metadata


def providers(device: str) -> list:
    """ONNX Runtime's execution providers for ``device``."""
    if device == 'cpu':
        return ['CPUExecutionProvider']
    if device.split(':')[0] == 'cuda':
        if 'CUDAExecutionProvider' not in ort.get_available_providers():
            raise ValueError(
                f'--device {device}: this onnxruntime has no CUDA provider '
                f'(it has {", ".join(ort.get_available_providers())}); '
                'install onnxruntime-gpu in place of onnxruntime, or use '
                '--device cpu.')
        index = int(device.split(':')[1]) if ':' in device else 0
        return [('CUDAExecutionProvider', dict(device_id=index)),
                'CPUExecutionProvider']
    raise ValueError(f'--device {device}: use cpu, cuda or cuda:N.')


def max_abs_difference(expected: Sequence[np.ndarray],
                       actual: Sequence[np.ndarray]) -> float:
    """The largest absolute difference between two lists of arrays of the
    same shapes."""
    if [np.shape(e) for e in expected] != [np.shape(a) for a in actual]:
        raise ValueError(
            'outputs of different shapes: '
            f'{[np.shape(e) for e in expected]} (PyTorch) against '
            f'{[np.shape(a) for a in actual]} (the runtime).')
    return max(
        float(np.abs(np.asarray(e, np.float64) - a).max(initial=0))
        for e, a in zip(expected, actual))


def compare_outputs(expected: List[np.ndarray],
                    actual: List[np.ndarray],
                    relative: float = 1e-4) -> Tuple[float, float]:
    """The largest absolute difference and, as the tolerance, ``relative``
    times the scale of PyTorch's outputs (their largest absolute value,
    at least 1)."""
    scale = max(float(np.abs(o).max(initial=0)) for o in expected)
    return max_abs_difference(expected, actual), relative * max(scale, 1.)


def parity_line(difference: float, tolerance: float) -> str:
    """The verdict of ``export_onnx.py --verify``."""
    verdict = 'pass' if difference <= tolerance else 'fail'
    return (f'max abs difference: {difference:.3g} ({verdict} at '
            f'{tolerance:.3g})')


def non_identity_weights(model: torch.nn.Module, seed: int = 0) -> None:
    """Re-draw, in place, what makes a layer of an untrained model an
    identity, so that a parity check without a checkpoint can fail: every
    parameter that is all zeros (``zero_init_residual`` convolutions and
    BatchNorm scales, zero biases) and the statistics of every BatchNorm
    (mean 0 and variance 1 at initialisation). Weight tensors get
    N(0, 1 / fan_in), vectors N(0, 0.1); running means N(0, 0.1), running
    variances U(0.5, 1.5)."""
    generator = torch.Generator().manual_seed(seed)

    def draw(like: torch.Tensor, std: float) -> torch.Tensor:
        return (torch.randn(like.shape, generator=generator) * std).to(like)

    with torch.no_grad():
        for param in model.parameters():
            if not param.any():
                fan_in = param[0].numel() if param.dim() > 1 else 100
                param.copy_(draw(param, fan_in**-.5))
        for module in model.modules():
            if isinstance(module, torch.nn.modules.batchnorm._NormBase
                          ) and module.running_mean is not None:
                module.running_mean.copy_(draw(module.running_mean, .1))
                module.running_var.copy_(
                    .5 +
                    torch.rand(module.running_var.shape,
                               generator=generator).to(module.running_var))


def without_checkpoint(model: torch.nn.Module) -> torch.nn.Module:
    """A model exported without ``--checkpoint``: random weights under
    which no layer is an identity (:func:`non_identity_weights`), with a
    warning that says so."""
    warnings.warn(
        'no --checkpoint: exporting random weights, with every all-zero '
        'parameter and BatchNorm statistic re-drawn so that no layer is an '
        'identity (a --verify can fail); pass --checkpoint for a trained '
        'model.')
    non_identity_weights(model)
    return model
