# Copyright (c) off_plugin authors. All rights reserved.
"""Vimeo-90K septuplets with JPEG 2000 compressed inputs (Sec. 7).

Published layout (``vimeo_septuplet``)::

    <root>/sequences/00001/0001/im1.png ... im7.png
    <root>/sep_trainlist.txt   # lines '00001/0001'
    <root>/sep_testlist.txt

:func:`compress_septuplets` (``tools/data/compress_vimeo90k.py``) caches the
compressed frames next to the originals, as lossless PNGs of the decoded
JPEG 2000 frames::

    <root>/sequences_jpeg2000_q20/00001/0001/im1.png ... im7.png

or, with ``cache_root``, in ``<cache_root>/sequences_jpeg2000_q20/`` (the
data root then stays read-only).
"""
import os
import os.path as osp
import struct
import sys
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmagic.registry import DATASETS
from mmengine.dataset import BaseDataset
from mmengine.utils import track_parallel_progress, track_progress

from ..utils.fileio import atomic_write
from .jpeg2000 import jpeg2000_roundtrip

NUM_FRAMES = 7
TARGET = 4  # the paper scores the 4th frame of every septuplet
LISTS = ('sep_trainlist.txt', 'sep_vallist.txt', 'sep_testlist.txt')


def compressed_dir(quality: int) -> str:
    return f'sequences_jpeg2000_q{quality}'


def compress_command(root: str,
                     quality: int,
                     cache_root: Optional[str] = None) -> str:
    """The command that makes (or re-makes) the cached inputs."""
    cache = f' --cache-root {cache_root}' if cache_root else ''
    return (f'python tools/data/compress_vimeo90k.py {root} '
            f'--quality {quality}{cache}')


def clip_lines(path: str) -> List[Tuple[int, str]]:
    """``(line number, clip)`` of every non-blank line of a clip list; a
    line that is not one clip name is an error naming it."""
    clips = []
    with open(path) as f:
        for num, line in enumerate(f, 1):
            fields = line.split()
            if len(fields) > 1:
                raise ValueError(
                    f'{path} line {num}: {line.strip()!r} is not one clip '
                    'name; a clip list holds one clip a line, as '
                    '00001/0001. Keep only the clip name on this line.')
            if fields:
                clips.append((num, fields[0]))
    return clips


def read_clip_list(path: str) -> List[str]:
    return [clip for _, clip in clip_lines(path)]


PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'
PNG_END = b'\x00\x00\x00\x00IEND\xaeB`\x82'


def png_size(path: str) -> Optional[Tuple[int, int]]:
    """``(width, height)`` of a PNG from its header, or None for a file that
    is missing, not a PNG or cut short (no end chunk). Reads 36 bytes."""
    try:
        with open(path, 'rb') as f:
            head = f.read(24)
            f.seek(-len(PNG_END), os.SEEK_END)
            end = f.read()
    except OSError:
        return None
    if head[:8] != PNG_SIGNATURE or head[12:16] != b'IHDR' or \
            end != PNG_END:
        return None
    return struct.unpack('>II', head[16:24])


def compress_clip(root: str,
                  clip: str,
                  quality: int,
                  cache_root: Optional[str] = None) -> str:
    """Compress one septuplet of ``root`` into ``<cache_root or
    root>/sequences_jpeg2000_q<quality>/<clip>``; returns '' or a one-line
    error message. Nothing else is written.

    The originals are read as 3-channel colour, as the configs'
    ``LoadImageFromFile`` reads them: a grayscale frame becomes three equal
    channels, the alpha channel of an RGBA frame is dropped. A cached clip
    whose frames are all complete PNGs of the sizes of their originals is
    left alone; any other (a frame missing or truncated, originals resized
    since) is made again. A clip is written whole or not at all
    (:func:`~off_plugin.utils.fileio.atomic_write`), so a failed or
    interrupted run leaves no half-written clip behind."""
    src = osp.join(root, 'sequences', clip)
    out = osp.join(cache_root or root, compressed_dir(quality), clip)
    names = [f'im{i}.png' for i in range(1, NUM_FRAMES + 1)]
    if not osp.isdir(src):
        return (f'{src}: no such clip folder; restore the clip from the '
                f'Vimeo-90K download or delete {clip} from the clip lists.')
    sizes = [png_size(osp.join(src, n)) for n in names]
    if None not in sizes and \
            sizes == [png_size(osp.join(out, n)) for n in names]:
        return ''
    frames = []
    for name in names:
        path = osp.join(src, name)
        img = cv2.imread(path, cv2.IMREAD_COLOR)
        if img is None:
            problem = ('cannot be decoded (truncated or not an image)'
                       if osp.exists(path) else 'missing')
            return (f'{path}: {problem}; restore it from the Vimeo-90K '
                    f'download or delete {clip} from the clip lists.')
        frames.append(img[..., ::-1])
    shapes = [f.shape[:2] for f in frames]
    common = max(shapes, key=shapes.count)
    for name, (h, w) in zip(names, shapes):
        if (h, w) != common:
            return (f'{osp.join(src, name)}: {w}x{h}, the other frames of '
                    f'the clip are {common[1]}x{common[0]}; the 7 frames of '
                    'a septuplet share one size: restore it from the '
                    f'Vimeo-90K download or delete {clip} from the clip '
                    'lists.')
    try:
        with atomic_write(out) as tmp:
            os.makedirs(tmp)
            for name, img in zip(names,
                                 jpeg2000_roundtrip(np.stack(frames),
                                                    quality)):
                if not cv2.imwrite(osp.join(tmp, name), img[..., ::-1]):
                    raise OSError(f'OpenCV cannot write {osp.join(tmp, name)}')
    except (OSError, RuntimeError) as err:
        return (f'{out}: not written ({err}); nothing of it is kept. Fix '
                'the cause (disk space, permissions, FFmpeg) and re-run '
                f'`{compress_command(root, quality, cache_root)}`.')
    return ''


def _compress_job(job):
    return compress_clip(*job)


def compress_septuplets(root: str,
                        qualities: Sequence[int],
                        clips: Optional[Sequence[str]] = None,
                        nproc: int = 1,
                        cache_root: Optional[str] = None) -> List[str]:
    """Compress every clip of the clip lists that exist
    (``sep_{train,val,test}list.txt``, or ``clips``) at every quality into
    ``<cache_root or root>/sequences_jpeg2000_q<Q>/``, with a progress bar.
    Resumable. Returns the error messages of the clips that failed, one
    line each (the others are done); no clip list, or empty ones, is an
    error."""
    if clips is None:
        clips = []
        for name in LISTS:
            if osp.exists(osp.join(root, name)):
                clips += read_clip_list(osp.join(root, name))
        if not clips:
            raise ValueError(
                f'{root}: no clip to compress, {", ".join(LISTS)} are '
                'missing or empty; pass the vimeo_septuplet directory.')
    jobs = [(root, clip, q, cache_root) for q in qualities for clip in clips]
    if nproc > 1:
        results = track_parallel_progress(_compress_job, jobs, nproc)
    else:
        results = track_progress(_compress_job, jobs)
    return [r for r in results if r]


def raise_failed(failed: Sequence[str]) -> None:
    """Refuse in one line the clips of :func:`compress_septuplets` that
    failed: the message of the only one, or the count and the first one's
    message, the others printed on stderr before, one line each."""
    if len(failed) == 1:
        raise ValueError(failed[0])
    if failed:
        print(*failed[1:], sep='\n', file=sys.stderr)
        raise ValueError(
            f'{len(failed)} clips failed, nothing of them written (all but '
            f'the first listed above); the first: {failed[0]}')


@DATASETS.register_module()
class Vimeo90KSeptupletDataset(BaseDataset):
    """Vimeo-90K septuplets for compression artifact removal: the
    ``num_input_frames`` compressed frames around the 4th (3: frames 3-5; 2:
    frames 3-4; 1: frame 4) as ``img_path`` and the original 4th frame as
    ``gt_path`` (the paper's protocol).

    With ``all_targets=True`` (training on little data) every frame whose
    window of inputs lies inside the septuplet is a target, each window a
    sample (3 frames: targets 2-6; 2 frames: 2-7; 1 frame: 1-7). Testing
    stays on the 4th frame: the option is refused with ``test_mode``.

    Bad data: an empty clip list, a line that is not one clip name, a listed
    clip without its folder in ``sequences/`` or in the compressed inputs
    are errors at construction, naming the line or folder. A sample whose
    loading fails on a missing or undecodable frame, or on a cached input of
    another size than its original (a cache made before the originals were
    resized), is a one-line error naming the file and what to do. The
    configs' ``LoadImageFromFile`` reads frames as 3-channel colour: a
    grayscale frame becomes three equal channels, the alpha channel of an
    RGBA frame is dropped (as in :func:`compress_clip`).

    Args:
        ann_file (str): ``sep_trainlist.txt`` or ``sep_testlist.txt``.
        data_root (str): The ``vimeo_septuplet`` directory.
        quality (int): JPEG 2000 quantizer of the cached inputs (20 or 40
            in the paper).
        num_input_frames (int): 1, 2 or 3 (up to 7). Defaults to 3.
        all_targets (bool): Every frame with the needed neighbours is a
            target, not only the 4th. Defaults to False.
        cache_root (str, optional): The folder that holds the cached
            inputs' ``sequences_jpeg2000_q<Q>/``. Defaults to ``data_root``.
        kwargs: ``BaseDataset`` arguments (``pipeline``, ``test_mode``...).
    """
    METAINFO = dict(
        dataset_type='vimeo90k_septuplet', task_name='video_restoration')

    def __init__(self,
                 ann_file: str,
                 data_root: str,
                 quality: int,
                 num_input_frames: int = 3,
                 all_targets: bool = False,
                 cache_root: Optional[str] = None,
                 **kwargs) -> None:
        if not 1 <= num_input_frames <= NUM_FRAMES:
            raise ValueError(
                f'Vimeo90KSeptupletDataset: num_input_frames='
                f'{num_input_frames}; a septuplet has 1 to 7 frames.')
        if all_targets and kwargs.get('test_mode', False):
            raise ValueError(
                'Vimeo90KSeptupletDataset: all_targets=True is for training; '
                'testing scores the 4th frame of every clip (the paper\'s '
                'protocol). Remove all_targets from the val/test dataset.')
        self.quality = quality
        self.cache_root = cache_root
        self.num_input_frames = num_input_frames
        self.all_targets = all_targets
        super().__init__(ann_file=ann_file, data_root=data_root, **kwargs)

    def load_data_list(self) -> List[dict]:
        if not osp.exists(self.ann_file):
            raise FileNotFoundError(
                f'{self.ann_file}: clip list missing; data_root must be the '
                'vimeo_septuplet directory (sequences/, sep_trainlist.txt, '
                'sep_testlist.txt).')
        lines = clip_lines(self.ann_file)
        if not lines:
            raise ValueError(
                f'{self.ann_file}: no clip listed; a clip list holds one '
                'clip a line, as 00001/0001. Fill it or point ann_file to '
                'another list.')
        for num, clip in lines:
            folder = osp.join(self.data_root, 'sequences', clip)
            if not osp.isdir(folder):
                raise FileNotFoundError(
                    f'{self.ann_file} line {num}: clip {clip!r} has no '
                    f'folder {folder}; restore it from the Vimeo-90K '
                    'download or delete the line.')
        cache = osp.join(self.cache_root or self.data_root,
                         compressed_dir(self.quality))
        missing = [c for _, c in lines if not osp.isdir(osp.join(cache, c))]
        if missing:
            raise FileNotFoundError(
                f'{osp.join(cache, missing[0])} is missing ({len(missing)} '
                f'of {len(lines)} clips): the JPEG 2000 inputs at '
                f'q={self.quality} are not made yet. Run '
                f'`{self.compress_command()}`.')
        # the window of a target t: t - n // 2 ... t - n // 2 + n - 1
        before = self.num_input_frames // 2
        after = self.num_input_frames - 1 - before
        targets = range(1 + before, NUM_FRAMES - after + 1) \
            if self.all_targets else [TARGET]
        data_list = []
        for _, clip in lines:
            for target in targets:
                data_list.append(
                    dict(
                        key=clip
                        if len(targets) == 1 else f'{clip}/im{target}',
                        img_path=[
                            osp.join(cache, clip, f'im{i}.png')
                            for i in range(target - before, target + after + 1)
                        ],
                        gt_path=osp.join(self.data_root, 'sequences', clip,
                                         f'im{target}.png')))
        return data_list

    def compress_command(self) -> str:
        return compress_command(self.data_root, self.quality, self.cache_root)

    def prepare_data(self, idx: int):
        """The pipeline's output; when it fails on a bad file of the
        sample, the error of :meth:`bad_file_error` instead."""
        try:
            return super().prepare_data(idx)
        except Exception:
            error = self.bad_file_error(self.get_data_info(idx))
            if error is None:
                raise
        raise error

    def bad_file_error(self, info: dict) -> Optional[Exception]:
        """The one-line error for the first file of a sample that is
        missing, cannot be decoded, or is a cached input of another size
        than its original; None if every file is fine."""
        originals = osp.join(self.data_root, 'sequences')
        clip = osp.relpath(osp.dirname(info['gt_path']), originals)
        sample = f'sample {info["key"]} of {self.ann_file}'
        compress = (f'run `{self.compress_command()}`, which re-makes '
                    'such cached clips')
        restore = ('restore it from the Vimeo-90K download or delete clip '
                   f'{clip} from the list')
        for path in [*info['img_path'], info['gt_path']]:
            cached = path != info['gt_path']
            fix = compress if cached else restore
            if not osp.isfile(path):
                return FileNotFoundError(f'{path}: missing ({sample}); '
                                         f'{fix}.')
            if cv2.imread(path, cv2.IMREAD_UNCHANGED) is None:
                return ValueError(f'{path}: cannot be decoded, truncated or '
                                  f'not an image ({sample}); {fix}.')
            original = osp.join(originals, clip, osp.basename(path))
            size, original_size = png_size(path), png_size(original)
            if cached and size and original_size and size != original_size:
                return ValueError(
                    f'{path}: {size[0]}x{size[1]} but its original '
                    f'{original} is {original_size[0]}x{original_size[1]}, '
                    f'a cache made before the originals changed ({sample}); '
                    f'{compress}.')
        return None
