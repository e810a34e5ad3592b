# Copyright (c) off_plugin authors. All rights reserved.
"""tools/analysis_tools/visualize_off.py (the paper's Fig. 1) on a motion
demo video, and OFFUnit.gradients, which it draws."""
import os.path as osp
import runpy
import warnings

import cv2
import numpy as np
import pytest
import torch
from matplotlib.image import imread
from mmaction.registry import MODELS
from mmengine.config import Config
from mmengine.registry import init_default_scope
from motion_videos import MOTIONS, render_clip, write_video

from off_plugin.core import OFFUnit

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(ROOT, 'tools', 'analysis_tools', 'visualize_off.py')
CONFIGS = osp.join(ROOT, 'configs', 'recognition', 'off')
OFF = osp.join(CONFIGS, 'off_r18_1xb8-5of8seg-10e_motion-demo-rgb.py')
TSN = osp.join(CONFIGS, 'tsn_r18_1xb8-8seg-4e_motion-demo-rgb.py')
# The demo config: 56x56 crops, ResNet-18 layer1-3 -> 14, 7 and 4 pixels.
SIZES = {'level0': (14, 14), 'level1': (7, 7), 'level2': (4, 4)}


@pytest.fixture(scope='module')
def tool():
    return runpy.run_path(TOOL)


@pytest.fixture(scope='module')
def clip(tmp_path_factory):
    """A demo clip (patch moving right, 24 frames of 64x64) as an MPEG-4
    file and as a folder of PNG frames."""
    root = tmp_path_factory.mktemp('visualize_off')
    frames = render_clip(
        np.random.default_rng(3),
        MOTIONS['move_right'],
        size=64,
        num_frames=24,
        speed=1,
        patch=16)
    video = str(root / 'move_right.mp4')
    write_video(video, frames)
    folder = root / 'frames'
    folder.mkdir()
    for t, frame in enumerate(frames):
        cv2.imwrite(
            str(folder / f'{t:05d}.png'), cv2.cvtColor(frame,
                                                       cv2.COLOR_RGB2BGR))
    return root, video, str(folder)


def dilate(mask: np.ndarray, cells: int) -> np.ndarray:
    """``mask`` grown by ``cells`` in every direction (square)."""
    grown = np.pad(mask, cells)
    h, w = mask.shape
    return np.any([
        grown[dy:dy + h, dx:dx + w] for dy in range(2 * cells + 1)
        for dx in range(2 * cells + 1)
    ],
                  axis=0)


def check_pictures(result: dict, out_dir) -> None:
    assert set(result) == set(SIZES)
    for name, size in SIZES.items():
        path = str(out_dir / f'off_{name}.png')
        assert result[name]['path'] == path
        image = imread(path)
        # a row of frames + F_x, F_y, F_t rows, 7 pair columns
        assert image.shape[0] > 400 and image.shape[1] > 1000
        assert result[name]['size'] == size
        assert set(result[name]['maps']) == {'F_x', 'F_y', 'F_t'}
        for values in result[name]['maps'].values():
            assert values.shape == (7, ) + size


def test_random_weights_warn_and_ft_marks_the_moving_patch(
        tool, clip, tmp_path, capsys):
    _, video, _ = clip
    with pytest.warns(UserWarning, match='random weights.*fixed-kernel'):
        result = tool['main'](
            [OFF, '--video', video, '--out-dir',
             str(tmp_path)])
    check_pictures(result, tmp_path)
    printed = capsys.readouterr().out.split()
    assert printed == [result[name]['path'] for name in SIZES]
    # 8 test segments of 24 frames: interval 3, all drawn
    assert result['level0']['frame_inds'] == [1, 4, 7, 10, 13, 16, 19, 22]

    # The finest level: where the patch moved (the frames differ), the
    # temporal gradient is far larger than on the background away from it.
    level = result['level0']
    frames = np.stack(level['frames'])  # (8, 56, 56, 3) in [0, 1]
    for pair, ft in enumerate(level['maps']['F_t']):
        moved = np.abs(frames[pair + 1] - frames[pair]).max(-1) > 0.2
        cells = moved.reshape(14, 4, 14, 4).any(axis=(1, 3))
        static = ~dilate(cells, 2)
        assert cells.sum() >= 8 and static.sum() >= 50
        assert ft[cells].mean() > 4 * ft[static].mean(), pair


def test_checkpoint_is_loaded_and_hooks_take_the_units_inputs(
        tool, clip, tmp_path):
    root, video, _ = clip
    cfg = Config.fromfile(OFF)
    cfg.model.feature_checkpoint = None
    init_default_scope('mmaction')
    torch.manual_seed(1)
    model = MODELS.build(cfg.model)
    checkpoint = str(root / 'off.pth')
    torch.save({'state_dict': model.state_dict()}, checkpoint)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        result = tool['main'](
            [OFF, checkpoint, '--video', video, '--out-dir',
             str(tmp_path)])
    assert not [w for w in caught if 'random weights' in str(w.message)]
    check_pictures(result, tmp_path)

    # The same frames straight through the saved model's backbone and its
    # first unit's gradients give the drawn maps (so the checkpoint was
    # loaded and the hooks took the unit's inputs).
    model.eval()
    frames = np.stack(result['level0']['frames'])
    views = torch.from_numpy(np.round(frames * 255)).permute(0, 3, 1, 2)
    inputs = model.data_preprocessor(dict(inputs=[views],
                                          data_samples=None))['inputs']
    unit = model.off_head.off_sub_network.levels[0].units[0]
    with torch.no_grad():
        feats = model.backbone(inputs.flatten(0, 1))[0].unflatten(0, (1, 8))
        grads = unit.gradients(feats)
    for key, values in grads.items():
        np.testing.assert_allclose(
            result['level0']['maps'][key],
            values[0].abs().mean(dim=1).numpy(),
            rtol=1e-4,
            atol=1e-6)


def test_frame_folder_and_num_segments(tool, clip, tmp_path):
    _, _, folder = clip
    with pytest.warns(UserWarning, match='random weights'):
        result = tool['main']([
            OFF, '--video', folder, '--out-dir',
            str(tmp_path), '--num-segments', '4'
        ])
    # the middle 4 of the 8 test segments: the configured interval kept
    assert result['level0']['frame_inds'] == [7, 10, 13, 16]
    assert result['level2']['maps']['F_t'].shape == (3, 4, 4)
    assert osp.getsize(result['level1']['path']) > 10000


def test_errors_name_the_bad_input(tool, clip, tmp_path):
    root, video, _ = clip
    out = ['--out-dir', str(tmp_path)]
    with pytest.raises(FileNotFoundError, match='nothing.mp4: no such'):
        tool['main']([OFF, '--video', str(root / 'nothing.mp4'), *out])
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        with pytest.raises(
                ValueError, match='tsn_r18.*not an OFF model config'):
            tool['main']([TSN, '--video', video, *out])
        short = str(tmp_path / 'short.mp4')
        write_video(
            short, render_clip(np.random.default_rng(0), (1, 0), 64, 4, 1, 16))
        with pytest.raises(ValueError, match='short.mp4: too few frames'):
            tool['main']([OFF, '--video', short, *out])
        with pytest.raises(ValueError, match='--num-segments 9'):
            tool['main']([OFF, '--video', video, '--num-segments', '9', *out])
        single = str(tmp_path / 'single.mp4')
        write_video(
            single,
            render_clip(np.random.default_rng(0), (1, 0), 64, 1, 1, 16))
        with pytest.raises(ValueError, match=r'single.mp4: too few frames'):
            tool['main']([OFF, '--video', single, *out])
    assert not list(tmp_path.glob('*.png'))


@pytest.mark.parametrize('kwargs', [
    dict(),
    dict(kernel='combined', spatial_channels=3),
    dict(spatial=False),
    dict(temporal=False, lower_channels=2)
])
def test_unit_gradients_are_what_forward_concatenates(kwargs):
    torch.manual_seed(0)
    unit = OFFUnit(5, reduce_channels=4, **kwargs).eval()
    feats = torch.randn(2, 3, 5, 6, 7)
    lower = torch.randn(2, 2, 2, 6, 7) if kwargs.get('lower_channels') \
        else None
    grads = unit.gradients(feats)
    names = {
        (): ['F_x', 'F_y', 'F_t'],
        ('kernel', 'spatial_channels'): ['F_xy', 'F_t'],
        ('spatial', ): ['F_t'],
        ('temporal', 'lower_channels'): ['F_x', 'F_y']
    }
    assert list(grads) == names[tuple(kwargs)]
    parts = list(grads.values()) + ([lower] if lower is not None else [])
    for value in grads.values():
        assert value.shape[:2] == (2, 2) and value.shape[-2:] == (6, 7)
    assert torch.equal(unit(feats, lower), torch.cat(parts, dim=2))
