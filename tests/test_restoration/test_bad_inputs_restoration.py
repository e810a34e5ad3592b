# Copyright (c) off_plugin authors. All rights reserved.
"""Bad inputs of video compression artifact removal (MMagic), one table.

Every case makes a real bad file in a copy of tiny real septuplets and
feeds it where a user would: ``Vimeo90KSeptupletDataset`` with the
pipeline of the paper's DnCNN_OFF(3) config,
``tools/data/compress_vimeo90k.py`` or ``demo/restore_video.py``. Either a
documented rule holds (the values are checked), or the error is one line
naming the file, the field and the fix, and nothing was written; where the
fix is to re-run the compression tool, that is done and the sample then
loads.
"""
import copy
import os
import os.path as osp
import runpy
import shutil

import cv2
import numpy as np
import pytest
import torch
from mmagic.registry import DATASETS, MODELS
from mmengine.config import Config
from mmengine.registry import DefaultScope
from restoration_clips import make_restoration_clips

import off_plugin.restoration  # noqa: F401
from off_plugin.restoration.vimeo90k import compress_septuplets
from off_plugin.utils import ToolError

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = osp.join(ROOT, 'configs', 'restoration', 'off')
DATA_CFG = Config.fromfile(
    osp.join(CONFIGS,
             'dncnn-off3_4xb7-50e_vimeo90k-jpeg2000-q40.py')).val_dataloader
DEMO = osp.join(CONFIGS, 'dncnn-off3-c32_1xb8-800iter_restoration-demo-q40.py')
COMPRESS = runpy.run_path(
    osp.join(ROOT, 'tools', 'data', 'compress_vimeo90k.py'))
RESTORE = runpy.run_path(osp.join(ROOT, 'demo', 'restore_video.py'))
Q = 40
CACHE = f'sequences_jpeg2000_q{Q}'


@pytest.fixture(scope='module')
def clean(tmp_path_factory):
    """Two real 32x24 test septuplets with their q40 cache."""
    root = tmp_path_factory.mktemp('clean')
    make_restoration_clips(str(root), size=(32, 24))
    clips = (root / 'sep_testlist.txt').read_text().split()[:2]
    (root / 'sep_testlist.txt').write_text(''.join(c + '\n' for c in clips))
    assert compress_septuplets(str(root), [Q], clips=clips) == []
    return root, clips


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    with DefaultScope.overwrite_default_scope('mmagic'):
        model = MODELS.build(Config.fromfile(DEMO).model)
    path = tmp_path_factory.mktemp('ckpt') / 'dncnn_off3.pth'
    torch.save(dict(state_dict=model.state_dict()), path)
    return str(path)


def load(root, idx=1):
    """Sample ``idx`` of the config's test dataset on ``root``."""
    cfg = copy.deepcopy(DATA_CFG.dataset)
    cfg.data_root = str(root)
    with DefaultScope.overwrite_default_scope('mmagic'):
        return DATASETS.build(cfg)[idx]


def compress(root):
    """tools/data/compress_vimeo90k.py at q40 (a failed clip raises its
    one-line message)."""
    COMPRESS['main']([str(root), '--quality', str(Q)])


def restore(video, out, ckpt):
    RESTORE['main']([DEMO, ckpt, str(video), str(out)])


def truncate(path, keep=.5):
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * keep)])


def resize(path, size):
    cv2.imwrite(str(path), cv2.resize(cv2.imread(str(path)), size))


def command(root):
    """The fix the cache errors name."""
    return f'python tools/data/compress_vimeo90k.py {root} --quality {Q}'


def compress_and_load(root):
    compress(root)
    return load(root)


def loads_after_compress(root, size=(24, 32)):
    """The fix of a stale or broken cache: re-run the tool, then load."""
    sample = compress_and_load(root)
    assert not list(root.rglob('.*.tmp-*'))
    assert sample['inputs'].shape == (3, 3) + size


def write_video(path, num, fourcc='MJPG'):
    rng = np.random.default_rng(0)
    writer = cv2.VideoWriter(
        str(path), cv2.VideoWriter_fourcc(*fourcc), 10, (32, 24))
    for _ in range(num):
        writer.write(rng.integers(0, 256, (24, 32, 3), dtype=np.uint8))
    writer.release()
    return path


# Cases: (root, clips, tmp_path, ckpt, monkeypatch) -> dict of run (what the
# user runs), then either error (type), says (message fragments) and
# optionally fix (the named fix, applied), or rule (checks of run's output).


def list_names_missing_clip(root, clips, *_):
    with open(root / 'sep_testlist.txt', 'a') as f:
        f.write('00009/0001\n')
    return dict(
        run=lambda: load(root, 2),
        error=FileNotFoundError,
        says=[
            f'{root}/sep_testlist.txt line 3', "'00009/0001'",
            f'{root}/sequences/00009/0001', 'delete the line'
        ])


def list_names_missing_clip_compress(root, clips, *_):
    with open(root / 'sep_testlist.txt', 'a') as f:
        f.write('00009/0001\n')
    return dict(
        run=lambda: compress(root),
        error=ValueError,
        says=[
            f'{root}/sequences/00009/0001: no such clip folder',
            'delete 00009/0001 from the clip lists'
        ])


def list_line_with_extra_fields(root, clips, *_):
    (root / 'sep_testlist.txt').write_text(f'{clips[0]}\n{clips[1]} 7\n')
    return dict(
        run=lambda: load(root),
        error=ValueError,
        says=[
            f'{root}/sep_testlist.txt line 2', f"'{clips[1]} 7'",
            'Keep only the clip name on this line'
        ])


def list_empty(root, *_):
    (root / 'sep_testlist.txt').write_text('\n')
    return dict(
        run=lambda: load(root, 0),
        error=ValueError,
        says=[
            f'{root}/sep_testlist.txt: no clip listed',
            'point ann_file to another list'
        ])


def list_empty_compress(root, *_):
    (root / 'sep_testlist.txt').write_text('')
    return dict(
        run=lambda: compress(root),
        error=ValueError,
        says=[
            f'{root}: no clip to compress', 'sep_testlist.txt',
            'pass the vimeo_septuplet directory'
        ])


def frame_missing(root, clips, *_):
    (root / 'sequences' / clips[1] / 'im4.png').unlink()
    return dict(
        run=lambda: load(root),
        error=FileNotFoundError,
        says=[
            f'{root}/sequences/{clips[1]}/im4.png: missing',
            f'sample {clips[1]}', 'Vimeo-90K download',
            f'delete clip {clips[1]} from the list'
        ])


def frame_missing_compress(root, clips, *_):
    shutil.rmtree(root / CACHE / clips[1])
    (root / 'sequences' / clips[1] / 'im4.png').unlink()
    return dict(
        run=lambda: compress(root),
        error=ValueError,
        says=[
            f'{root}/sequences/{clips[1]}/im4.png: missing',
            f'delete {clips[1]} from the clip lists'
        ])


def frame_truncated(root, clips, *_):
    truncate(root / 'sequences' / clips[1] / 'im4.png')
    return dict(
        run=lambda: load(root),
        error=ValueError,
        says=[
            f'{root}/sequences/{clips[1]}/im4.png: cannot be '
            'decoded', 'Vimeo-90K download'
        ])


def frame_truncated_compress(root, clips, *_):
    shutil.rmtree(root / CACHE / clips[1])
    truncate(root / 'sequences' / clips[1] / 'im4.png')
    return dict(
        run=lambda: compress(root),
        error=ValueError,
        says=[
            f'{root}/sequences/{clips[1]}/im4.png: cannot be '
            'decoded', f'delete {clips[1]} from the clip lists'
        ])


def frame_other_size(root, clips, *_):
    """The original 4th frame resized after the cache was made."""
    resize(root / 'sequences' / clips[1] / 'im4.png', (30, 20))
    return dict(
        run=lambda: load(root),
        error=ValueError,
        says=[
            f'{root}/{CACHE}/{clips[1]}/im4.png: 32x24',
            f'{root}/sequences/{clips[1]}/im4.png is 30x20',
            command(root)
        ])


def frame_other_size_compress(root, clips, *_):
    shutil.rmtree(root / CACHE / clips[1])
    resize(root / 'sequences' / clips[1] / 'im4.png', (30, 20))
    return dict(
        run=lambda: compress(root),
        error=ValueError,
        says=[
            f'{root}/sequences/{clips[1]}/im4.png: 30x20',
            'the other frames of the clip are 32x24',
            f'delete {clips[1]} from the clip lists'
        ])


def frame_other_size_not_png(root, clips, *_):
    """As above, saved as JPEG under its .png name: CheckFrames tells."""
    path = root / 'sequences' / clips[1] / 'im4.png'
    img = cv2.resize(cv2.imread(str(path)), (30, 20))
    path.write_bytes(cv2.imencode('.jpg', img)[1].tobytes())
    return dict(
        run=lambda: load(root),
        error=ValueError,
        says=[
            f'CheckFrames: {path}: (20, 30, 3)', '(24, 32, 3)',
            'Re-run tools/data/compress_vimeo90k.py on the data '
            'root'
        ])


def frame_grayscale(root, clips, *_):
    """Rule: read as three equal channels (cache and target alike)."""
    path = root / 'sequences' / clips[1] / 'im4.png'
    gray = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    cv2.imwrite(str(path), gray)
    shutil.rmtree(root / CACHE / clips[1])

    def rule(sample):
        assert cv2.imread(str(path), cv2.IMREAD_UNCHANGED).ndim == 2
        gt = sample['data_samples'].gt_img.numpy()
        assert gt.shape == (3, 24, 32)
        assert all(np.array_equal(c, gray) for c in gt)
        cached = cv2.imread(
            str(root / CACHE / clips[1] / 'im4.png'), cv2.IMREAD_UNCHANGED)
        assert cached.shape == (24, 32, 3)
        assert np.array_equal(sample['inputs'][1].permute(1, 2, 0).numpy(),
                              cached[..., ::-1])

    return dict(run=lambda: compress_and_load(root), rule=rule)


def frame_rgba(root, clips, *_):
    """Rule: the alpha channel is dropped (not blended)."""
    path = root / 'sequences' / clips[1] / 'im4.png'
    bgr = cv2.imread(str(path))
    alpha = np.arange(24 * 32, dtype=np.uint8).reshape(24, 32)
    cv2.imwrite(str(path), np.dstack([bgr, alpha]))
    shutil.rmtree(root / CACHE / clips[1])

    def rule(sample):
        assert cv2.imread(str(path), cv2.IMREAD_UNCHANGED).shape[2] == 4
        gt = sample['data_samples'].gt_img.permute(1, 2, 0).numpy()
        assert np.array_equal(gt, bgr[..., ::-1])
        assert cv2.imread(
            str(root / CACHE / clips[1] / 'im4.png'),
            cv2.IMREAD_UNCHANGED).shape == (24, 32, 3)

    return dict(run=lambda: compress_and_load(root), rule=rule)


def cache_frame_missing(root, clips, *_):
    (root / CACHE / clips[1] / 'im4.png').unlink()
    return dict(
        run=lambda: load(root),
        error=FileNotFoundError,
        says=[f'{root}/{CACHE}/{clips[1]}/im4.png: missing',
              command(root)],
        fix=lambda: loads_after_compress(root))


def cache_stale_after_resize(root, clips, *_):
    for i in range(1, 8):
        resize(root / 'sequences' / clips[1] / f'im{i}.png', (16, 12))
    return dict(
        run=lambda: load(root),
        error=ValueError,
        says=[
            f'{root}/{CACHE}/{clips[1]}/im3.png: 32x24',
            f'{root}/sequences/{clips[1]}/im3.png is 16x12',
            command(root)
        ],
        fix=lambda: loads_after_compress(root, (12, 16)))


def cache_frame_truncated(root, clips, *_):
    truncate(root / CACHE / clips[1] / 'im4.png', .8)
    return dict(
        run=lambda: load(root),
        error=ValueError,
        says=[
            f'{root}/{CACHE}/{clips[1]}/im4.png: cannot be '
            'decoded',
            command(root)
        ],
        fix=lambda: loads_after_compress(root))


def cache_left_by_killed_run(root, clips, *_):
    """A run killed mid-clip: only its temporary, ``.<clip>.tmp-<pid>``
    with some frames (a pid above Linux's limit: no such process)."""
    clip = root / CACHE / clips[1]
    tmp = clip.with_name(f'.{clip.name}.tmp-{2**22}')
    clip.rename(tmp)
    for i in range(3, 8):
        (tmp / f'im{i}.png').unlink()
    truncate(tmp / 'im2.png')
    return dict(
        run=lambda: load(root),
        error=FileNotFoundError,
        says=[f'{root}/{CACHE}/{clips[1]} is missing',
              command(root)],
        fix=lambda: loads_after_compress(root))


def compress_ffmpeg_fails(root, clips, tmp_path, ckpt, monkeypatch):
    ffmpeg = tmp_path / 'ffmpeg'
    ffmpeg.write_text('#!/bin/sh\necho "Unknown encoder" >&2\n'
                      'echo "Conversion failed!" >&2\nexit 1\n')
    ffmpeg.chmod(0o755)
    monkeypatch.setenv('IMAGEIO_FFMPEG_EXE', str(ffmpeg))
    shutil.rmtree(root / CACHE / clips[1])
    return dict(
        run=lambda: compress(root),
        error=ValueError,
        says=[
            f'{root}/{CACHE}/{clips[1]}: not written',
            'Unknown encoder | Conversion failed!', 're-run'
        ])


def video_empty(root, clips, tmp_path, ckpt, _):
    video = tmp_path / 'empty.mp4'
    video.write_bytes(b'')
    return dict(
        run=lambda: restore(video, tmp_path / 'out.mp4', ckpt),
        error=ValueError,
        says=[f'{video}: the file is empty', 'pass a complete video file'])


def video_truncated(root, clips, tmp_path, ckpt, _):
    video = write_video(tmp_path / 'clip.mp4', 10, 'mp4v')
    truncate(video)
    return dict(
        run=lambda: restore(video, tmp_path / 'out.mp4', ckpt),
        error=ValueError,
        says=[
            f'{video}: OpenCV cannot read this file',
            're-download or re-encode it'
        ])


def video_truncated_decodable(root, clips, tmp_path, ckpt, _):
    """Truncated where frames still decode: written, then thrown away."""
    video = write_video(tmp_path / 'clip.avi', 10)
    truncate(video)
    return dict(
        run=lambda: restore(video, tmp_path / 'out.mp4', ckpt),
        error=ValueError,
        says=[
            f'{video}: only 2 of its 10 frames', 're-download or re-encode it'
        ])


def video_truncated_to_frames(root, clips, tmp_path, ckpt, _):
    video = write_video(tmp_path / 'clip.avi', 10)
    truncate(video)
    return dict(
        run=lambda: restore(video, f'{tmp_path}/frames/', ckpt),
        error=ValueError,
        says=[
            f'{video}: only 2 of its 10 frames', 're-download or re-encode it'
        ])


def video_not_a_video(root, clips, tmp_path, ckpt, _):
    video = tmp_path / 'notes.mp4'
    video.write_text('not a video\n' * 100)
    return dict(
        run=lambda: restore(video, tmp_path / 'out.mp4', ckpt),
        error=ValueError,
        says=[
            f'{video}: OpenCV cannot read this file',
            're-download or re-encode it'
        ])


def video_zero_frames(root, clips, tmp_path, ckpt, _):
    video = write_video(tmp_path / 'zero.avi', 0)
    return dict(
        run=lambda: restore(video, tmp_path / 'out.mp4', ckpt),
        error=ValueError,
        says=[f'{video}: the video has no frames', 'pass a video with frames'])


def video_output_unwritable(root, clips, tmp_path, ckpt, _):
    video = write_video(tmp_path / 'clip.avi', 3)
    out = tmp_path / 'no_such_folder' / 'out.mp4'
    return dict(
        run=lambda: restore(video, out, ckpt),
        error=ToolError,
        says=[
            f'{out}: OpenCV cannot write it',
            'pass a writable path ending with .mp4'
        ])


CASES = [
    list_names_missing_clip, list_names_missing_clip_compress,
    list_line_with_extra_fields, list_empty, list_empty_compress,
    frame_missing, frame_missing_compress, frame_truncated,
    frame_truncated_compress, frame_other_size, frame_other_size_compress,
    frame_other_size_not_png, frame_grayscale, frame_rgba, cache_frame_missing,
    cache_stale_after_resize, cache_frame_truncated, cache_left_by_killed_run,
    compress_ffmpeg_fails, video_empty, video_truncated,
    video_truncated_decodable, video_truncated_to_frames, video_not_a_video,
    video_zero_frames, video_output_unwritable
]


def listing(folder):
    return sorted(
        (osp.relpath(osp.join(d, f), folder), os.path.getsize(osp.join(d, f)))
        for d, dirs, files in os.walk(folder) for f in dirs + files)


@pytest.mark.parametrize('case', CASES, ids=[c.__name__ for c in CASES])
def test_bad_input(case, clean, checkpoint, tmp_path, monkeypatch):
    source, clips = clean
    root = tmp_path / 'vimeo_septuplet'
    for folder in ('sequences', CACHE):
        for clip in clips:
            shutil.copytree(source / folder / clip, root / folder / clip)
    shutil.copy(source / 'sep_testlist.txt', root)
    spec = case(root, clips, tmp_path, checkpoint, monkeypatch)
    if 'rule' in spec:
        spec['rule'](spec['run']())
        return
    before = listing(tmp_path)
    with pytest.raises(spec['error']) as info:
        spec['run']()
    message = str(info.value)
    assert '\n' not in message, message
    for fragment in spec['says']:
        assert fragment in message, (fragment, message)
    assert listing(tmp_path) == before  # nothing (half-)written
    if 'fix' in spec:
        spec['fix']()


def test_restore_video_writes_every_frame(tmp_path, checkpoint):
    """The good path of the same tool: a video and a folder of frames, no
    temporary output left."""
    video = write_video(tmp_path / 'clip.avi', 4)
    restore(video, tmp_path / 'out.mp4', checkpoint)
    restore(video, f'{tmp_path}/frames/', checkpoint)
    assert cv2.VideoCapture(str(tmp_path / 'out.mp4')).get(
        cv2.CAP_PROP_FRAME_COUNT) == 4
    assert sorted(os.listdir(
        tmp_path / 'frames')) == [f'{i:05d}.png' for i in range(1, 5)]
    assert sorted(os.listdir(tmp_path)) == ['clip.avi', 'frames', 'out.mp4']


def test_a_stale_cache_under_cache_root_names_its_command(clean, tmp_path):
    """With ``cache_root``, the command a stale cache error names carries
    ``--cache-root``: following it re-makes the cache there (the data root
    stays untouched) and the sample then loads."""
    root, clips = clean
    cache = tmp_path / 'cache'
    assert compress_septuplets(
        str(root), [Q], clips=clips, cache_root=str(cache)) == []
    truncate(cache / CACHE / clips[1] / 'im4.png', .8)
    before = listing(root)
    cfg = copy.deepcopy(DATA_CFG.dataset)
    cfg.update(data_root=str(root), cache_root=str(cache))
    with DefaultScope.overwrite_default_scope('mmagic'):
        dataset = DATASETS.build(cfg)
    with pytest.raises(ValueError) as info:
        dataset[1]
    command = (f'python tools/data/compress_vimeo90k.py {root} --quality {Q}'
               f' --cache-root {cache}')
    assert f'run `{command}`' in str(info.value)
    COMPRESS['main'](command.split()[2:])
    assert dataset[1]['inputs'].shape == (3, 3, 24, 32)
    assert listing(root) == before


def test_restore_video_into_a_folder_replaces_only_its_frames(
        tmp_path, checkpoint):
    """A folder that holds other files: the frames of the output's names
    are replaced, the rest stays, no temporary is left."""
    video = write_video(tmp_path / 'clip.avi', 4)
    out = tmp_path / 'frames'
    out.mkdir()
    (out / 'notes.txt').write_text('mine')
    (out / '00002.png').write_bytes(b'old')
    restore(video, f'{out}/', checkpoint)
    assert sorted(os.listdir(out)) == [f'{i:05d}.png'
                                       for i in range(1, 5)] + ['notes.txt']
    assert (out / 'notes.txt').read_text() == 'mine'
    assert cv2.imread(str(out / '00002.png')).shape == (24, 32, 3)
