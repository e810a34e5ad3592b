# Copyright (c) off_plugin authors. All rights reserved.
"""JPEG 2000 compression of frames with FFmpeg, as the paper made its
Vimeo-90K inputs (Sec. 7: FFmpeg, JPEG 2000, q = 20 and q = 40)."""
import subprocess

import numpy as np


def ffmpeg_exe() -> str:
    """The FFmpeg binary shipped by ``imageio-ffmpeg`` (or the one that
    ``IMAGEIO_FFMPEG_EXE`` names)."""
    import imageio_ffmpeg
    return imageio_ffmpeg.get_ffmpeg_exe()


def _run(args: list, data: bytes) -> bytes:
    proc = subprocess.run([ffmpeg_exe(), '-v', 'error', *args],
                          input=data,
                          capture_output=True)
    if proc.returncode:
        lines = proc.stderr.decode(errors='replace').splitlines()
        message = ' | '.join(line.strip() for line in lines if line.strip())
        raise RuntimeError(f'FFmpeg failed ({" ".join(args)}): '
                           f'{message or "no message"}')
    return proc.stdout


def jpeg2000_roundtrip(frames: np.ndarray, quality: int) -> np.ndarray:
    """Encode (T, H, W, 3) uint8 RGB frames with FFmpeg's JPEG 2000 encoder
    at quantizer ``-q:v quality`` (larger is coarser) and decode them again.
    Deterministic (one thread)."""
    frames = np.ascontiguousarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f'jpeg2000_roundtrip takes (T, H, W, 3) uint8 RGB '
                         f'frames, got {frames.shape} {frames.dtype}.')
    t, h, w = frames.shape[:3]
    raw = ['-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', f'{w}x{h}']
    encoded = _run(
        raw + [
            '-i', '-', '-threads', '1', '-c:v', 'jpeg2000', '-q:v',
            str(quality), '-pix_fmt', 'rgb24', '-f', 'nut', '-'
        ], frames.tobytes())
    decoded = _run(['-threads', '1', '-f', 'nut', '-i', '-'] + raw + ['-'],
                   encoded)
    out = np.frombuffer(decoded, np.uint8)
    if out.size != frames.size:
        raise RuntimeError(f'FFmpeg returned {out.size} bytes for {t} frames '
                           f'of {w}x{h}.')
    return out.reshape(frames.shape)
