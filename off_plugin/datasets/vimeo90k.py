# Copyright (c) off_plugin authors. All rights reserved.
"""Vimeo-90K septuplets with JPEG 2000 compressed inputs (Sec. 7).

Published layout (``vimeo_septuplet``)::

    <root>/sequences/00001/0001/im1.png ... im7.png
    <root>/sep_trainlist.txt   # lines '00001/0001'
    <root>/sep_testlist.txt

:func:`compress_septuplets` (``tools/compress_vimeo90k.py``) caches the
compressed frames next to the originals, as lossless PNGs of the decoded
JPEG 2000 frames::

    <root>/sequences_jpeg2000_q20/00001/0001/im1.png ... im7.png
"""
import os
import os.path as osp
import shutil
from typing import List, Optional, Sequence

import cv2
import numpy as np
from mmagic.registry import DATASETS
from mmengine.dataset import BaseDataset
from mmengine.utils import track_parallel_progress, track_progress

from .jpeg2000 import jpeg2000_roundtrip

NUM_FRAMES = 7
TARGET = 4  # the paper scores the 4th frame of every septuplet


def compressed_dir(quality: int) -> str:
    return f'sequences_jpeg2000_q{quality}'


def read_clip_list(path: str) -> List[str]:
    with open(path) as f:
        return [line.strip() for line in f if line.strip()]


def compress_clip(root: str, clip: str, quality: int) -> str:
    """Compress one septuplet; returns '' or an error message. A finished
    clip is left alone; a clip is written to a temporary directory first,
    so an interrupted run leaves no half-written clip behind."""
    out = osp.join(root, compressed_dir(quality), clip)
    names = [f'im{i}.png' for i in range(1, NUM_FRAMES + 1)]
    if all(osp.exists(osp.join(out, n)) for n in names):
        return ''
    frames = []
    for name in names:
        path = osp.join(root, 'sequences', clip, name)
        img = cv2.imread(path, cv2.IMREAD_COLOR)
        if img is None:
            return f'{path}: missing or not an image'
        frames.append(img[..., ::-1])
    if len({f.shape for f in frames}) != 1:
        return (f'{osp.join(root, "sequences", clip)}: frames of different '
                f'sizes {sorted({f.shape for f in frames})}')
    compressed = jpeg2000_roundtrip(np.stack(frames), quality)
    tmp = out + '.tmp'
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    for name, img in zip(names, compressed):
        cv2.imwrite(osp.join(tmp, name), img[..., ::-1])
    shutil.rmtree(out, ignore_errors=True)
    os.replace(tmp, out)
    return ''


def _compress_job(job):
    return compress_clip(*job)


def compress_septuplets(root: str,
                        qualities: Sequence[int],
                        clips: Optional[Sequence[str]] = None,
                        nproc: int = 1) -> List[str]:
    """Compress every clip of the clip lists that exist
    (``sep_{train,val,test}list.txt``, or ``clips``) at every quality, with
    a progress bar. Resumable. Returns the error messages of the clips that
    failed (the others are done)."""
    if clips is None:
        clips = []
        for name in ('sep_trainlist.txt', 'sep_vallist.txt',
                     'sep_testlist.txt'):
            if osp.exists(osp.join(root, name)):
                clips += read_clip_list(osp.join(root, name))
    jobs = [(root, clip, q) for q in qualities for clip in clips]
    if nproc > 1:
        results = track_parallel_progress(_compress_job, jobs, nproc)
    else:
        results = track_progress(_compress_job, jobs)
    return [r for r in results if r]


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

    Args:
        ann_file (str): ``sep_trainlist.txt`` or ``sep_testlist.txt``.
        data_root (str): The ``vimeo_septuplet`` directory.
        quality (int): JPEG 2000 quantizer of the cached inputs (20 or 40
            in the paper).
        num_input_frames (int): 1, 2 or 3 (up to 7). Defaults to 3.
        all_targets (bool): Every frame with the needed neighbours is a
            target, not only the 4th. Defaults to False.
        kwargs: ``BaseDataset`` arguments (``pipeline``, ``test_mode``...).
    """
    METAINFO = dict(dataset_type='vimeo90k_septuplet',
                    task_name='video_restoration')

    def __init__(self,
                 ann_file: str,
                 data_root: str,
                 quality: int,
                 num_input_frames: int = 3,
                 all_targets: bool = False,
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
        self.num_input_frames = num_input_frames
        self.all_targets = all_targets
        super().__init__(ann_file=ann_file, data_root=data_root, **kwargs)

    def load_data_list(self) -> List[dict]:
        if not osp.exists(self.ann_file):
            raise FileNotFoundError(
                f'{self.ann_file}: clip list missing; data_root must be the '
                'vimeo_septuplet directory (sequences/, sep_trainlist.txt, '
                'sep_testlist.txt).')
        # the window of a target t: t - n // 2 ... t - n // 2 + n - 1
        before = self.num_input_frames // 2
        after = self.num_input_frames - 1 - before
        targets = range(1 + before, NUM_FRAMES - after + 1) \
            if self.all_targets else [TARGET]
        data_list = []
        for clip in read_clip_list(self.ann_file):
            for target in targets:
                data_list.append(
                    dict(
                        key=clip if len(targets) == 1 else
                        f'{clip}/im{target}',
                        img_path=[
                            osp.join(self.data_root,
                                     compressed_dir(self.quality), clip,
                                     f'im{i}.png')
                            for i in range(target - before,
                                           target + after + 1)
                        ],
                        gt_path=osp.join(self.data_root, 'sequences', clip,
                                         f'im{target}.png')))
        if data_list and not osp.exists(data_list[0]['img_path'][0]):
            raise FileNotFoundError(
                f'{data_list[0]["img_path"][0]} is missing: the JPEG 2000 '
                f'inputs at q={self.quality} are not made yet. Run `python '
                f'tools/compress_vimeo90k.py {self.data_root} --quality '
                f'{self.quality}`.')
        return data_list
