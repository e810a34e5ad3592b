# Copyright (c) off_plugin authors. All rights reserved.
"""Detect objects in a video with an OFF video detector; write the video
with the boxes drawn and a json of the detections.

    python demo/detect_video.py \
        configs/detection/off/off-ms_rfcn_r18-tiny_1xb8-5e_moving-objects.py \
        work_dirs/detection_demo/rfcn_off/epoch_5.pth \
        data/moving_objects/Data/val/0000 out/0000.mp4 --score-thr 0.5

The input is a video file or a folder of frames (name order). Detection is
online: each frame is paired with the one before it and its features are
computed once. ``--cfg-options`` overrides settings of the config.

``--backend onnxruntime`` or ``--backend openvino`` runs the file of
``tools/deployment/export_onnx.py`` (given in place of the checkpoint;
float32 or its int8 ``OUT.int8.onnx``) on ONNX Runtime or OpenVINO (CPU
only; ``pip install "off_plugin[openvino]"``), frames resized as the
config's test pipeline does to the size it was exported at; the detections,
drawing and outputs are the same as with PyTorch.

Writes only ``OUT`` (the 4th argument, or ``--out``; MPEG-4, the input's
frame rate or ``--fps``) and ``OUT`` with ``.json``: per frame, the boxes
(x1, y1, x2, y2, pixels), scores, labels and class names above
``--score-thr``; and the folders of ``OUT`` that are missing. Both are
written beside their final names as ``.<name>.tmp-<pid>`` (the video's
with ``OUT``'s extension after it) and renamed once complete, so ``OUT`` is
whole or untouched: a failed run removes them (and the folders it made),
a killed one may leave them (the next run deletes them). The input,
config and checkpoint are only read; an ``OUT`` or ``OUT.json`` that is one
of them is refused.

A bad input (a missing config or checkpoint, a checkpoint of another model,
an empty or damaged video, a folder without frames, a frame that does not
decode) stops the run with a one-line error naming the file and the fix
(exit status 1).
"""
import argparse
import json
import os
import os.path as osp

import cv2
import mmcv
from mmdet.registry import VISUALIZERS
from mmengine.utils import ProgressBar

from off_plugin.detection.inference import (init_video_detector,
                                            iter_video_detections)
from off_plugin.utils.cli import (ToolError, add_cfg_options,
                                  add_inference_options, load_config, run_tool)
from off_plugin.utils.fileio import atomic_write
from off_plugin.utils.video_io import read_video, video_fps


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument(
        'checkpoint',
        help='checkpoint (.pth); with --backend onnxruntime / openvino '
        'the exported .onnx file (float32 or .int8.onnx)')
    parser.add_argument('video', help='video file or folder of frames')
    parser.add_argument('out', nargs='?', help='output video (.mp4)')
    parser.add_argument(
        '--out',
        dest='out_option',
        metavar='OUT',
        help='output video (.mp4), as the 4th argument')
    parser.add_argument(
        '--score-thr', type=float, default=0.3, help='bbox score threshold')
    parser.add_argument(
        '--fps',
        type=float,
        default=None,
        help='output frame rate (default: the input\'s, or '
        '25 for a folder of frames)')
    add_inference_options(parser)
    add_cfg_options(parser)
    args = parser.parse_args(argv)
    if (args.out is None) == (args.out_option is None):
        parser.error('give the output video once: as the 4th argument or '
                     'as --out')
    args.out = args.out or args.out_option
    return args


def write_detections(model, frames, num_frames, args, video_path, json_path):
    """Detect in ``frames``; write the drawn frames to ``video_path`` and
    the detections to ``json_path``."""
    visualizer = VISUALIZERS.build(model.cfg.visualizer)
    visualizer.dataset_meta = model.dataset_meta
    classes = model.dataset_meta['classes']
    fps = args.fps or video_fps(args.video)
    writer, detections = None, []
    progress = ProgressBar(num_frames)
    try:
        for frame_id, (frame, sample) in enumerate(
                iter_video_detections(model, frames)):
            visualizer.add_datasample(
                'frame',
                mmcv.bgr2rgb(frame),
                sample,
                draw_gt=False,
                pred_score_thr=args.score_thr)
            drawn = mmcv.rgb2bgr(visualizer.get_image())
            if writer is None:
                writer = cv2.VideoWriter(video_path,
                                         cv2.VideoWriter_fourcc(*'mp4v'), fps,
                                         drawn.shape[1::-1])
                if not writer.isOpened():
                    raise ValueError(
                        f'{args.out}: OpenCV cannot write an MPEG-4 video '
                        'there; give the output a .mp4 name.')
            writer.write(drawn)
            pred = sample.pred_instances
            keep = pred.scores >= args.score_thr
            detections.append(
                dict(
                    frame_id=frame_id,
                    bboxes=pred.bboxes[keep].tolist(),
                    scores=pred.scores[keep].tolist(),
                    labels=pred.labels[keep].tolist(),
                    classes=[classes[i] for i in pred.labels[keep].tolist()]))
            progress.update()
    finally:
        if writer is not None:
            writer.release()
    with open(json_path, 'w') as f:
        json.dump(
            dict(video=args.video, classes=list(classes), frames=detections),
            f)


def missing_dirs(path):
    """``path`` and those of its parents that do not exist, deepest
    first."""
    missing = []
    while not osp.isdir(path):
        missing.append(path)
        path = osp.dirname(path)
    return missing


def main(argv=None):
    args = parse_args(argv)
    json_path = osp.splitext(args.out)[0] + '.json'
    inputs = {
        osp.realpath(p)
        for p in (args.video, args.config, args.checkpoint)
    }
    for path in (args.out, json_path):
        if osp.realpath(path) in inputs:
            raise ToolError(f'{path}: this output would overwrite an input '
                            'of the run; give OUT another name.')
    new_dirs = missing_dirs(osp.dirname(osp.abspath(args.out)))
    try:
        num_frames, frames = read_video(args.video)
        cfg = load_config(args.config, args.cfg_options)
        if args.backend != 'pytorch':
            # imports onnxruntime (and openvino): only for these backends
            from off_plugin.deployment.detection import ONNXVideoDetector
            model = ONNXVideoDetector(cfg, args.checkpoint, args.device,
                                      args.backend)
        else:
            model = init_video_detector(cfg, args.checkpoint, args.device)
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        # OpenCV picks the container by the extension: the temporary's too
        with atomic_write(json_path) as tmp_json, atomic_write(
                args.out, suffix=osp.splitext(args.out)[1]) as tmp_video:
            write_detections(model, frames, num_frames, args, tmp_video,
                             tmp_json)
    finally:
        for folder in new_dirs:
            if osp.isdir(folder) and not os.listdir(folder):
                os.rmdir(folder)
    print(f'\nwrote {args.out} and {json_path} ({num_frames} frames)')


if __name__ == '__main__':
    run_tool(main)
