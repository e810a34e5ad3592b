# Copyright (c) off_plugin authors. All rights reserved.
from typing import Callable, Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmengine.registry import MODELS

from .conv import ConvAct

# The fixed 3x3 kernels of the spatial gradients, as cross-correlations (as
# Caffe and PyTorch apply them) with x pointing right and y pointing up: on
# a smooth map f they give 6 * df/dx and 6 * df/dy. The unit computes them
# as the separable sums of shifted maps below (no convolution): on CPU a
# depthwise convolution costs several times the memory traffic.
SPATIAL_KERNELS = {
    # Eq. 5-6 of the paper: F_x and F_y, one map each per channel.
    'sobel': (
        ((-1., 0., 1.), (-1., 0., 1.), (-1., 0., 1.)),
        ((1., 1., 1.), (0., 0., 0.), (-1., -1., -1.)),
    ),
    # The authors' Caffe code: one map per channel, 2 * (df/dx + df/dy).
    'combined': (((0., 1., 0.), (-1., 0., 1.), (0., -1., 0.)), ),
}


def sobel_gradients(f: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """(..., H, W) -> F_x, F_y (..., H, W): the ``'sobel'`` kernels, zero
    padded: central differences summed over the 3 neighbours across."""
    p = F.pad(f, (1, 1, 1, 1))
    dx = p[..., 2:] - p[..., :-2]  # (H + 2, W), f(x + 1) - f(x - 1)
    dy = p[..., :-2, :] - p[..., 2:, :]  # (H, W + 2), f(y + 1) - f(y - 1)
    fx = dx[..., :-2, :] + dx[..., 1:-1, :]
    fy = dy[..., :-2] + dy[..., 1:-1]
    return fx.add_(dx[..., 2:, :]), fy.add_(dy[..., 2:])


def combined_gradient(f: torch.Tensor) -> Tuple[torch.Tensor]:
    """(..., H, W) -> (F_xy, ) (..., H, W): the ``'combined'`` kernel, zero
    padded: the sum of the central differences along x and y."""
    p = F.pad(f, (1, 1, 1, 1))
    fxy = p[..., 1:-1, 2:] - p[..., 1:-1, :-2]
    return (fxy.add_(p[..., :-2, 1:-1]).sub_(p[..., 2:, 1:-1]), )


SPATIAL_GRADIENTS = dict(sobel=sobel_gradients, combined=combined_gradient)


def off_features(reduced: Optional[torch.Tensor],
                 earlier: Optional[torch.Tensor],
                 lower: Optional[torch.Tensor], kernel: str, dropout: float,
                 training: bool) -> torch.Tensor:
    """The parameter-free part of the unit, the OFF of every adjacent pair:
    ``concat(F_s(earlier), F_t(reduced), lower)`` along channels.

    ``reduced`` (N, T, C, H, W), None without F_t; ``earlier`` (N, T-1,
    C_s, H, W), the earlier segment of every pair, None without F_s;
    ``lower`` (N, T-1, C_l, H, W) or None -> (N, T-1, C_out, H, W).
    """
    outs = []
    if earlier is not None:
        outs += [
            F.dropout(grad, dropout, training)
            for grad in SPATIAL_GRADIENTS[kernel](earlier)
        ]
    if reduced is not None:
        outs.append(reduced[:, 1:] - reduced[:, :-1])
    if lower is not None:
        outs.append(lower)
    return torch.cat(outs, dim=2)


_COMPILED: Dict[str, Callable] = {}


def compiled_off_features(options: dict) -> Callable:
    """:func:`off_features` through ``torch.compile(**options)``, built once
    per set of options and shared by all units (torch caches the compiled
    graphs per input shape)."""
    key = repr(sorted(options.items()))
    if key not in _COMPILED:
        _COMPILED[key] = torch.compile(off_features, **options)
    return _COMPILED[key]


@MODELS.register_module()
class OFFUnit(BaseModule):
    """Optical Flow guided Feature unit (Sec. 4.1.3 and Fig. 4 of the paper).

    The basic features ``f`` of a sequence of ``T`` segments are reduced by a
    1x1 convolution; for every adjacent pair ``(t, t+1)`` of each video the
    unit outputs the OFF, ``concat(F_s, F_t, lower)``:

    - ``F_s``: fixed spatial-gradient kernels on ``f_t`` (Eq. 5-6,
      :data:`SPATIAL_KERNELS`), as shifted differences of all channels and
      pairs at once;
    - ``F_t = f_{t+1} - f_t`` (Eq. 7);
    - ``lower``: features from the lower level (the previous OFF stage),
      passed in by the caller.

    Shapes: ``feats`` (N, T, C_in, H, W) with T >= 2, or a sequence of T maps
    (N, C_in, H, W); ``lower`` (N, T-1, lower_channels, H, W); output
    (N, T-1, out_channels, H, W), channels ordered ``[F_x, F_y, F_t, lower]``
    (``[F_xy, F_t, lower]`` for the combined kernel). Pairs never cross
    videos: the batch is split per video before pairing.

    Args:
        in_channels (int): Channels C_in of the basic features.
        reduce_channels (int): Channels after the 1x1 reduction, shared by
            both gradients unless ``spatial_channels`` is set. Defaults to
            128 (the paper).
        spatial_channels (int, optional): If set, the spatial branch gets its
            own 1x1 reduction to this many channels, without activation (the
            authors' code: 32). Defaults to None (the paper: one reduction).
        kernel (str): ``'sobel'`` for the paper's F_x and F_y, ``'combined'``
            for the authors' single kernel. Defaults to ``'sobel'``.
        spatial (bool): Compute the spatial gradients (OFF_S). Defaults to
            True.
        temporal (bool): Compute the temporal difference (OFF_T). Defaults to
            True.
        spatial_dropout (float): Dropout on the spatial gradients (the
            authors' code: 0.8). Defaults to 0.
        lower_channels (int): Channels of the lower-level features that
            ``forward`` receives, 0 for none. Defaults to 0.
        act_cfg (dict, optional): Activation after the shared reduction.
            Defaults to ``dict(type='ReLU')``.
        compile (bool or dict): Run the parameter-free part
            (:func:`off_features`: gradients, difference, dropout,
            concatenation) through ``torch.compile`` (a dict: its
            arguments), which fuses it into fewer passes over memory. Opt-in:
            compiling costs seconds per feature shape at the first call
            (``tools/analysis_tools/benchmark.py unit --compile`` measures
            both). Defaults to False.
        init_cfg (dict or list[dict], optional): Initialization config.
    """

    def __init__(self,
                 in_channels: int,
                 reduce_channels: int = 128,
                 spatial_channels: Optional[int] = None,
                 kernel: str = 'sobel',
                 spatial: bool = True,
                 temporal: bool = True,
                 spatial_dropout: float = 0.,
                 lower_channels: int = 0,
                 act_cfg: Optional[dict] = dict(type='ReLU'),
                 compile: Union[bool, dict] = False,
                 init_cfg: Optional[Union[dict, list]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if kernel not in SPATIAL_KERNELS:
            raise ValueError(f'OFFUnit: kernel={kernel!r} is unknown; use one '
                             f'of {sorted(SPATIAL_KERNELS)}.')
        if not (spatial or temporal):
            raise ValueError('OFFUnit: spatial=False and temporal=False leave '
                             'nothing to compute; enable at least one.')
        self.in_channels = in_channels
        self.lower_channels = lower_channels
        self.spatial = spatial
        self.temporal = temporal
        self.kernel = kernel
        self.spatial_dropout = spatial_dropout
        # options of torch.compile, None to run eagerly
        self.compile_options = (
            dict(compile)
            if isinstance(compile, dict) else dict() if compile else None)

        shared = temporal or spatial_channels is None
        self.reduce = ConvAct(
            in_channels, reduce_channels, 1,
            act_cfg=act_cfg) if shared else None
        self.spatial_reduce = ConvAct(
            in_channels, spatial_channels, 1,
            act_cfg=None) if spatial and spatial_channels else None
        spatial_out = 0
        if spatial:
            self.num_kernels = len(SPATIAL_KERNELS[kernel])
            # channels of each spatial gradient
            self.gradient_channels = spatial_channels or reduce_channels
            spatial_out = self.num_kernels * self.gradient_channels
        self.out_channels = (
            spatial_out + temporal * reduce_channels + lower_channels)

    def forward(self,
                feats: Union[torch.Tensor, Sequence[torch.Tensor]],
                lower: Optional[torch.Tensor] = None) -> torch.Tensor:
        """(N, T, C_in, H, W) [+ lower (N, T-1, C_l, H, W)] ->
        (N, T-1, C_out, H, W): ``concat`` of :meth:`gradients` and lower."""
        feats = self._stacked(feats)
        self._check_lower(feats, lower)
        reduced, earlier = self._reduced(feats)
        off = off_features if self.compile_options is None else \
            compiled_off_features(self.compile_options)
        return off(reduced if self.temporal else None, earlier, lower,
                   self.kernel, self.spatial_dropout, self.training)

    @property
    def spatial_names(self) -> Tuple[str, ...]:
        """Names of the spatial gradients the unit computes."""
        if not self.spatial:
            return ()
        return ('F_x', 'F_y') if self.num_kernels == 2 else ('F_xy', )

    @property
    def spatial_kernels(self) -> torch.Tensor:
        """The spatial gradients as one depthwise convolution's weights,
        (k * C, 1, 3, 3), the k kernels of channel 0, then of channel 1...
        (the layout of the authors' Caffe layer)."""
        kernels = torch.tensor(SPATIAL_KERNELS[self.kernel])
        return kernels.repeat(self.gradient_channels, 1, 1).unsqueeze(1)

    def gradients(
        self, feats: Union[torch.Tensor, Sequence[torch.Tensor]]
    ) -> Dict[str, torch.Tensor]:
        """The unit's gradients for every adjacent pair ``(t, t+1)``.

        ``feats`` (N, T, C_in, H, W) or T maps (N, C_in, H, W) -> a dict of
        (N, T-1, C, H, W) tensors, C the reduced channels: ``F_x`` and
        ``F_y`` (``'sobel'``) or ``F_xy`` (``'combined'``) of ``f_t`` when
        ``spatial`` (before the spatial dropout), ``F_t = f_{t+1} - f_t``
        when ``temporal``. ``forward`` concatenates these.
        """
        feats = self._stacked(feats)
        reduced, earlier = self._reduced(feats)
        grads = {}
        if self.spatial:
            grads.update(
                zip(self.spatial_names,
                    SPATIAL_GRADIENTS[self.kernel](earlier)))
        if self.temporal:
            grads['F_t'] = reduced[:, 1:] - reduced[:, :-1]
        return grads

    def _reduced(self, feats: torch.Tensor) -> tuple:
        """(N, T, C_in, H, W) -> the features after the shared 1x1
        reduction, (N, T, C, H, W), and the input of the spatial gradients,
        the earlier segment of every pair, (N, T-1, C_s, H, W); each None
        when not used. Every segment is reduced once."""
        n, t = feats.shape[:2]
        reduced = earlier = None
        if self.reduce is not None:
            reduced = self.reduce(feats.flatten(0, 1)).unflatten(0, (n, t))
        if self.spatial:
            earlier = reduced[:, :-1] if self.spatial_reduce is None else \
                self.spatial_reduce(feats[:, :-1].flatten(0, 1)).unflatten(
                    0, (n, t - 1))
        return reduced, earlier

    def _stacked(
            self, feats: Union[torch.Tensor,
                               Sequence[torch.Tensor]]) -> torch.Tensor:
        """The features as one checked (N, T, C_in, H, W) tensor."""
        if not isinstance(feats, torch.Tensor):
            feats = torch.stack(tuple(feats), dim=1)
        if feats.dim() != 5 or feats.shape[1] < 2:
            raise ValueError(
                'OFFUnit expects features of shape (N, T, C, H, W) with '
                f'T >= 2 segments (or a list of T >= 2 maps), got '
                f'{tuple(feats.shape)}.')
        if feats.shape[2] != self.in_channels:
            raise ValueError(
                f'OFFUnit was built with in_channels={self.in_channels} but '
                f'the features have {feats.shape[2]} channels; set '
                f'in_channels={feats.shape[2]} in its config.')
        return feats

    def _check_lower(self, feats: torch.Tensor,
                     lower: Optional[torch.Tensor]) -> None:
        if (lower is None) != (self.lower_channels == 0):
            raise ValueError(
                f'OFFUnit was built with lower_channels={self.lower_channels}'
                f' but forward() got lower='
                f'{None if lower is None else tuple(lower.shape)}; pass the '
                'lower-level features exactly when lower_channels > 0.')
        if lower is not None:
            n, t, _, h, w = feats.shape
            expected = (n, t - 1, self.lower_channels, h, w)
            if tuple(lower.shape) != expected:
                raise ValueError(
                    f'OFFUnit: lower-level features must have shape '
                    f'{expected} (N, T-1, lower_channels, H, W), got '
                    f'{tuple(lower.shape)}.')
