# Copyright (c) off_plugin authors. All rights reserved.
"""Time the mmcv ops the detection configs call, in this environment:
``nms`` of 6000 boxes and ``RoIAlign`` (7x7, 512 RoIs over 2x256x50x76
features) forward and backward, median of ``--repeats``. Run it in an
environment of each build (the default set-up's off-mmcv-ext, and one made
with ``bash tools/setup_env.sh --mmcv-full``) to compare them::

    python tools/analysis_tools/benchmark_mmcv_ops.py
    OFF_VENV=.venv-full bash tools/setup_env.sh --task detection --mmcv-full
    .venv-full/bin/python tools/analysis_tools/benchmark_mmcv_ops.py
"""
import argparse
import statistics
import time

import mmcv._ext
import torch
from mmcv.ops import RoIAlign, nms


def median_ms(run, repeats: int) -> float:
    run()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--repeats', type=int, default=7)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--device', default='cpu')
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    g = torch.Generator().manual_seed(0)

    def boxes(n, size, extent):
        xy = torch.rand(n, 2, generator=g) * size
        return torch.cat([xy, xy + torch.rand(n, 2, generator=g) * extent + 4],
                         dim=1)

    dets, scores = boxes(6000, 600, 120), torch.rand(6000, generator=g)
    features = torch.randn(2, 256, 50, 76, generator=g)
    batch = torch.randint(0, 2, (512, 1), generator=g).float()
    rois = torch.cat([batch, boxes(512, 500, 200)], dim=1)
    dets, scores, features, rois = (
        t.to(args.device) for t in (dets, scores, features, rois))
    layer = RoIAlign(7, 1 / 16, 0, 'avg', True)

    def roi_align():
        x = features.clone().requires_grad_()
        layer(x, rois).sum().backward()
        if args.device != 'cpu':
            torch.cuda.synchronize()

    ext = ('compiled mmcv'
           if mmcv._ext.__file__.endswith('.so') else 'off-mmcv-ext')
    print(f'{ext} on {args.device} ({args.threads} threads, median of '
          f'{args.repeats}): nms of 6000 boxes '
          f'{median_ms(lambda: nms(dets, scores, 0.7), args.repeats):.1f} ms;'
          f' RoIAlign 512 RoIs 7x7 of 2x256x50x76 forward and backward '
          f'{median_ms(roi_align, args.repeats):.1f} ms')


if __name__ == '__main__':
    main()
