# Copyright (c) off_plugin authors. All rights reserved.
"""Export of recognizers (OFF and MMAction2's own ``Recognizer2D``) and
their inference on ONNX Runtime or OpenVINO, as MMAction2's
``inference_recognizer``."""
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn
from mmaction.apis import init_recognizer
from mmaction.models.recognizers import Recognizer2D
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import init_default_scope

from ..recognition import OFFRecognizer
from .backend import Graph, load_runtime, without_checkpoint
from .evaluation import evaluate, sample_batches, split_loader

TASK = 'recognition'
#: what the int8 files keep in float: nothing. Keeping the OFF units float
#: cost the demo's R-FCN + OFF 1.5 points of mAP more than quantizing them,
#: and changed no other demo (docs/user_guides/deployment.md)
INT8_FLOAT = ()


class RecognizerGraph(nn.Module):
    """A recognizer's test as one graph.

    Shapes: clips (N, V, C, H, W) as the config's test pipeline packs them
    (``V = crops * num_segments`` views, pixel values 0-255, the pipeline's
    channel order) -> class scores (N, num_classes) of the config's test
    protocol: the data preprocessor's ``to_rgb`` and normalization, for an
    :class:`OFFRecognizer` the TSN + OFF fusion of ``test_cfg`` (weights,
    crop aggregation), the head's ``average_clips`` over the crops.
    """

    def __init__(self, model: Recognizer2D) -> None:
        super().__init__()
        preprocessor = model.data_preprocessor
        if getattr(preprocessor, 'format_shape', 'NCHW') != 'NCHW':
            raise ValueError(
                f'{type(model).__name__}: data_preprocessor.format_shape='
                f'{preprocessor.format_shape!r}; the export takes 2D '
                "recognizers ('NCHW').")
        self.model = model
        self.head = (
            model.off_head
            if isinstance(model, OFFRecognizer) else model.cls_head)

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        preprocessor = self.model.data_preprocessor
        if preprocessor.to_rgb:
            clips = clips.flip(-3)
        if preprocessor._enable_normalize:
            clips = (clips - preprocessor.mean) / preprocessor.std
        if isinstance(self.model, OFFRecognizer):
            scores = self.model.fused_scores(clips)
        else:
            feats, kwargs = self.model.extract_feat(clips, test_mode=True)
            scores = self.model.cls_head(feats, **kwargs)
        return self.head.average_clip(
            scores, num_segs=scores.shape[0] // clips.shape[0])


def init_model(config: Config,
               checkpoint: Optional[str],
               device: str = 'cpu') -> Recognizer2D:
    """MMAction2's ``init_recognizer``; without a checkpoint, random
    weights under which no layer is an identity (with a warning)."""
    if checkpoint is None:
        config.model.pop('feature_checkpoint', None)
    model = init_recognizer(config, checkpoint, device=device)
    return model if checkpoint else without_checkpoint(model)


def test_views(config: Config) -> Tuple[int, int, int]:
    """(segments, crops, crop size) of the config's test pipeline: the
    views of a video the exported graph takes."""
    steps = {step['type']: step for step in config.test_pipeline}
    sampler = next(
        (step for name, step in steps.items() if 'SampleFrames' in name), {})
    segments = sampler.get('num_segments', sampler.get('num_clips', 1))
    segments *= sampler.get('clip_len',
                            1) * (2 if sampler.get('twice_sample') else 1)
    crops = 10 if 'TenCrop' in steps else 3 if 'ThreeCrop' in steps else 1
    crop = next((step['crop_size'] for name, step in steps.items()
                 if 'Crop' in name and 'crop_size' in step), 224)
    crop = crop[0] if isinstance(crop, (tuple, list)) else crop
    return segments, crops, crop


def graphs(model: Recognizer2D,
           shape: Optional[Tuple[int, int]] = None,
           num_segments: Optional[int] = None,
           batch_size: int = 1,
           dynamic: bool = True) -> List[Graph]:
    """The recognizer's one graph, for clips of ``batch_size`` videos of
    the config's test views (``num_segments`` and ``shape`` (H, W)
    override its segments and crop size; an OFF recognizer's
    ``test_cfg.num_segments`` follows). ``dynamic``: any batch size."""
    segments, crops, crop = test_views(model.cfg)
    if num_segments:
        segments = num_segments
        if isinstance(model, OFFRecognizer):
            model.test_cfg['num_segments'] = num_segments
    height, width = shape or (crop, crop)
    channels = next(m for m in model.backbone.modules()
                    if isinstance(m, nn.Conv2d)).in_channels
    clips = torch.randint(
        0, 256,
        (batch_size, crops * segments, channels, height, width)).float()
    batch = torch.export.Dim('batch', min=1, max=1024)
    return [
        Graph(
            '',
            RecognizerGraph(model).eval(), (clips, ), ['clips'], ['scores'],
            dynamic_shapes=dict(clips={0: batch}) if dynamic else None,
            metadata=dict(
                task=TASK,
                graph='recognizer',
                views=[crops, segments],
                num_classes=model.cls_head.num_classes),
            float_modules=INT8_FLOAT)
    ]


class ONNXRecognizer:
    """An exported recognizer on a runtime, used as MMAction2's
    ``init_recognizer`` / ``inference_recognizer`` are: the config's test
    pipeline makes the clips, the file scores them.

    Args:
        config (Config): The config the file was exported from.
        onnx_file (str): The ``.onnx`` file of
            ``tools/deployment/export_onnx.py`` (float32 or int8).
        device (str): ``'cpu'``, ``'cuda'`` or ``'cuda:N'``.
        backend (str): ``'onnxruntime'`` or ``'openvino'``.
        threads (int, optional): The runtime's intra-op threads.
    """

    def __init__(self,
                 config: Config,
                 onnx_file: str,
                 device: str = 'cpu',
                 backend: str = 'onnxruntime',
                 threads: Optional[int] = None) -> None:
        self.cfg = config
        self.model = load_runtime(onnx_file, backend, device,
                                  threads).expect(TASK, 'recognizer')
        init_default_scope(config.get('default_scope', 'mmaction'))
        self.pipeline = Compose(config.test_pipeline)

    def __call__(self, video: str) -> ActionDataSample:
        """The video's ``ActionDataSample`` with ``pred_score``."""
        data = pseudo_collate([
            self.pipeline(
                dict(filename=video, label=-1, start_index=0, modality='RGB'))
        ])
        return self.test_step(data)[0]

    def test_step(self, data: dict) -> List[ActionDataSample]:
        """A batch of the test pipeline (``inputs``: (V, C, H, W) clips of
        each video) -> its data samples with ``pred_score``, one video per
        run (a file exported with ``--static`` takes one)."""
        for clips, sample in zip(data['inputs'], data['data_samples']):
            clips = clips[None].float().numpy()
            views = int(np.prod(self.model.metadata['views']))
            if clips.shape[1] != views:
                raise ValueError(
                    f'{self.model.path} takes {views} views of a video '
                    f'(crops, segments: {self.model.metadata["views"]}) but '
                    f'the test pipeline of {self.cfg.filename} gives '
                    f'{clips.shape[1]}; export with this config (and its '
                    '--segments) again.')
            scores, = self.model(clips)
            sample.set_pred_score(torch.from_numpy(np.asarray(scores[0])))
        return data['data_samples']


#: the metric of the accuracy table (MMAction2's AccMetric)
METRIC = 'acc/top1'


def calibration_inputs(model: Recognizer2D, graphs: List[Graph], num: int,
                       split: str) -> Dict[str, list]:
    """``num`` videos of the config's ``split`` annotations through its
    test pipeline (the views the graph takes): clips (1, V, C, H, W)."""
    loader = split_loader(model.cfg, split, model.cfg.test_pipeline)
    return {
        '': [(batch['inputs'][0][None].float().numpy(), )
             for batch in sample_batches(loader, num)]
    }


def evaluation(cfg: Config,
               split: str,
               onnx_file: Optional[str] = None,
               backend: str = 'onnxruntime',
               model: Optional[Recognizer2D] = None) -> Dict[str, float]:
    """The config's ``<split>_evaluator`` (top-1) on its ``split``
    annotations through the test pipeline: of the file ``onnx_file`` on
    ``backend``, or of the PyTorch ``model``."""
    step = (
        model.test_step if model is not None else ONNXRecognizer(
            cfg, onnx_file, backend=backend).test_step)
    return evaluate(cfg, step, split, cfg.test_pipeline)
