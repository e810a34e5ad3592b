# Copyright (c) off_plugin authors. All rights reserved.
"""Deploying OFF models: ONNX export and ONNX Runtime inference.

- :mod:`.backend`: export with torch's ``torch.export``-based ONNX exporter,
  ``onnx.checker``, ONNX Runtime sessions and the parity check, shared by
  every task; it imports ``onnx`` and ``onnxruntime`` (the ``deploy``
  extra), which nothing else of the plugin does.
- :mod:`.recognition`, :mod:`.restoration`, :mod:`.detection`: each task's
  export graphs and its ONNX Runtime inference, importing its own host
  only.

``tools/deployment/export_onnx.py`` exports and verifies a config's model;
the inference tools of ``demo/`` take ``--backend onnxruntime``.
"""
