# Copyright (c) off_plugin authors. All rights reserved.
"""Restoring a whole video with a multi-frame restorer, window by window,
in the spirit of mmdet's ``init_detector`` / ``inference_detector``."""
from collections import deque
from pathlib import Path
from typing import Iterable, Iterator, List, Optional, Union

import numpy as np
import torch
from mmagic.registry import MODELS
from mmengine.config import Config
from mmengine.registry import init_default_scope

from ..engine.checkpoint import (check_checkpoint_weights, checkpoint_weights,
                                 read_checkpoint)
from ..utils.video_io import read_video


def init_restorer(config: Union[str, Path, Config],
                  checkpoint: Optional[str] = None,
                  device: str = 'cpu',
                  cfg_options: Optional[dict] = None) -> torch.nn.Module:
    """An ``OFFRestorer`` (or any MMagic ``BaseEditModel`` of the config)
    from its config and checkpoint, in eval mode on ``device``; without a
    checkpoint, initialised as for training.

    A checkpoint of another model (a weight missing, unknown or of another
    shape) is refused in one line naming the file
    (:func:`off_plugin.engine.checkpoint.check_checkpoint_weights`)."""
    if not isinstance(config, Config):
        config = Config.fromfile(config)
    if cfg_options:
        config.merge_from_dict(cfg_options)
    init_default_scope(config.get('default_scope', 'mmagic'))
    model = MODELS.build(config.model)
    if checkpoint is None:
        model.init_weights()
    else:
        weights = checkpoint_weights(read_checkpoint(checkpoint))
        check_checkpoint_weights(
            model.state_dict(),
            weights,
            checkpoint,
            what=f'this {type(model.generator).__name__} (the config\'s '
            'model.generator)',
            fix='Pass the config the checkpoint was trained with, or a '
            'checkpoint of a run of this config (its work_dir).')
        model.load_state_dict(weights)
    model.cfg = config
    return model.to(device).eval()


class TorchSteps:
    """The two steps of streaming restoration with a PyTorch restorer:
    :meth:`entry`, what a frame contributes to every window that holds it
    (computed once per frame), and :meth:`restore`, a window's restored
    target frame. :class:`off_plugin.deployment.restoration.ONNXRestorer`
    has the same two steps on ONNX Runtime."""

    def __init__(self, model: torch.nn.Module) -> None:
        self.generator = model.generator
        self.num_frames = getattr(self.generator, 'num_frames', 1)
        self.preprocessor = model.data_preprocessor
        self.device = next(model.parameters()).device
        self.cached = hasattr(self.generator, 'frame_features')

    def entry(self, frame: np.ndarray) -> tuple:
        """(H, W, 3) uint8 RGB -> the normalized frame (1, 3, H, W) and,
        for a generator with ``frame_features`` (DnCNN_OFF), its features
        (1, 1, mid, H, W)."""
        x = torch.from_numpy(np.ascontiguousarray(frame)).permute(2, 0, 1)
        x = (x.to(self.device).float() - self.preprocessor.mean) / \
            self.preprocessor.std
        x = x[None]
        return x, (
            self.generator.frame_features(x[:, None]) if self.cached else None)

    def restore(self, window: List[tuple]) -> np.ndarray:
        """The entries of ``num_frames`` frames -> the restored target frame
        (H, W, 3) uint8 RGB."""
        inputs = torch.stack([x for x, _ in window], dim=1)
        if self.cached:
            feats = torch.cat([f for _, f in window], dim=1)
            x = self.generator.restore(inputs[:, self.num_frames // 2], feats)
        else:
            x = self.generator(inputs[:,
                                      0] if self.num_frames == 1 else inputs)
        x = x[0] * self.preprocessor.std + self.preprocessor.mean
        return x.clamp(0, 255).round().byte().permute(1, 2, 0).cpu().numpy()


@torch.no_grad()
def restore_frames(model,
                   frames: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
    """Restore every frame of a video with ``model``: a model of
    :func:`init_restorer` (an ``OFFRestorer`` or ``BaseEditModel`` whose
    generator has ``num_frames``) or an ``ONNXRestorer`` (an exported one on
    ONNX Runtime).

    (H, W, 3) uint8 RGB frames in, the restored frames out, one for one, in
    order. Every output frame is the target of a window of ``num_frames``
    frames sliding over the video; at the ends the first / last frame is
    repeated. A generator with ``frame_features`` / ``restore`` (DnCNN_OFF)
    computes the per-frame features once per frame and reuses them in every
    window that holds the frame. Frames are read lazily: memory holds one
    window.
    """
    steps = model if hasattr(model, 'entry') else TorchSteps(model)
    num = steps.num_frames
    window = deque(maxlen=num)
    pending = 0  # frames read whose output is not yet written
    for frame in frames:
        item = steps.entry(frame)
        if not window:  # the first frame stands in for frames before it
            window.extend([item] * (num // 2))
        window.append(item)
        pending += 1
        if len(window) == num:
            yield steps.restore(list(window))
            pending -= 1
    while pending > 0:  # the last frame stands in for frames after it
        window.append(window[-1])
        yield steps.restore(list(window))
        pending -= 1


def iter_restored_frames(model, video: str) -> Iterator[np.ndarray]:
    """The restored (H, W, 3) uint8 RGB frames of a video file or a folder
    of frames (:func:`off_plugin.utils.video_io.read_video`), one for
    one, as they are done (:func:`restore_frames`)."""
    frames = read_video(video)[1]
    return restore_frames(model, (frame[..., ::-1] for frame in frames))


def inference_restorer(model, video: str) -> List[np.ndarray]:
    """Restore a video file or a folder of frames with a model of
    :func:`init_restorer` (or an ``ONNXRestorer``): its (H, W, 3) uint8 RGB
    frames, in order. Each frame's features are computed once
    (DnCNN_OFF)."""
    return list(iter_restored_frames(model, video))
