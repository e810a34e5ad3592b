# Copyright (c) off_plugin authors. All rights reserved.
"""Deploying OFF models: ONNX export, int8 quantization, and inference on
ONNX Runtime or OpenVINO.

- :mod:`.backend`: export with torch's ``torch.export``-based ONNX exporter,
  ``onnx.checker``, the runtimes behind one interface (``load_runtime``:
  ONNX Runtime here, OpenVINO in :mod:`.openvino`) and the parity check,
  shared by every task; it imports ``onnx`` and ``onnxruntime`` (the
  ``deploy`` extra), which nothing else of the plugin does.
- :mod:`.quantization`: static int8 (QDQ) files with ONNX Runtime's
  quantizer; :mod:`.evaluation`: calibration samples and the config's
  metric on its own data, for an exported file (mmengine only).
- :mod:`.openvino`: the same files on OpenVINO (the ``openvino`` extra).
- :mod:`.recognition`, :mod:`.restoration`, :mod:`.detection`: each task's
  export graphs, calibration inputs, evaluation and runner, importing its
  own host only.

``tools/deployment/export_onnx.py`` exports, quantizes (``--int8``),
verifies and evaluates a config's model; the inference tools of ``demo/``
take ``--backend onnxruntime`` or ``--backend openvino``.
"""
