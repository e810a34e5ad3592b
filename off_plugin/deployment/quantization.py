# Copyright (c) off_plugin authors. All rights reserved.
"""Static int8 quantization of the exported graphs, with ONNX Runtime's own
quantizer (``onnxruntime.quantization.quantize_static``).

The int8 file is a QDQ graph: the float graph with ``QuantizeLinear`` /
``DequantizeLinear`` pairs around the quantized operators, standard
``ai.onnx`` operators only, so that ONNX Runtime, OpenVINO and onnx's
``ReferenceEvaluator`` all run it. Weights are int8 per output channel,
activations uint8 per tensor, their ranges calibrated on samples of the
config's data (each task's ``calibration_inputs``). What must stay float
is named by module (:func:`nodes_of`), from the exporter's record of the
module each node comes from.
"""
import contextlib
import json
import os.path as osp
import tempfile
from typing import Dict, Iterable, Iterator, List, Sequence

import numpy as np
import onnx
from onnxruntime.capi.onnxruntime_pybind11_state import Fail, InvalidArgument
from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod,
                                      QuantFormat, QuantType, quantize_static)
from onnxruntime.quantization.shape_inference import quant_pre_process

from ..utils.cli import one_line
from ..utils.fileio import atomic_write


class Samples(CalibrationDataReader):
    """Calibration samples, each the inputs of a graph (numpy arrays in
    the order of ``input_names``), for the quantizer."""

    def __init__(self, input_names: Sequence[str],
                 samples: Iterable[Sequence[np.ndarray]]) -> None:
        self.feeds = iter([
            dict(
                zip(input_names, (np.asarray(x, np.float32) for x in inputs)))
            for inputs in samples
        ])

    def get_next(self):
        return next(self.feeds, None)


def nodes_of(model: onnx.ModelProto, modules: Sequence[str]) -> List[str]:
    """Names of the nodes the exporter made from the modules named, each a
    module path of the exported module (``generator.off_unit``: that
    module and its children) or a module class (``OFFUnit``: every module
    of it), as the exporter records them in each node's metadata
    (``namespace``, ``pkg.torch.onnx.class_hierarchy``)."""
    names = []
    for node in model.graph.node:
        props = {p.key: p.value for p in node.metadata_props}
        # ': RecognizerGraph/model.off_head: OFFHead/sub: aten.sub.Tensor'
        paths = [
            part.split(':')[0].strip()
            for part in props.get('namespace', '').split('/')[1:]
        ]
        classes = [
            name.strip(" '").split('.')[-1] for name in props.get(
                'pkg.torch.onnx.class_hierarchy', '').strip('[]').split(',')
        ]
        if any(
                module in classes or any(
                    path == module or path.startswith(module + '.')
                    for path in paths) for module in modules):
            names.append(node.name)
    return names


@contextlib.contextmanager
def calibration_errors(float_file: str) -> Iterator[None]:
    """ONNX Runtime's refusal of a calibration sample, in one line naming
    the file and the fix."""
    try:
        yield
    except (InvalidArgument, Fail) as err:
        raise ValueError(
            f'{float_file}: a calibration sample does not fit the graph '
            f'({one_line(err)}); export at the size of the data (--shape, '
            'the test pipeline\'s views) or without --static.') from err


def quantize(float_file: str,
             out: str,
             samples: Sequence[Sequence[np.ndarray]],
             keep_float: Sequence[str] = (),
             method: str = 'minmax') -> Dict[str, object]:
    """Write the static int8 (QDQ) version of ``float_file`` to ``out``.

    Args:
        float_file (str): A float32 file of ``export_onnx``.
        out (str): The int8 file to write (whole or not at all; it must
            pass ``onnx.checker``).
        samples: Calibration inputs, each the graph's inputs in order.
        keep_float (Sequence[str]): Module paths or classes
            (:func:`nodes_of`) whose nodes stay float.
        method (str): Calibration of the activation ranges: ``'minmax'``
            or ``'percentile'`` (99.999th, ONNX Runtime's default).

    Returns:
        dict: What went into the file's metadata: ``precision``,
        ``calibration_samples``, ``float_modules`` and the number of their
        nodes, ``float_nodes``.
    """
    if not samples:
        raise ValueError(f'{float_file}: no calibration samples; pass '
                         '--calib-samples N with N >= 1.')
    model = onnx.load(float_file)
    input_names = [i.name for i in model.graph.input]
    excluded = nodes_of(model, keep_float)
    metadata = dict(
        precision='int8',
        calibration_samples=len(samples),
        float_modules=list(keep_float),
        float_nodes=len(excluded))
    with tempfile.TemporaryDirectory() as folder:
        prepared = osp.join(folder, 'prepared.onnx')
        # shape inference and graph optimisation, as the quantizer advises
        quant_pre_process(float_file, prepared)
        with atomic_write(out) as tmp, calibration_errors(float_file):
            quantize_static(
                prepared,
                tmp,
                Samples(input_names, samples),
                quant_format=QuantFormat.QDQ,
                per_channel=True,
                activation_type=QuantType.QUInt8,
                weight_type=QuantType.QInt8,
                nodes_to_exclude=excluded,
                calibrate_method=dict(
                    minmax=CalibrationMethod.MinMax,
                    percentile=CalibrationMethod.Percentile)[method],
                extra_options=dict(ActivationSymmetric=False))
            quantized = onnx.load(tmp)
            # the pre-processing imports ONNX Runtime's domains it left unused
            used = {node.domain for node in quantized.graph.node} | {''}
            imports = [o for o in quantized.opset_import if o.domain in used]
            del quantized.opset_import[:]
            quantized.opset_import.extend(imports)
            for key, value in metadata.items():
                quantized.metadata_props.add(key=key, value=json.dumps(value))
            onnx.save(quantized, tmp)
            onnx.checker.check_model(tmp, full_check=True)
    return metadata
