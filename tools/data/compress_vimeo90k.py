# Copyright (c) off_plugin authors. All rights reserved.
"""Make the JPEG 2000 inputs of Vimeo-90K septuplets with FFmpeg.

    python tools/data/compress_vimeo90k.py data/vimeo_septuplet \
        --quality 20 40 --nproc 16

For every clip of ``sep_{train,val,test}list.txt`` writes
``sequences_jpeg2000_q<Q>/<clip>/im1.png ... im7.png`` next to
``sequences/`` (or under ``--cache-root``): the frames after an FFmpeg
JPEG 2000 round trip (quantizer ``-q:v Q``), stored losslessly.

What it writes: only ``<cache root>/sequences_jpeg2000_q<Q>/`` (the cache
root is the data root unless ``--cache-root`` is given), each clip first as
``.<clip>.tmp-<pid>`` beside it and renamed when complete. The originals and
the clip lists are only read. Deterministic; interrupted runs resume
(finished clips are skipped; cached clips with a missing or truncated frame,
or of other sizes than their originals, are made again; the temporary of a
killed run is deleted when its clip is made again). Clips that fail are
written not at all; the tool then ends with one line naming the first (the
others listed before it), exit status 1.
"""
import argparse

from off_plugin.restoration.vimeo90k import compress_septuplets, raise_failed
from off_plugin.utils import run_tool


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('root', help='the vimeo_septuplet directory')
    parser.add_argument(
        '--quality',
        type=int,
        nargs='+',
        default=[20, 40],
        help='JPEG 2000 quantizers (the paper: 20 and 40)')
    parser.add_argument(
        '--cache-root',
        help='where to write sequences_jpeg2000_q<Q>/ (default: the root; '
        'give the same as the datasets\' cache_root)')
    parser.add_argument('--nproc', type=int, default=1)
    args = parser.parse_args(argv)
    raise_failed(
        compress_septuplets(
            args.root,
            args.quality,
            nproc=args.nproc,
            cache_root=args.cache_root))


if __name__ == '__main__':
    run_tool(main)
