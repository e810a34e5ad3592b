# Copyright (c) off_plugin authors. All rights reserved.
"""Restore a whole video file with a DnCNN / DnCNN_OFF model and write it.

    python tools/restore_video.py \
        configs/restoration/off/dncnn-off3-c32_1xb8-800iter_restoration-demo-q40.py \
        work_dirs/restoration_demo/dncnn-off3-c32_1xb8-800iter_restoration-demo-q40/best_PSNR_iter_*.pth \
        compressed.mp4 restored.mp4

The input is anything OpenCV reads (a video file, or frames as
``frames/%05d.png``). A window of the generator's ``num_frames`` frames
slides over the video (the ends repeat the first / last frame); DnCNN_OFF's
per-frame features are computed once per frame and reused across windows. The output keeps the
input's frame rate; ``.mp4`` is written with OpenCV's MPEG-4 codec, an
output path ending in ``/`` gets lossless PNG frames instead.
"""
import argparse
import os
import os.path as osp

import cv2
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import load_checkpoint

from off_plugin.models.restoration import restore_frames


def read_frames(path):
    capture = cv2.VideoCapture(path)
    if not capture.isOpened():
        raise SystemExit(f'{path}: cannot open the video.')
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        yield frame[..., ::-1]
    capture.release()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('video')
    parser.add_argument('out', help='output .mp4, or a directory ending /')
    parser.add_argument('--device', default='cpu')
    args = parser.parse_args()

    from mmagic.registry import MODELS
    cfg = Config.fromfile(args.config)
    with DefaultScope.overwrite_default_scope('mmagic'):
        model = MODELS.build(cfg.model)
    load_checkpoint(model, args.checkpoint, map_location='cpu')
    model.to(args.device).eval()

    fps = cv2.VideoCapture(args.video).get(cv2.CAP_PROP_FPS) or 25
    writer, count = None, 0
    for frame in restore_frames(model, read_frames(args.video)):
        bgr = frame[..., ::-1]
        if args.out.endswith('/'):
            os.makedirs(args.out, exist_ok=True)
            cv2.imwrite(osp.join(args.out, f'{count + 1:05d}.png'), bgr)
        else:
            if writer is None:
                writer = cv2.VideoWriter(args.out,
                                         cv2.VideoWriter_fourcc(*'mp4v'), fps,
                                         bgr.shape[1::-1])
            writer.write(bgr)
        count += 1
    if writer is not None:
        writer.release()
    print(f'{count} frames restored to {args.out}')


if __name__ == '__main__':
    main()
