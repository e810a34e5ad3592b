# Copyright (c) off_plugin authors. All rights reserved.
"""Restore a whole video file with a DnCNN / DnCNN_OFF model and write it.

    python tools/restore_video.py \
        configs/restoration/off/dncnn-off3-c32_1xb8-800iter_restoration-demo-q40.py \
        work_dirs/restoration_demo/dncnn-off3-c32_1xb8-800iter_restoration-demo-q40/best_PSNR_iter_*.pth \
        compressed.mp4 restored.mp4

The input is a video file or a folder of frames (read by
:func:`off_plugin.datasets.video_io.read_video`). A window of the generator's ``num_frames`` frames
slides over the video (the ends repeat the first / last frame); DnCNN_OFF's
per-frame features are computed once per frame and reused across windows.
The output keeps the input's frame rate; ``.mp4`` is written with OpenCV's
MPEG-4 codec, an output path ending in ``/`` gets lossless PNG frames
instead. A video that cannot be read (empty, truncated, not a video, no
frames) is a one-line error naming it, and no output, nor part of one, is
written.
"""
import argparse
import os
import os.path as osp
import shutil

import cv2
import numpy as np
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import load_checkpoint

from off_plugin.datasets.video_io import read_video
from off_plugin.models.restoration import restore_frames


def write_frames(frames, out, fps):
    """Write RGB ``frames`` to ``out`` (a video, or a folder ending ``/`` of
    PNG frames) through a temporary ``<name>.part<ext>`` renamed at the
    end: an error on the way leaves no partial output. Returns the number
    of frames."""
    base, ext = osp.splitext(out.rstrip('/'))
    tmp = f'{base}.part{ext}'
    folder = out.endswith('/')
    writer, count = None, 0
    try:
        for count, frame in enumerate(frames, 1):
            bgr = np.ascontiguousarray(frame[..., ::-1])
            if folder:
                os.makedirs(tmp, exist_ok=True)
                ok = cv2.imwrite(osp.join(tmp, f'{count:05d}.png'), bgr)
            else:
                if writer is None:
                    writer = cv2.VideoWriter(tmp,
                                             cv2.VideoWriter_fourcc(*'mp4v'),
                                             fps, bgr.shape[1::-1])
                ok = writer.isOpened()
                writer.write(bgr)
            if not ok:
                raise SystemExit(
                    f'{out}: OpenCV cannot write it; pass a writable path '
                    'ending with .mp4, or with / for PNG frames.')
        if folder:
            os.makedirs(out, exist_ok=True)
            for name in sorted(os.listdir(tmp)):
                os.replace(osp.join(tmp, name), osp.join(out, name))
        else:
            writer.release()
            os.replace(tmp, out)
    finally:
        if writer is not None:
            writer.release()
        if osp.isdir(tmp):
            shutil.rmtree(tmp)
        elif osp.exists(tmp):
            os.remove(tmp)
    return count


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('video')
    parser.add_argument('out', help='output .mp4, or a directory ending /')
    parser.add_argument('--device', default='cpu')
    args = parser.parse_args(argv)

    try:  # an unreadable input is refused before the model is built
        _, frames = read_video(args.video)
    except (OSError, ValueError) as err:
        raise SystemExit(str(err)) from err
    from mmagic.registry import MODELS
    cfg = Config.fromfile(args.config)
    with DefaultScope.overwrite_default_scope('mmagic'):
        model = MODELS.build(cfg.model)
    load_checkpoint(model, args.checkpoint, map_location='cpu')
    model.to(args.device).eval()

    fps = (cv2.VideoCapture(args.video).get(cv2.CAP_PROP_FPS)
           if osp.isfile(args.video) else 0) or 25
    rgb = (frame[..., ::-1] for frame in frames)
    try:
        count = write_frames(restore_frames(model, rgb), args.out, fps)
    except (OSError, ValueError) as err:  # a frame that does not decode
        raise SystemExit(str(err)) from err
    print(f'{count} frames restored to {args.out}')


if __name__ == '__main__':
    main()
