# Copyright (c) off_plugin authors. All rights reserved.
"""The README's main command: TSN vs TSN+OFF on the embedded motion set.

1. writes the embedded set (``data/motion_demo``: 4 classes, move
   right/left/down/up, textures and positions random) unless it is there;
2. stage 1: ``mim train mmaction`` a plain TSN (ResNet-18 from scratch),
   ``mim test`` it;
3. stage 2: ``mim train mmaction`` OFF on the frozen stage-1 network,
   ``mim test`` it (TSN score + OFF score);
4. prints both top-1 accuracies on the held-out videos.

Runs on CPU in about 5 minutes. Everything goes through MMAction2's own
runner, datasets and metrics; the configs are in
``configs/recognition/off/``.
"""
import argparse
import os
import os.path as osp
import time

from off_plugin.datasets.motion_videos import make_motion_videos
from off_plugin.evaluation import load_dumped_scores, top_k_accuracy
from off_plugin.mim import run_mim

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = osp.join(ROOT, 'configs', 'recognition', 'off')
STAGE1 = osp.join(CONFIGS, 'tsn_r18_1xb8-8seg-4e_motion-demo-rgb.py')
STAGE2 = osp.join(CONFIGS, 'off_r18_1xb8-5of8seg-10e_motion-demo-rgb.py')


def train_and_test(config: str, work_dir: str, epochs: int,
                   *cfg_options: str) -> float:
    """Train with ``mim train``, test the last checkpoint with ``mim test
    --dump`` and return the top-1 accuracy of the dumped scores."""
    options = ['--cfg-options', *cfg_options] if cfg_options else []
    run_mim('train', 'mmaction', config, '--work-dir', work_dir, *options,
            cwd=ROOT)
    checkpoint = osp.join(work_dir, f'epoch_{epochs}.pth')
    dump = osp.join(work_dir, 'test_scores.pkl')
    run_mim('test', 'mmaction', config, '--checkpoint', checkpoint,
            '--work-dir', work_dir, '--dump', dump, *options, cwd=ROOT)
    return top_k_accuracy(*load_dumped_scores(dump), k=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--data-root', default='data/motion_demo')
    parser.add_argument('--work-dir', default='work_dirs/motion_demo')
    args = parser.parse_args()
    os.chdir(ROOT)

    start = time.time()
    if not osp.isfile(osp.join(args.data_root, 'classes.txt')):
        print(f'writing the embedded motion set to {args.data_root} ...')
        make_motion_videos(args.data_root, num_train=800, num_val=200)
    data = []
    for loader, split in (('train', 'train'), ('val', 'val'),
                          ('test', 'val')):
        data += [
            f'{loader}_dataloader.dataset.ann_file={args.data_root}/'
            f'{split}.txt', f'{loader}_dataloader.dataset.data_prefix.video='
            f'{args.data_root}/videos'
        ]
    stage1_dir = osp.join(args.work_dir, 'tsn')
    tsn = train_and_test(STAGE1, stage1_dir, 4, *data)
    off = train_and_test(
        STAGE2, osp.join(args.work_dir, 'off'), 10, *data,
        f'model.feature_checkpoint={osp.join(stage1_dir, "epoch_4.pth")}')
    print(f'\nHeld-out top-1 on {args.data_root} (4 motion classes, chance '
          f'0.25), {time.time() - start:.0f} s in all:\n'
          f'  TSN (stage 1)       {tsn:.3f}\n'
          f'  TSN + OFF (stage 2) {off:.3f}')


if __name__ == '__main__':
    main()
