# Copyright (c) off_plugin authors. All rights reserved.
"""Recognize the action in a video file with an OFF (or any MMAction2)
recognizer and print the top-5 classes.

    python tools/recognize_video.py \
        configs/recognition/off/off_r18_1xb8-5of8seg-10e_motion-demo-rgb.py \
        work_dirs/motion_demo/off/epoch_10.pth video.mp4 \
        --labels data/motion_demo/classes.txt

The config's ``test_pipeline`` (interval-consistent sampling, crops) and
``test_cfg`` (TSN + OFF score weights) are used as in ``mim test``.
"""
import argparse
from typing import List, Optional, Tuple

from mmaction.apis import inference_recognizer, init_recognizer


def recognize(config: str,
              checkpoint: str,
              video: str,
              labels: Optional[List[str]] = None,
              topk: int = 5,
              device: str = 'cpu') -> List[Tuple[str, float]]:
    """The ``topk`` (class, score) pairs of ``video``, best first."""
    model = init_recognizer(config, checkpoint, device=device)
    scores = inference_recognizer(model, video).pred_score.cpu()
    if labels is not None and len(labels) != len(scores):
        raise ValueError(
            f'the label file has {len(labels)} names but the model scores '
            f'{len(scores)} classes; pass the class list it was trained on.')
    values, indices = scores.topk(min(topk, len(scores)))
    return [(labels[i] if labels else str(int(i)), float(v))
            for v, i in zip(values, indices)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('video')
    parser.add_argument('--labels', help='class names, one per line')
    parser.add_argument('--topk', type=int, default=5)
    parser.add_argument('--device', default='cpu')
    args = parser.parse_args()
    labels = None
    if args.labels:
        with open(args.labels) as f:
            labels = [line.strip() for line in f if line.strip()]
    for name, score in recognize(args.config, args.checkpoint, args.video,
                                 labels, args.topk, args.device):
        print(f'{name}: {score:.4f}')


if __name__ == '__main__':
    main()
