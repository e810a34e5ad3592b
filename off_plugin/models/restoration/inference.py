# Copyright (c) off_plugin authors. All rights reserved.
"""Restoring a whole video with a multi-frame restorer, window by window."""
from collections import deque
from typing import Iterable, Iterator

import numpy as np
import torch


@torch.no_grad()
def restore_frames(model: torch.nn.Module,
                   frames: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
    """Restore every frame of a video with ``model`` (an ``OFFRestorer`` or
    ``BaseEditModel`` whose generator has ``num_frames``).

    (H, W, 3) uint8 RGB frames in, the restored frames out, one for one, in
    order. Every output frame is the target of a window of ``num_frames``
    frames sliding over the video; at the ends the first / last frame is
    repeated. A generator with ``frame_features`` / ``restore`` (DnCNN_OFF)
    computes the per-frame features once per frame and reuses them in every
    window that holds the frame. Frames are read lazily: memory holds one
    window.
    """
    generator = model.generator
    num = getattr(generator, 'num_frames', 1)
    target = num // 2
    preprocessor = model.data_preprocessor
    device = next(model.parameters()).device
    cached = hasattr(generator, 'frame_features')

    def to_input(frame):
        x = torch.from_numpy(np.ascontiguousarray(frame)).permute(2, 0, 1)
        x = (x.to(device).float() - preprocessor.mean) / preprocessor.std
        return x[None]

    def to_frame(x):
        x = x[0] * preprocessor.std + preprocessor.mean
        return x.clamp(0, 255).round().byte().permute(1, 2, 0).cpu().numpy()

    def run(window):
        inputs = torch.stack([x for x, _ in window], dim=1)
        if cached:
            feats = torch.cat([f for _, f in window], dim=1)
            return generator.restore(inputs[:, target], feats)
        return generator(inputs[:, 0] if num == 1 else inputs)

    def entry(frame):
        x = to_input(frame)
        feats = generator.frame_features(x[:, None]) if cached else None
        return x, feats

    window = deque(maxlen=num)
    pending = 0  # frames read whose output is not yet written
    for frame in frames:
        item = entry(frame)
        if not window:  # the first frame stands in for frames before it
            window.extend([item] * target)
        window.append(item)
        pending += 1
        if len(window) == num:
            yield to_frame(run(window))
            pending -= 1
    while pending > 0:  # the last frame stands in for frames after it
        window.append(window[-1])
        yield to_frame(run(window))
        pending -= 1
