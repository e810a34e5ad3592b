# Copyright (c) off_plugin authors. All rights reserved.
"""Export of restorers (DnCNN, DnCNN_OFF) and their streaming inference on
ONNX Runtime or OpenVINO, as
:func:`off_plugin.restoration.inference.restore_frames`."""
import os.path as osp
from typing import Dict, List, Optional, Tuple, Union

import numpy as np
import torch
import torch.nn as nn
from mmagic.registry import MODELS
from mmagic.structures import DataSample
from mmengine.config import Config

from ..restoration.inference import TorchSteps, init_restorer
from .backend import Graph, load_runtime, without_checkpoint
from .evaluation import evaluate, sample_batches, split_loader

TASK = 'restoration'
#: what the int8 files keep in float: nothing. Keeping the OFF units float
#: cost the demo's R-FCN + OFF 1.5 points of mAP more than quantizing them,
#: and changed no other demo (docs/user_guides/deployment.md)
INT8_FLOAT = ()


class Normalized(nn.Module):
    """Pixel values (0-255, RGB) in and out around the generator's
    normalized space, with the data preprocessor's mean and std."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.generator = model.generator
        self.register_buffer('mean', model.data_preprocessor.mean.clone())
        self.register_buffer('std', model.data_preprocessor.std.clone())

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std

    def denormalize(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.std + self.mean


class WindowGraph(Normalized):
    """A window of frames -> its restored target frame.

    Shapes: (N, T, 3, H, W) -> (N, 3, H, W), ``T = generator.num_frames``,
    the frame ``T // 2`` restored; pixel values 0-255 (not clamped)."""

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        x = self.normalize(frames)
        x = x[:, 0] if self.generator.num_frames == 1 else x
        return self.denormalize(self.generator(x))


class FrameGraph(Normalized):
    """Streaming, once per frame: the frame's features.

    Shapes: (N, 3, H, W) pixel values -> (N, mid, H, W)."""

    def forward(self, frame: torch.Tensor) -> torch.Tensor:
        x = self.normalize(frame)[:, None]
        return self.generator.frame_features(x)[:, 0]


class FusionGraph(Normalized):
    """Streaming, once per window: the target frame restored from the
    features of the window's frames (:class:`FrameGraph`).

    Shapes: target (N, 3, H, W) pixel values, features (N, T, mid, H, W)
    -> (N, 3, H, W) pixel values (not clamped)."""

    def forward(self, target: torch.Tensor,
                feats: torch.Tensor) -> torch.Tensor:
        return self.denormalize(
            self.generator.restore(self.normalize(target), feats))


def init_model(config: Config,
               checkpoint: Optional[str],
               device: str = 'cpu') -> nn.Module:
    """:func:`init_restorer`; without a checkpoint, random weights under
    which no layer is an identity (with a warning): the demo's DnCNN_OFF
    starts as the identity (its last convolution is zero), whose export
    would pass any ``--verify``."""
    model = init_restorer(config, checkpoint, device=device)
    return model if checkpoint else without_checkpoint(model)


def graphs(model: nn.Module,
           shape: Optional[Tuple[int, int]] = None,
           num_segments: Optional[int] = None,
           batch_size: int = 1,
           dynamic: bool = True) -> List[Graph]:
    """The restorer's window graph (``OUT.onnx``) and, for a generator with
    per-frame features (DnCNN_OFF), the streaming pair
    (``OUT.frame.onnx``, ``OUT.fusion.onnx``). Example inputs of ``shape``
    (H, W) (default 64 x 64); ``dynamic``: any batch size, height and
    width."""
    if num_segments:
        raise ValueError(
            '--segments: a restorer takes generator.num_frames frames '
            f'({model.generator.num_frames}); set it in the config.')
    generator = model.generator
    num = generator.num_frames
    height, width = shape or (64, 64)
    frames = torch.rand(batch_size, num, 3, height, width) * 255
    batch = torch.export.Dim('batch', min=1, max=64)
    size = (torch.export.Dim('height', min=8, max=8192),
            torch.export.Dim('width', min=8, max=8192))

    def dynamic_shapes(*ranks):
        """Batch, height and width of each input free."""
        return tuple({
            0: batch,
            r - 2: size[0],
            r - 1: size[1]
        } for r in ranks) if dynamic else None

    metadata = dict(task=TASK, num_frames=num)
    out = [
        Graph(
            '',
            WindowGraph(model), (frames, ), ['frames'], ['restored'],
            dynamic_shapes(5),
            dict(metadata, graph='window'),
            float_modules=INT8_FLOAT)
    ]
    if hasattr(generator, 'frame_features'):
        frame = FrameGraph(model)
        with torch.no_grad():
            feats = torch.stack([frame(frames[:, i]) for i in range(num)], 1)
        out += [
            Graph('frame', frame, (frames[:, 0], ), ['frame'], ['features'],
                  dynamic_shapes(4), dict(metadata, graph='frame')),
            Graph(
                'fusion',
                FusionGraph(model), (frames[:, generator.target], feats),
                ['target', 'features'], ['restored'],
                dynamic_shapes(4, 5),
                dict(metadata, graph='fusion'),
                float_modules=INT8_FLOAT)
        ]
    return out


class ONNXRestorer:
    """An exported restorer on a runtime, streaming as
    :func:`~off_plugin.restoration.inference.restore_frames` does with
    PyTorch (pass it in place of the model): each frame's features once
    (``OUT.frame.onnx``), then one fusion per window (``OUT.fusion.onnx``);
    without them (DnCNN) the window graph (``OUT.onnx``).

    Args:
        onnx_file (str): The window graph ``OUT.onnx`` of
            ``tools/deployment/export_onnx.py``.
        device (str): ``'cpu'``, ``'cuda'`` or ``'cuda:N'``.
        threads (int, optional): The runtime's intra-op threads.
        backend (str): ``'onnxruntime'`` or ``'openvino'``.
    """

    def __init__(self,
                 onnx_file: str,
                 device: str = 'cpu',
                 threads: Optional[int] = None,
                 backend: str = 'onnxruntime') -> None:
        self.window = load_runtime(onnx_file, backend, device,
                                   threads).expect(TASK, 'window')
        self.num_frames = int(self.window.metadata['num_frames'])
        stem = (
            onnx_file[:-len('.onnx')]
            if onnx_file.endswith('.onnx') else onnx_file)
        parts = [f'{stem}.{part}.onnx' for part in ('frame', 'fusion')]
        self.streaming = all(osp.isfile(part) for part in parts)
        if self.streaming:
            self.frame, self.fusion = (load_runtime(
                path, backend, device, threads).expect(
                    TASK,
                    graph) for path, graph in zip(parts, ('frame', 'fusion')))

    def entry(self, frame: np.ndarray) -> tuple:
        """(H, W, 3) uint8 RGB -> the frame (1, 3, H, W) float32 and its
        features (1, 1, mid, H, W) when streaming."""
        x = np.ascontiguousarray(frame.transpose(2, 0, 1)[None], np.float32)
        return x, self.frame(x)[0][:, None] if self.streaming else None

    def restore(self, window: List[tuple]) -> np.ndarray:
        """The entries of ``num_frames`` frames -> the restored target
        frame (H, W, 3) uint8 RGB."""
        if self.streaming:
            x, = self.fusion(window[self.num_frames // 2][0],
                             np.concatenate([f for _, f in window], axis=1))
        else:
            x, = self.window(np.stack([x for x, _ in window], axis=1))
        return np.clip(x[0], 0,
                       255).round().astype(np.uint8).transpose(1, 2, 0)


#: the metric of the accuracy table (MMagic's PSNR)
METRIC = 'PSNR'


def windows(model: nn.Module, num: int, split: str) -> List[torch.Tensor]:
    """``num`` windows (T, 3, H, W) of the config's ``split`` (pixel
    values 0-255, float), spread over it."""
    loader = split_loader(model.cfg, split)
    return [
        as_window(batch['inputs'][0]).float()
        for batch in sample_batches(loader, num)
    ]


def as_window(frames: torch.Tensor) -> torch.Tensor:
    """A window of the config's pipeline as (T, 3, H, W): MMagic packs a
    single frame (DnCNN's) as (3, H, W)."""
    return frames if frames.dim() == 4 else frames[None]


def centre_crop(frames: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """The centre ``height`` x ``width`` of frames (..., H, W)."""
    top = (frames.shape[-2] - height) // 2
    left = (frames.shape[-1] - width) // 2
    return frames[..., top:top + height, left:left + width]


def calibration_inputs(model: nn.Module, graphs: List[Graph], num: int,
                       split: str) -> Dict[str, list]:
    """Each graph's inputs on ``num`` windows of the config's ``split``:
    the window (``OUT.onnx``), each of its frames (``OUT.frame.onnx``),
    its target frame and the features of its frames, computed by the
    float frame graph on PyTorch (``OUT.fusion.onnx``). Graphs of a fixed
    size (``--static``) get the windows' centre crops of their size."""
    samples = windows(model, num, split)
    if graphs[0].dynamic_shapes is None:  # --static: the graph's size
        height, width = graphs[0].inputs[0].shape[-2:]
        if any(w.shape[-2] < height or w.shape[-1] < width for w in samples):
            raise ValueError(
                f'--static --shape {height} {width}: the {split} split has '
                f'smaller frames ({tuple(samples[0].shape[-2:])}); export '
                'with a --shape they hold.')
        samples = [centre_crop(w, height, width) for w in samples]
    inputs = {'': [(w[None].numpy(), ) for w in samples]}
    frame = {graph.suffix: graph.module for graph in graphs}.get('frame')
    if frame is not None:
        target = model.generator.target
        inputs['frame'] = [(x[None].numpy(), ) for w in samples for x in w]
        with torch.no_grad():
            inputs['fusion'] = [(w[target][None].numpy(),
                                 torch.stack([frame(x[None])
                                              for x in w], 1).numpy())
                                for w in samples]
    return inputs


def restore_windows(steps: Union[TorchSteps, ONNXRestorer],
                    data: dict) -> List[DataSample]:
    """A batch of the config's pipeline (``inputs``: each window's frames
    (T, 3, H, W), RGB 0-255) -> its data samples with ``output.pred_img``,
    each window's target frame restored by the streaming steps of
    :func:`~off_plugin.restoration.restore_frames` (as uint8, as a video
    is written)."""
    for frames, sample in zip(data['inputs'], data['data_samples']):
        frames = as_window(frames)
        if len(frames) != steps.num_frames:
            raise ValueError(
                f'windows of {len(frames)} frames, but the model takes '
                f'{steps.num_frames}: set the dataset\'s num_input_frames to '
                "the generator's num_frames.")
        frames = frames.permute(0, 2, 3, 1).byte().cpu().numpy()
        restored = steps.restore([steps.entry(frame) for frame in frames])
        sample.output = DataSample(
            pred_img=torch.from_numpy(restored).permute(2, 0, 1).float())
    return data['data_samples']


def evaluation(cfg: Config,
               split: str,
               onnx_file: Optional[str] = None,
               backend: str = 'onnxruntime',
               model: Optional[nn.Module] = None) -> Dict[str, float]:
    """The config's ``<split>_evaluator`` (PSNR, ...) on its ``split``,
    each window's target frame restored by streaming: of the file
    ``onnx_file`` on ``backend``, or of the PyTorch ``model``."""
    if model is None:
        steps = ONNXRestorer(onnx_file, backend=backend)
        # MMagic's metrics read the data preprocessor of a model
        model = nn.Module()
        model.data_preprocessor = MODELS.build(cfg.model.data_preprocessor)
    else:
        steps = TorchSteps(model)
    return evaluate(
        cfg, lambda data: restore_windows(steps, data), split, model=model)
