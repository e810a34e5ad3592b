# Copyright (c) off_plugin authors. All rights reserved.
"""Draw what every OFF unit of a recognizer sees in a video (the paper's
Fig. 1): for each pair of adjacent segments, the frames and the
channel-pooled magnitude (mean of |.| over channels) of the unit's spatial
gradients F_x, F_y (F_xy for the combined kernel) and temporal gradient F_t.

    python tools/analysis_tools/visualize_off.py \\
        configs/recognition/off/off_r18_1xb8-5of8seg-10e_motion-demo-rgb.py \\
        work_dirs/motion_demo/off/epoch_10.pth \\
        --video video.mp4 --out-dir work_dirs/off_pictures

One PNG per OFF unit (``off_level{l}.png``, ``off_level{l}_unit{u}.png``
with one unit per backbone map). The video (a file, or a folder of frames
in name order) goes through the config's ``test_pipeline`` and the model's
data preprocessor as in ``mim test``; the first crop and ``--num-segments``
consecutive segments of the sampled ones (the middle ones, so the interval
between segments stays the configured one) go through the network, and
forward pre-hooks on the ``OFFUnit`` modules take the units' inputs, whose
gradients ``OFFUnit.gradients`` gives. Without a checkpoint the weights are
random: the pictures then show only the fixed-kernel structure of random
features.

Writes only ``<out-dir>/off_*.png`` (``--out-dir`` made if missing);
reads the video, the config and the checkpoint.
"""
import argparse
import os
import os.path as osp
import re
import warnings
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
from matplotlib.figure import Figure
from mmaction.apis import init_recognizer
from mmengine.config import Config
from mmengine.dataset import Compose

from off_plugin.core import OFFUnit
from off_plugin.utils import add_cfg_options, load_config, run_tool
from off_plugin.utils.video_io import read_video

# Default cap on the segments drawn: one column per pair.
MAX_SEGMENTS = 8
RANDOM_WEIGHTS_WARNING = (
    'visualize_off: no checkpoint, the model has random weights: the '
    'pictures show only the fixed-kernel structure (spatial kernels, '
    'temporal difference) of random features, not what a trained OFF '
    'responds to.')


def run_pipeline(cfg: Config, video: str) -> dict:
    """The packed test-pipeline output of ``video``, plus ``total_frames``
    and the sampled ``frame_inds`` and ``clip_len``."""
    steps = list(cfg.test_pipeline)
    if osp.isdir(video):
        # Frames in memory: the decoders of a video file give way to
        # MMAction2's ArrayDecode.
        array = np.stack([f[..., ::-1] for f in read_video(video)[1]])
        if not any(s['type'].endswith('Decode') for s in steps):
            raise ValueError('the config\'s test_pipeline has no decoding '
                             'step to replace for a frame folder.')
        steps = [
            dict(type='ArrayDecode') if s['type'].endswith('Decode') else s
            for s in steps if not s['type'].endswith('Init')
        ]
        results = dict(array=array, total_frames=len(array))
    else:
        results = dict(filename=video)
    results.update(label=-1, start_index=0, modality='RGB')
    info = {}
    for transform in Compose(steps).transforms:
        results = transform(results)
        for key in ('total_frames', 'frame_inds', 'clip_len'):
            if key in results:
                info[key] = np.array(results[key]).copy()
    info['packed'] = results
    return info


def pick_segments(seg_frames: np.ndarray, num: int, video: str) -> int:
    """First of ``num`` consecutive segments, each on a later frame than the
    one before, nearest the middle."""
    starts = [
        s for s in range(len(seg_frames) - num + 1)
        if np.all(np.diff(seg_frames[s:s + num]) > 0)
    ]
    if not starts:
        raise ValueError(
            f'{video}: too few frames: the test pipeline samples frames '
            f'{seg_frames.tolist()}, without {num} consecutive segments on '
            f'different frames; use a longer video or fewer segments '
            '(--num-segments).')
    middle = (len(seg_frames) - num) / 2
    return min(starts, key=lambda s: abs(s - middle))


def unit_names(model: torch.nn.Module) -> Dict[str, dict]:
    """module name -> dict(name, level, unit, maps) for every OFFUnit."""
    units = {}
    for name, module in model.named_modules():
        if not isinstance(module, OFFUnit):
            continue
        match = re.search(r'^(.*)\.levels\.(\d+)\.units\.(\d+)$', name)
        if match is None:
            units[name] = dict(name=re.sub(r"\W", "_", name), title=name)
            continue
        net = model.get_submodule(match.group(1))
        level, unit = int(match.group(2)), int(match.group(3))
        maps = net.in_indices[level]
        per_map = len(net.levels[level].units) > 1
        if per_map:
            maps = (maps[unit], )
        units[name] = dict(
            name=f'level{level}' + (f'_unit{unit}' if per_map else ''),
            title=f'OFF level {level}' +
            (f', unit {unit}' if per_map else '') +
            f' (backbone map{"s" if len(maps) > 1 else ""} '
            f'{", ".join(map(str, maps))})')
    return units


def display_frames(views: torch.Tensor, bgr: bool) -> List[np.ndarray]:
    """(T, C, H, W) pipeline views -> T images in [0, 1]: the RGB frame, or
    the mean |.| over channels of other inputs (flow, RGB differences)."""
    views = views.detach().float().cpu()
    if views.shape[1] == 3:
        images = (views.permute(0, 2, 3, 1) / 255.).clamp(0, 1).numpy()
        return [im[..., ::-1] if bgr else im for im in images]
    images = views.abs().mean(dim=1)
    return list((images / images.max().clamp(min=1e-6)).numpy())


def draw(path: str, title: str, frames: List[np.ndarray],
         frame_inds: List[int], maps: Dict[str, np.ndarray],
         channels: Dict[str, int]) -> None:
    """One row with the frames of each pair, one row per gradient map
    (``channels``: how many channels each map pools)."""
    pairs = len(frames) - 1
    rows = 1 + len(maps)
    fig = Figure(figsize=(2.1 * pairs + 1.5, 2.1 * rows))
    axes = fig.subplots(
        rows,
        pairs,
        squeeze=False,
        gridspec_kw=dict(height_ratios=[0.6] + [1] * len(maps)))
    fig.subplots_adjust(
        left=0.6 / fig.get_figwidth(),
        right=1 - 0.7 / fig.get_figwidth(),
        bottom=0.02,
        top=1 - 0.75 / fig.get_figheight(),
        wspace=0.06,
        hspace=0.25)
    gray = dict(cmap='gray') if frames[0].ndim == 2 else {}
    for p in range(pairs):
        gap = np.ones_like(frames[p][:, :2])
        axes[0, p].imshow(
            np.concatenate([frames[p], gap, frames[p + 1]], axis=1), **gray)
        axes[0, p].set_title(
            f'pair {p}: frames {frame_inds[p]} & {frame_inds[p + 1]}',
            fontsize=9)
    axes[0, 0].set_ylabel('frames t, t+1', fontsize=9)
    for row, (key, values) in enumerate(maps.items(), start=1):
        top = float(values.max()) or 1.
        for p in range(pairs):
            image = axes[row, p].imshow(
                values[p],
                cmap='inferno',
                vmin=0,
                vmax=top,
                interpolation='nearest')
        axes[row, 0].set_ylabel(
            f'mean |{key}| over\n{channels[key]} channels', fontsize=9)
        fig.colorbar(image, ax=list(axes[row]), fraction=0.02, pad=0.01)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(title, fontsize=10)
    fig.savefig(path, dpi=100)


def load_off_model(config: str, checkpoint: Optional[str], device: str,
                   cfg_options: Optional[dict]) -> tuple:
    """The config, the model (random weights, seed 0, without a
    checkpoint), its OFF units (see :func:`unit_names`) and its test
    ``num_segments``; a ValueError if it is no OFF recognizer."""
    cfg = load_config(config, cfg_options)
    if 'feature_checkpoint' in cfg.model:
        # The stage-1 weights come with the checkpoint, or not at all.
        cfg.model.feature_checkpoint = None
    if checkpoint is None:
        warnings.warn(RANDOM_WEIGHTS_WARNING, stacklevel=3)
        torch.manual_seed(0)  # the same random weights every run
    model = init_recognizer(cfg, checkpoint, device=device)
    units = unit_names(model)
    total_segments = (model.test_cfg or {}).get('num_segments')
    if not units or not total_segments:
        raise ValueError(
            f'{config}: not an OFF model config: its model '
            f'({cfg.model.get("type")}) has no OFFUnit or no test_cfg.'
            'num_segments; pass the config of an OFF recognizer.')
    return cfg, model, units, total_segments


def sample_views(cfg: Config, config: str, video: str, num: int,
                 total_segments: int) -> Tuple[torch.Tensor, List[int], dict]:
    """The first crop's ``num`` middle segments of ``video`` after the test
    pipeline, their frame indices and the packed pipeline output."""
    info = run_pipeline(cfg, video)
    if int(info['total_frames']) < 2:
        raise ValueError(
            f'{video}: too few frames ({int(info["total_frames"])}); OFF '
            'needs at least 2.')
    packed = info['packed']
    views = packed['inputs']
    if len(views) % total_segments:
        raise ValueError(
            f'{config}: the test pipeline gives {len(views)} views, not a '
            f'multiple of test_cfg.num_segments={total_segments}.')
    clip_len = int(info.get('clip_len', 1))
    seg_frames = info['frame_inds'].reshape(-1)[::clip_len][:total_segments]
    start = pick_segments(seg_frames, num, video)
    # Views are crop-major: the first crop's segments come first.
    views = views[:total_segments][start:start + num]
    frame_inds = [int(i) for i in seg_frames[start:start + num]]
    return views, frame_inds, packed


def unit_gradients(model: torch.nn.Module, units: Dict[str, dict],
                   views: torch.Tensor, data_samples) -> Dict[str, dict]:
    """The gradients of every OFF unit's input, by unit module name, with
    the model run on ``views`` alone (its ``num_segments`` restored
    after)."""
    captured = {}
    hooks = [
        module.register_forward_pre_hook(
            lambda mod, args, name=name: captured.__setitem__(name, args[0]))
        for name, module in model.named_modules() if name in units
    ]
    total_segments = model.test_cfg['num_segments']
    model.test_cfg['num_segments'] = len(views)
    data_samples.set_metainfo(dict(num_clips=len(views)))  # views kept
    try:
        with torch.no_grad():
            model.test_step(dict(inputs=[views], data_samples=[data_samples]))
            return {
                name: model.get_submodule(name).gradients(feats)
                for name, feats in captured.items()
            }
    finally:
        model.test_cfg['num_segments'] = total_segments
        for hook in hooks:
            hook.remove()


def draw_units(units: Dict[str, dict], grads: Dict[str, dict],
               frames: List[np.ndarray], frame_inds: List[int], video: str,
               out_dir: str, random_weights: bool) -> Dict[str, dict]:
    """One PNG per unit into ``out_dir``; what :func:`visualize`
    returns."""
    os.makedirs(out_dir, exist_ok=True)
    results = {}
    for name, unit in units.items():
        maps = {
            key: value[0].abs().mean(dim=1).cpu().numpy()
            for key, value in grads[name].items()
        }
        channels = {key: value.shape[2] for key, value in grads[name].items()}
        height, width = next(iter(grads[name].values())).shape[-2:]
        path = osp.join(out_dir, f'off_{unit["name"]}.png')
        title = (f'{osp.basename(osp.normpath(video))}: {unit["title"]}, '
                 f'{height}x{width} map')
        if random_weights:
            title += '\n(random weights: fixed-kernel structure only)'
        draw(path, title, frames, frame_inds, maps, channels)
        results[unit['name']] = dict(
            path=path,
            size=(height, width),
            frame_inds=frame_inds,
            frames=frames,
            maps=maps)
    return results


def visualize(config: str,
              checkpoint: Optional[str],
              video: str,
              out_dir: str,
              num_segments: Optional[int] = None,
              device: str = 'cpu',
              cfg_options: Optional[dict] = None) -> Dict[str, dict]:
    """Write one PNG per OFF unit; return, per unit name, ``path``,
    ``size`` (H, W of its maps), ``frame_inds`` (video frames of the
    segments), ``frames`` (the images drawn) and ``maps`` (name -> (T-1,
    H, W) channel-pooled magnitudes)."""
    if not osp.exists(video):
        raise FileNotFoundError(
            f'{video}: no such video file or frame folder.')
    cfg, model, units, total_segments = load_off_model(config, checkpoint,
                                                       device, cfg_options)
    num = num_segments or min(total_segments, MAX_SEGMENTS)
    if not 2 <= num <= total_segments:
        raise ValueError(
            f'--num-segments {num}: OFF pairs segments, so at least 2, and '
            f'at most the {total_segments} segments {config} samples.')
    views, frame_inds, packed = sample_views(cfg, config, video, num,
                                             total_segments)
    grads = unit_gradients(model, units, views, packed['data_samples'])
    frames = display_frames(views,
                            getattr(model.data_preprocessor, 'to_rgb', False))
    return draw_units(units, grads, frames, frame_inds, video, out_dir,
                      checkpoint is None)


def main(argv: Optional[List[str]] = None) -> Dict[str, dict]:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='an OFF recognizer config')
    parser.add_argument(
        'checkpoint',
        nargs='?',
        help='its checkpoint; random weights if left out')
    parser.add_argument(
        '--video', required=True, help='a video file or a folder of frames')
    parser.add_argument('--out-dir', required=True)
    parser.add_argument(
        '--num-segments',
        type=int,
        help=f'consecutive segments to draw (default: the config\'s test '
        f'num_segments, at most {MAX_SEGMENTS})')
    parser.add_argument('--device', default='cpu')
    add_cfg_options(parser)
    args = parser.parse_args(argv)
    results = visualize(args.config, args.checkpoint, args.video, args.out_dir,
                        args.num_segments, args.device, args.cfg_options)
    for result in results.values():
        print(result['path'])
    return results


if __name__ == '__main__':
    run_tool(main)
