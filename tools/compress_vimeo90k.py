# Copyright (c) off_plugin authors. All rights reserved.
"""Make the JPEG 2000 inputs of Vimeo-90K septuplets with FFmpeg.

    python tools/compress_vimeo90k.py data/vimeo_septuplet --quality 20 40 --nproc 16

For every clip of ``sep_{train,val,test}list.txt`` writes
``sequences_jpeg2000_q<Q>/<clip>/im1.png ... im7.png`` next to
``sequences/``: the frames after an FFmpeg JPEG 2000 round trip (quantizer
``-q:v Q``), stored losslessly. Deterministic; interrupted runs resume
(finished clips are skipped; cached clips with a missing or truncated
frame, or of other sizes than their originals, are made again); clips that
fail are listed at the end, one line each, and nothing of them is written
(exit status 1).
"""
import argparse
import sys

from off_plugin.datasets.vimeo90k import compress_septuplets


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('root', help='the vimeo_septuplet directory')
    parser.add_argument('--quality', type=int, nargs='+', default=[20, 40],
                        help='JPEG 2000 quantizers (the paper: 20 and 40)')
    parser.add_argument('--nproc', type=int, default=1)
    args = parser.parse_args(argv)
    failed = compress_septuplets(args.root, args.quality, nproc=args.nproc)
    if failed:
        print(f'{len(failed)} clips failed:', *failed, sep='\n  ',
              file=sys.stderr)
        sys.exit(1)


if __name__ == '__main__':
    main()
