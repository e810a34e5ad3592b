# Copyright (c) off_plugin authors. All rights reserved.
"""Recognize the action in a video with an OFF (or any MMAction2)
recognizer and print the top-k classes.

    python demo/recognize_video.py \\
        configs/recognition/off/off_r18_1xb8-5of8seg-10e_motion-demo-rgb.py \\
        work_dirs/motion_demo/off/epoch_10.pth video.mp4 \\
        --label-file data/motion_demo/classes.txt

MMAction2's own ``init_recognizer`` / ``inference_recognizer`` with the
config's ``test_pipeline`` (interval-consistent sampling, crops) and
``test_cfg`` (TSN + OFF score weights, crop aggregation), as ``mim test``.
With ``--backend onnxruntime`` or ``--backend openvino`` the checkpoint is
the ``OUT.onnx`` of ``tools/deployment/export_onnx.py`` (float32, or its
int8 ``OUT.int8.onnx``) and ONNX Runtime or OpenVINO (CPU only; ``pip
install "off_plugin[openvino]"``) scores the clips of the same pipeline.
Writes nothing: it prints ``<class>: <score>`` lines on stdout.
"""
import argparse
import os.path as osp
from typing import List, Optional, Sequence, Tuple, Union

from mmaction.apis import inference_recognizer, init_recognizer
from mmengine.config import Config

from off_plugin.utils import (ToolError, add_cfg_options,
                              add_inference_options, load_config, run_tool)


def read_labels(path: str) -> List[str]:
    """Class names, one a line."""
    with open(path) as f:
        labels = [line.strip() for line in f if line.strip()]
    if not labels:
        raise ToolError(f'{path}: no class name in the label file '
                        '(--label-file); give one name a line.')
    return labels


def recognize(config: Union[str, Config],
              checkpoint: str,
              video: str,
              labels: Optional[List[str]] = None,
              topk: int = 5,
              device: str = 'cpu',
              backend: str = 'pytorch') -> List[Tuple[str, float]]:
    """The ``topk`` (class, score) pairs of ``video``, best first;
    ``backend='onnxruntime'`` or ``'openvino'``: ``checkpoint`` is an
    exported .onnx file, run on that runtime."""
    if '://' not in checkpoint and not osp.isfile(checkpoint):
        raise ToolError(
            f'{checkpoint}: no such checkpoint file; pass the .pth of a run '
            'of this config (or its URL), or with --backend onnxruntime / '
            'openvino the .onnx file of tools/deployment/export_onnx.py.')
    if not osp.isfile(video):
        raise ToolError(f'{video}: no such video file; pass the path of a '
                        'video file (e.g. .mp4).')
    if not isinstance(config, Config):
        config = load_config(config)
    if backend != 'pytorch':
        from off_plugin.deployment.recognition import ONNXRecognizer
        model = ONNXRecognizer(config, checkpoint, device, backend)
        result = model(video)
    else:
        result = inference_recognizer(
            init_recognizer(config, checkpoint, device=device), video)
    scores = result.pred_score.cpu()
    if labels is not None and len(labels) != len(scores):
        raise ToolError(
            f'--label-file has {len(labels)} names but the model of '
            f'{config.filename} scores {len(scores)} classes; pass the class '
            'list it was trained on.')
    values, indices = scores.topk(min(topk, len(scores)))
    return [(labels[i] if labels else str(int(i)), float(v))
            for v, i in zip(values, indices)]


def main(argv: Optional[Sequence[str]] = None) -> List[Tuple[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='recognizer config file')
    parser.add_argument(
        'checkpoint',
        help='its checkpoint (.pth), or with --backend onnxruntime / '
        'openvino its exported .onnx (float32 or .int8.onnx)')
    parser.add_argument('video', help='a video file')
    parser.add_argument('--label-file', help='class names, one a line')
    parser.add_argument('--topk', type=int, default=5)
    add_inference_options(parser)
    add_cfg_options(parser)
    args = parser.parse_args(argv)
    labels = read_labels(args.label_file) if args.label_file else None
    results = recognize(
        load_config(args.config, args.cfg_options), args.checkpoint,
        args.video, labels, args.topk, args.device, args.backend)
    for name, score in results:
        print(f'{name}: {score:.4f}')
    return results


if __name__ == '__main__':
    run_tool(main)
