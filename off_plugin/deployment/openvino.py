# Copyright (c) off_plugin authors. All rights reserved.
"""The exported ONNX files on OpenVINO (``--backend openvino``).

OpenVINO reads the files of ``tools/deployment/export_onnx.py`` as they are
(its ONNX frontend; float32 and the int8 QDQ files alike): there is no
conversion step and no second file format. It imports ``openvino``, the
``openvino`` extra; nothing else of the plugin does.
"""
from typing import List, Optional, Sequence

import numpy as np
import openvino as ov

from .backend import Runtime, read_interface


class OVModel(Runtime):
    """An exported file on OpenVINO's CPU plugin.

    Non-quantized operators run in float32 (``INFERENCE_PRECISION_HINT``;
    OpenVINO would otherwise pick bfloat16 on CPUs that have it), the
    QuantizeLinear / DequantizeLinear pairs of an int8 file in int8.

    Args:
        path (str): The ``.onnx`` file.
        device (str): ``'cpu'`` (the only one: OpenVINO's GPU plugin is
            for Intel GPUs; use ONNX Runtime for CUDA).
        threads (int, optional): Inference threads; None: OpenVINO's
            default (one per core).
    """
    backend, name = 'openvino', 'OpenVINO'

    def __init__(self,
                 path: str,
                 device: str = 'cpu',
                 threads: Optional[int] = None) -> None:
        super().__init__(path)
        if device != 'cpu':
            raise ValueError(
                f'--device {device}: --backend openvino runs on the cpu; '
                'use --device cpu, or --backend onnxruntime on CUDA.')
        config = {'INFERENCE_PRECISION_HINT': 'f32'}
        if threads:
            config['INFERENCE_NUM_THREADS'] = threads
        core = ov.Core()
        try:
            self.compiled = core.compile_model(
                core.read_model(path), 'CPU', config)
            # a port has several tensor names: the file's own are those
            self.input_names, self.output_names, self.metadata = (
                read_interface(path))
        except Exception as err:  # OpenVINO raises RuntimeError; onnx its own
            raise self.cannot_load(err) from err
        self.input_shapes = [[
            d.get_length() if d.is_static else None
            for d in self.compiled.input(name).get_partial_shape()
        ] for name in self.input_names]
        self.outputs = [
            self.compiled.output(name) for name in self.output_names
        ]
        self.request = self.compiled.create_infer_request()

    def run(self, inputs: Sequence[np.ndarray]) -> List[np.ndarray]:
        results = self.request.infer(
            dict(zip(self.input_names, inputs)), share_outputs=False)
        return [results[output] for output in self.outputs]
