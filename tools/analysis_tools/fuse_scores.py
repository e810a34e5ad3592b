# Copyright (c) off_plugin authors. All rights reserved.
"""Fuse the scores of several streams dumped by ``mim test ... --dump``.

    # fixed weights (the paper sums RGB and OFF(RGB): 1 1)
    python tools/analysis_tools/fuse_scores.py rgb.pkl off_rgb.pkl \
        --weights 1 1
    # search the weights on a validation split, report them on the test one
    python tools/analysis_tools/fuse_scores.py rgb.pkl off_rgb.pkl \
        --search-on val_rgb.pkl val_off_rgb.pkl

Prints top-1 / top-5 of every stream and of the fusion; writes nothing.
With fixed weights this is MMAction2's ``report_accuracy.py --coefficients``
(the same ``top_k_accuracy``) plus a row per stream and the check that the
dumps hold the same videos; ``--search-on`` is this tool's own.
An OFFRecognizer dump holds TSN + OFF; dump the OFF stream alone with
``--cfg-options model.test_cfg.rgb_weight=0``.
"""
import argparse
from typing import Optional, Sequence

import numpy as np

from off_plugin.recognition import (check_same_videos, fuse_scores,
                                    load_dumped_scores, search_weights,
                                    top_k_accuracy)
from off_plugin.utils import ToolError, run_tool


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('dumps', nargs='+', help='one result pickle a stream')
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        '--weights',
        type=float,
        nargs='+',
        help='one weight a stream (default: all 1)')
    group.add_argument(
        '--search-on',
        nargs='+',
        metavar='VAL_DUMP',
        help='the same streams on a validation split: pick '
        'the weights with the best top-1 there')
    parser.add_argument(
        '--grid',
        type=float,
        nargs='+',
        default=list(np.arange(0, 3.01, .25)),
        help='weights tried by --search-on (stream 1 is 1)')
    return parser.parse_args(argv)


def load_streams(paths):
    scores, labels = zip(*(load_dumped_scores(p) for p in paths))
    check_same_videos(labels, paths)
    return list(scores), labels[0]


def main(argv: Optional[Sequence[str]] = None) -> tuple:
    """Prints the table; returns the weights and the fused scores."""
    args = parse_args(argv)
    if args.weights and len(args.weights) != len(args.dumps):
        raise ToolError(
            f'--weights: {len(args.weights)} weights for {len(args.dumps)} '
            'dumps; give one weight a stream, in the order of the dumps.')
    if args.search_on and len(args.search_on) != len(args.dumps):
        raise ToolError(
            f'--search-on: {len(args.search_on)} dumps for '
            f'{len(args.dumps)} streams; give the validation dump of every '
            'stream, in the order of the test dumps.')
    scores, labels = load_streams(args.dumps)
    weights = args.weights or [1.] * len(scores)
    if args.search_on:
        val_scores, val_labels = load_streams(args.search_on)
        weights, val_top1 = search_weights(val_scores, val_labels, args.grid)
        print(f'weights searched on {len(val_labels)} validation videos: '
              f'{weights} (top-1 {val_top1:.4f} there)')
    rows = [(p, s) for p, s in zip(args.dumps, scores)]
    rows.append((f'fused {tuple(weights)}', fuse_scores(scores, weights)))
    width = max(len(name) for name, _ in rows)
    print(f'{"stream":<{width}}  top-1   top-5   ({len(labels)} videos)')
    for name, s in rows:
        print(f'{name:<{width}}  {top_k_accuracy(s, labels, 1):.4f}  '
              f'{top_k_accuracy(s, labels, 5):.4f}')
    return tuple(weights), rows[-1][1]


if __name__ == '__main__':
    run_tool(main)
