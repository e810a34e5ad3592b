# Copyright (c) off_plugin authors. All rights reserved.
"""Restore a whole video file with a DnCNN / DnCNN_OFF model and write it.

    CONFIG=dncnn-off3-c32_1xb8-800iter_restoration-demo-q40
    python demo/restore_video.py configs/restoration/off/$CONFIG.py \
        work_dirs/restoration_demo/q40-800iter/$CONFIG/best_PSNR_iter_*.pth \
        compressed.mp4 restored.mp4

The input is a video file or a folder of frames, restored by
:func:`off_plugin.restoration.init_restorer` /
:func:`~off_plugin.restoration.iter_restored_frames`: a window of the
generator's ``num_frames`` frames slides over the video (the ends repeat
the first / last frame); DnCNN_OFF's per-frame features are computed once
per frame and reused across windows. The output keeps the input's frame
rate; ``.mp4`` is written with OpenCV's MPEG-4 codec, an output path ending
in ``/`` gets lossless PNG frames ``00001.png ...`` instead. With
``--backend onnxruntime`` or ``--backend openvino`` the checkpoint is the
``OUT.onnx`` of ``tools/deployment/export_onnx.py`` (with ``OUT.frame.onnx``
/ ``OUT.fusion.onnx`` beside it for DnCNN_OFF, streaming as above; int8:
``OUT.int8.onnx`` with ``OUT.int8.frame.onnx`` / ``OUT.int8.fusion.onnx``)
and ONNX Runtime or OpenVINO (CPU only; ``pip install
"off_plugin[openvino]"``) restores the frames.

What it writes: only ``out`` (a file replaced if it exists; in a folder,
the frames of those names replaced, nothing else touched), each file
through a temporary ``.<name>.tmp-<pid><ext>`` beside it, all renamed at
the end.
The input is only read; an output that is the input, or lies inside the
input folder, is refused. Bad input (a video that is empty, truncated, not
a video or without frames; a checkpoint of another model) ends in one line
naming it, and no output, nor part of one, is written.
"""
import argparse
import contextlib
import os
import os.path as osp

import cv2
import numpy as np

from off_plugin.restoration import init_restorer, iter_restored_frames
from off_plugin.utils import (ToolError, add_cfg_options,
                              add_inference_options, run_tool)
from off_plugin.utils.fileio import atomic_write
from off_plugin.utils.video_io import video_fps


def write_frames(frames, out, fps):
    """Write RGB ``frames`` to ``out`` (a video, or a folder ending ``/`` of
    PNG frames), each file through
    :func:`~off_plugin.utils.fileio.atomic_write`, all renamed at the end:
    an error on the way leaves no output, nor part of one. Returns the
    number of frames."""
    folder = out.endswith('/')
    new_folder = folder and not osp.isdir(out)
    writer, count = None, 0
    try:
        with contextlib.ExitStack() as outputs:
            for count, frame in enumerate(frames, 1):
                bgr = np.ascontiguousarray(frame[..., ::-1])
                if folder:
                    os.makedirs(out, exist_ok=True)
                    tmp = outputs.enter_context(
                        atomic_write(
                            osp.join(out, f'{count:05d}.png'), suffix='.png'))
                    ok = cv2.imwrite(tmp, bgr)
                else:
                    if writer is None:  # OpenCV picks the codec by the name
                        tmp = outputs.enter_context(
                            atomic_write(out, suffix=osp.splitext(out)[1]))
                        writer = cv2.VideoWriter(
                            tmp, cv2.VideoWriter_fourcc(*'mp4v'), fps,
                            bgr.shape[1::-1])
                        outputs.callback(writer.release)  # before renaming
                    ok = writer.isOpened()
                    writer.write(bgr)
                if not ok:
                    raise ToolError(
                        f'{out}: OpenCV cannot write it; pass a writable '
                        'path ending with .mp4, or with / for PNG frames.')
    except BaseException:
        if new_folder and osp.isdir(out) and not os.listdir(out):
            os.rmdir(out)
        raise
    return count


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument(
        'checkpoint',
        help='its checkpoint (.pth), or with --backend onnxruntime / '
        'openvino its exported OUT.onnx (or OUT.int8.onnx), the frame / '
        'fusion files beside it')
    parser.add_argument('video', help='a video file or a folder of frames')
    parser.add_argument('out', help='output .mp4, or a directory ending /')
    add_inference_options(parser)
    add_cfg_options(parser)
    args = parser.parse_args(argv)

    video = osp.realpath(args.video)
    out = osp.realpath(args.out)
    if out == video or out.startswith(osp.join(video, '')):
        raise ToolError(
            f'{args.out}: the output would overwrite the input {args.video}; '
            'pass an out path outside the input.')
    if args.backend != 'pytorch':
        from off_plugin.deployment.restoration import ONNXRestorer
        model = ONNXRestorer(
            args.checkpoint, args.device, backend=args.backend)
    else:
        model = init_restorer(args.config, args.checkpoint, args.device,
                              args.cfg_options)
    frames = iter_restored_frames(model, args.video)
    fps = video_fps(args.video)
    count = write_frames(frames, args.out, fps)
    print(f'{count} frames restored to {args.out}')


if __name__ == '__main__':
    run_tool(main)
