# Copyright (c) off_plugin authors. All rights reserved.
"""Detect objects in a video with an OFF video detector; write the video
with the boxes drawn and a json of the detections.

    python tools/detect_video.py \
        configs/detection/off/off-ms_rfcn_r18-tiny_1xb8-5e_moving-objects.py \
        work_dirs/detection_demo/rfcn_off/epoch_5.pth \
        data/moving_objects/Data/val/0000 out/0000.mp4 --score-thr 0.5

The input is a video file or a folder of frames (name order). Detection is
online: each frame is paired with the one before it and its features are
computed once. Writes ``OUT`` (MPEG-4, the input's frame rate or
``--fps``) and ``OUT`` with ``.json``: per frame, the boxes (x1, y1, x2,
y2, pixels), scores, labels and class names above ``--score-thr``.
"""
import argparse
import json
import os
import os.path as osp

import cv2
import mmcv
from mmdet.registry import VISUALIZERS
from mmengine.utils import ProgressBar

from off_plugin.models.detection.inference import (init_video_detector,
                                                   iter_video_detections,
                                                   read_frames)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('video', help='video file or folder of frames')
    parser.add_argument('out', help='output video (.mp4)')
    parser.add_argument('--score-thr', type=float, default=0.3)
    parser.add_argument('--fps', type=float, default=None,
                        help='output frame rate (default: the input\'s, or '
                        '25 for a folder of frames)')
    parser.add_argument('--device', default='cpu')
    return parser.parse_args()


def main():
    args = parse_args()
    model = init_video_detector(args.config, args.checkpoint, args.device)
    visualizer = VISUALIZERS.build(model.cfg.visualizer)
    visualizer.dataset_meta = model.dataset_meta
    classes = model.dataset_meta['classes']

    num_frames, frames = read_frames(args.video)
    fps = args.fps or (mmcv.VideoReader(args.video).fps
                       if osp.isfile(args.video) else 25)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    writer, detections = None, []
    progress = ProgressBar(num_frames)
    for frame_id, (frame, sample) in enumerate(
            iter_video_detections(model, frames)):
        visualizer.add_datasample(
            'frame', mmcv.bgr2rgb(frame), sample, draw_gt=False,
            pred_score_thr=args.score_thr)
        drawn = mmcv.rgb2bgr(visualizer.get_image())
        if writer is None:
            writer = cv2.VideoWriter(args.out,
                                     cv2.VideoWriter_fourcc(*'mp4v'), fps,
                                     drawn.shape[1::-1])
        writer.write(drawn)
        pred = sample.pred_instances
        keep = pred.scores >= args.score_thr
        detections.append(
            dict(frame_id=frame_id,
                 bboxes=pred.bboxes[keep].tolist(),
                 scores=pred.scores[keep].tolist(),
                 labels=pred.labels[keep].tolist(),
                 classes=[classes[i] for i in pred.labels[keep].tolist()]))
        progress.update()
    writer.release()
    json_path = osp.splitext(args.out)[0] + '.json'
    with open(json_path, 'w') as f:
        json.dump(dict(video=args.video, classes=list(classes),
                       frames=detections), f)
    print(f'\nwrote {args.out} and {json_path} ({num_frames} frames)')


if __name__ == '__main__':
    main()
