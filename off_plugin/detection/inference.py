# Copyright (c) off_plugin authors. All rights reserved.
"""Inference in the spirit of mmdet's ``init_detector`` /
``inference_detector``, for a whole video, online."""
import copy
from pathlib import Path
from typing import Iterator, List, Optional, Tuple, Union

import numpy as np
import torch
from mmcv.transforms import Compose
from mmdet.registry import DATASETS, MODELS
from mmdet.structures import DetDataSample
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner.checkpoint import load_state_dict

from ..engine.checkpoint import checkpoint_weights, read_checkpoint
from ..utils.video_io import read_video


def init_video_detector(config: Union[str, Path, Config],
                        checkpoint: Optional[str] = None,
                        device: str = 'cpu',
                        cfg_options: Optional[dict] = None) -> torch.nn.Module:
    """An :class:`OFFVideoDetector` from its config and checkpoint, in eval
    mode, class names (``dataset_meta``) from the checkpoint or else from
    the config's test dataset. A missing checkpoint file or one of another
    model is refused in one line naming the file
    (``OFFVideoDetector.check_checkpoint``)."""
    if not isinstance(config, Config):
        config = Config.fromfile(config)
    if cfg_options:
        config.merge_from_dict(cfg_options)
    init_default_scope(config.get('default_scope', 'mmdet'))
    # no pretrained backbone download: the checkpoint holds every weight
    config.model.detector.backbone.init_cfg = None
    model = MODELS.build(config.model)
    meta = {}
    if checkpoint is not None:
        loaded = read_checkpoint(checkpoint)
        weights = checkpoint_weights(loaded)
        model.check_checkpoint(weights, checkpoint)
        load_state_dict(model, weights)
        meta = loaded.get('meta', {}).get('dataset_meta', {})
    if not meta:
        dataset = copy.deepcopy(config.test_dataloader.dataset)
        meta = DATASETS.build(dict(dataset, lazy_init=True)).metainfo
    model.dataset_meta = {k.lower(): v for k, v in meta.items()}
    model.cfg = config
    return model.to(device).eval()


def build_test_pipeline(cfg: Config) -> Compose:
    """The config's test pipeline for in-memory frames: images from arrays,
    no annotations."""
    pipeline = copy.deepcopy(cfg.test_dataloader.dataset.pipeline)
    for step in pipeline:
        if step['type'] == 'TransformBroadcaster':
            step['transforms'] = [
                dict(t, type='mmdet.LoadImageFromNDArray')
                if t['type'].endswith('LoadImageFromFile') else t
                for t in step['transforms']
                if not t['type'].endswith('LoadTrackAnnotations')
            ]
    return Compose(pipeline)


def iter_video_detections(
    model: torch.nn.Module, frames: Iterator[np.ndarray]
) -> Iterator[Tuple[np.ndarray, DetDataSample]]:
    """Online detection: yields each frame with its ``DetDataSample``
    (``pred_instances`` in the frame's pixel coordinates) as soon as it is
    done; each frame's features are computed once and reused by the next
    frame's OFF."""
    pipeline = build_test_pipeline(model.cfg)
    model.reset()  # a new video
    for frame_id, frame in enumerate(frames):
        data = pipeline(
            dict(
                img=[frame],
                img_id=[frame_id],
                frame_id=[frame_id],
                video_id=[0],
                ori_video_length=[-1],
                video_length=[1]))
        data = dict(
            inputs=[data['inputs']], data_samples=[data['data_samples']])
        with torch.no_grad():
            result = model.test_step(data)[0]
        yield frame, result[0]


def inference_video_detector(model: torch.nn.Module,
                             video: str) -> List[DetDataSample]:
    """Per-frame detections of a video file or a folder of frames."""
    return [
        sample for _, sample in iter_video_detections(model,
                                                      read_video(video)[1])
    ]
