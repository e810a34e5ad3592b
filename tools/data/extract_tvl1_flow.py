# Copyright (c) off_plugin authors. All rights reserved.
"""Extract TV-L1 optical flow (OpenCV) into MMAction2's rawframe layout.

    python tools/data/extract_tvl1_flow.py \\
        data/ucf101/videos data/ucf101/rawframes \\
        --ann-files data/ucf101/ucf101_train_split_1_videos.txt \\
                    data/ucf101/ucf101_val_split_1_videos.txt \\
        --new-width 340 --new-height 256 --num-worker 16

Every video of the annotation files (``path label`` lines, paths relative
to the video root) gets ``<out_dir>/<path without extension>/x_00001.jpg,
y_00001.jpg, ...`` (and ``img_00001.jpg, ...`` with ``--task both``) for
``RawframeDataset(modality='Flow', filename_tmpl='{}_{:05d}.jpg')``, and
every annotation file a rawframe list ``<out_dir>/<its name, _videos.txt
-> _rawframes.txt>`` (``dir num_flow_frames label``).

What it writes: only into ``out_dir``, a new or empty folder, or one it
wrote before (marked by ``out_dir/.tvl1_flow``; anything else is refused):
the video folders (each through ``.<folder>.tmp-<pid>``, with a
``.flow_done`` marker) and the lists (each whole or not at all). The
videos and the annotation files are only read. Interrupted runs resume:
finished videos are skipped. Videos that fail are left out of the lists and
named at the end (exit status 1).
"""  # noqa: E501
import argparse
import os
import os.path as osp
from functools import partial
from typing import Dict, List, Optional, Sequence

from mmengine.utils import track_parallel_progress, track_progress
from optical_flow import extract_video_flow, rawframe_annotations

from off_plugin.utils import ToolError, run_tool
from off_plugin.utils.fileio import atomic_write

ROOT_MARKER = '.tvl1_flow'


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src_dir', help='root of the videos')
    parser.add_argument(
        'out_dir',
        help='root of the rawframe folders and '
        'lists (new, or written by this tool before)')
    parser.add_argument(
        '--ann-files',
        nargs='+',
        required=True,
        help='MMAction2 video lists (path label)')
    parser.add_argument(
        '--task',
        choices=('flow', 'both'),
        default='flow',
        help='both: the RGB frames too (img_00001.jpg, ...)')
    parser.add_argument(
        '--bound',
        type=float,
        default=20.,
        help='flow clipped to [-bound, bound] pixels')
    parser.add_argument(
        '--new-width',
        type=int,
        default=0,
        help='resize frames first (TSN: 340; 0: keep)')
    parser.add_argument(
        '--new-height',
        type=int,
        default=0,
        help='resize frames first (TSN: 256; 0: keep)')
    parser.add_argument('--num-worker', type=int, default=1)
    return parser.parse_args(argv)


def read_lists(ann_files: Sequence[str], out_dir: str) -> Dict[str, list]:
    """rawframe list path -> the lines of its annotation file; refuses
    paths that leave the video root and two lists of one name."""
    lists = {}
    for ann in ann_files:
        with open(ann) as f:
            lines = [line.strip() for line in f if line.strip()]
        for number, line in enumerate(lines, 1):
            path = osp.normpath(line.split()[0])
            if osp.isabs(path) or path.split(os.sep)[0] == os.pardir:
                raise ToolError(
                    f'{ann}, line {number}: {line.split()[0]} is not inside '
                    'the video root; give paths relative to src_dir.')
        name = osp.basename(ann)
        name = (name[:-len('_videos.txt')] if name.endswith('_videos.txt') else
                osp.splitext(name)[0]) + '_rawframes.txt'
        out = osp.join(out_dir, name)
        if out in lists:
            raise ToolError(
                f'{ann}: its rawframe list {out} is the one of another '
                '--ann-files entry; give annotation files of other names.')
        lists[out] = lines
    return lists


def claim(out_dir: str) -> None:
    """Make ``out_dir`` this tool's: new, empty, or marked before."""
    if osp.isdir(out_dir) and os.listdir(out_dir) and not osp.exists(
            osp.join(out_dir, ROOT_MARKER)):
        raise ToolError(
            f'{out_dir}: out_dir holds files this tool did not write (no '
            f'{ROOT_MARKER} marker); give a new folder (e.g. '
            f'{osp.normpath(out_dir)}_tvl1).')
    os.makedirs(out_dir, exist_ok=True)
    open(osp.join(out_dir, ROOT_MARKER), 'a').close()


def extract(item: tuple, args: argparse.Namespace):
    """The flow frames of one video, or the error as a string."""
    path, out = item
    size = (args.new_width, args.new_height) if args.new_width else None
    try:
        return extract_video_flow(path, out, args.bound, size,
                                  args.task == 'both')
    except Exception as err:  # reported at the end, the others go on
        return f'{path}: {err}'


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, List[str]]:
    """Returns, per rawframe list written, its lines."""
    args = parse_args(argv)
    if bool(args.new_width) != bool(args.new_height):
        raise ToolError('--new-width and --new-height: give both (or '
                        'neither, to keep the frame size).')
    lists = read_lists(args.ann_files, args.out_dir)
    claim(args.out_dir)
    videos = sorted(
        {line.split()[0]
         for lines in lists.values()
         for line in lines})
    items = [(osp.join(args.src_dir,
                       v), osp.join(args.out_dir,
                                    osp.splitext(v)[0])) for v in videos]
    work = partial(extract, args=args)
    if args.num_worker > 1:
        results = track_parallel_progress(work, items, args.num_worker)
    else:
        results = track_progress(work, items)
    counts = dict(zip(videos, results))
    written = {}
    for out, lines in lists.items():
        ok = [
            line for line in lines
            if not isinstance(counts[line.split()[0]], str)
        ]
        written[out] = rawframe_annotations(
            ok, [counts[line.split()[0]] for line in ok])
        with atomic_write(out) as tmp, open(tmp, 'w') as f:
            f.writelines(line + '\n' for line in written[out])
        print(f'{out}: {len(ok)} of {len(lines)} videos')
    failed = [r for r in results if isinstance(r, str)]
    if failed:
        print(*failed, sep='\n')
        raise ToolError(
            f'{len(failed)} of {len(videos)} videos failed, left out of the '
            f'lists (listed above; the first: {failed[0]}); fix or drop them '
            'and run again: the finished videos are kept.')
    return written


if __name__ == '__main__':
    run_tool(main)
