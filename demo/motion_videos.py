# Copyright (c) off_plugin authors. All rights reserved.
"""The embedded default: a small video set whose classes differ only in
motion, written in MMAction2's ``VideoDataset`` format."""
import os.path as osp
from pathlib import Path

import cv2
import numpy as np

# (dx, dy) per frame of every class, in pixels.
MOTIONS = {
    'move_right': (1, 0),
    'move_left': (-1, 0),
    'move_down': (0, 1),
    'move_up': (0, -1),
}


def render_clip(rng: np.random.Generator, direction: tuple, size: int,
                num_frames: int, speed: int, patch: int) -> np.ndarray:
    """(num_frames, size, size, 3) uint8 frames: a textured patch crossing a
    textured static background in ``direction``. Position, textures and
    colours are random and the same for every class, so only the motion
    tells the classes apart."""
    background = rng.integers(40, 120, (size // 4, size // 4, 3))
    background = cv2.resize(
        background.astype(np.uint8), (size, size),
        interpolation=cv2.INTER_NEAREST)
    texture = rng.integers(130, 256, (patch // 2, patch // 2, 3))
    texture = cv2.resize(
        texture.astype(np.uint8), (patch, patch),
        interpolation=cv2.INTER_NEAREST)
    travel = speed * (num_frames - 1)
    dx, dy = direction
    # Start so that the whole path stays in the frame; over the classes the
    # positions the patch visits have the same distribution.
    low_x = travel if dx < 0 else 0
    low_y = travel if dy < 0 else 0
    x0 = rng.integers(low_x, size - patch - (travel if dx > 0 else 0) + 1)
    y0 = rng.integers(low_y, size - patch - (travel if dy > 0 else 0) + 1)
    frames = np.repeat(background[None], num_frames, axis=0)
    for t in range(num_frames):
        x, y = x0 + dx * speed * t, y0 + dy * speed * t
        frames[t, y:y + patch, x:x + patch] = texture
    return frames


def write_video(path: str, frames: np.ndarray, fps: int = 25) -> None:
    """Write RGB frames to an MPEG-4 file that decord and OpenCV read."""
    height, width = frames.shape[1:3]
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), fps,
                             (width, height))
    if not writer.isOpened():
        raise RuntimeError(f'{path}: OpenCV cannot write MPEG-4 video here.')
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()


def make_motion_videos(root: str,
                       num_train: int = 240,
                       num_val: int = 80,
                       size: int = 64,
                       num_frames: int = 24,
                       speed: int = 1,
                       patch: int = 16,
                       seed: int = 0) -> dict:
    """Write ``root/videos/*.mp4`` and the annotation files
    ``root/train.txt`` and ``root/val.txt`` (``<video> <label>`` per line),
    classes balanced, deterministic for a seed. Returns the paths."""
    root = Path(root)
    (root / 'videos').mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    directions = list(MOTIONS.values())
    paths = {}
    for split, num in (('train', num_train), ('val', num_val)):
        lines = []
        for i in range(num):
            label = i % len(directions)
            name = f'{split}_{i:04d}.mp4'
            frames = render_clip(rng, directions[label], size, num_frames,
                                 speed, patch)
            write_video(str(root / 'videos' / name), frames)
            lines.append(f'{name} {label}')
        paths[split] = osp.join(root, f'{split}.txt')
        Path(paths[split]).write_text('\n'.join(lines) + '\n')
    (root / 'classes.txt').write_text('\n'.join(MOTIONS) + '\n')
    return paths
