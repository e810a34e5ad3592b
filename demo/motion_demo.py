# Copyright (c) off_plugin authors. All rights reserved.
"""The README's main command: TSN vs TSN+OFF on the embedded motion set.

1. without ``--data-root``: writes the embedded set to its default place,
   ``data/motion_demo`` (4 classes, move right/left/down/up, textures and
   positions random), unless it is there already;
2. stage 1: ``mim train mmaction`` a plain TSN (ResNet-18 from scratch),
   ``mim test`` it;
3. stage 2: ``mim train mmaction`` OFF on the frozen stage-1 network,
   ``mim test`` it (TSN score + OFF score);
4. prints both top-1 accuracies on the held-out videos.

Runs on CPU in about 5 minutes. Everything goes through MMAction2's own
runner, datasets and metrics; the configs are in
``configs/recognition/off/``. ``--data-root`` runs it on a set of your own
in the same layout: ``videos/``, ``train.txt`` and ``val.txt`` (``<video>
<label>`` lines) and ``classes.txt`` (one name a line; their number sets
the models' classes). ``--cfg-options`` go to both stages' runs, after the
demo's own.

What it writes: the embedded set (only to ``data/motion_demo``, only
without ``--data-root``) and the runs in ``--work-dir`` (``tsn/``,
``off/``: the config run, logs, checkpoints, ``test_scores.pkl``); a
``--data-root`` is only read.
"""
import argparse
import os.path as osp
import time
from typing import Optional, Sequence, Tuple

from mim_runner import mim_config, run_mim
from motion_videos import make_motion_videos

from off_plugin.recognition import load_dumped_scores, top_k_accuracy
from off_plugin.utils import ToolError, add_cfg_options, run_tool

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = osp.join(ROOT, 'configs', 'recognition', 'off')
STAGE1 = osp.join(CONFIGS, 'tsn_r18_1xb8-8seg-4e_motion-demo-rgb.py')
STAGE2 = osp.join(CONFIGS, 'off_r18_1xb8-5of8seg-10e_motion-demo-rgb.py')
EMBEDDED = osp.join(ROOT, 'data', 'motion_demo')
LAYOUT = ('classes.txt', 'train.txt', 'val.txt', 'videos')


def train_and_test(config: str, work_dir: str, *options: dict) -> float:
    """Train ``config`` with ``options`` merged (see
    :func:`mim_runner.mim_config`) with ``mim train``, test its last
    checkpoint with ``mim test --dump`` and return the top-1 accuracy of the
    dumped scores."""
    config = mim_config(config, osp.join(work_dir, osp.basename(config)),
                        *options)
    run_mim('train', 'mmaction', config, '--work-dir', work_dir, cwd=ROOT)
    dump = osp.join(work_dir, 'test_scores.pkl')
    run_mim(
        'test',
        'mmaction',
        config,
        '--checkpoint',
        last_checkpoint(work_dir),
        '--work-dir',
        work_dir,
        '--dump',
        dump,
        cwd=ROOT)
    return top_k_accuracy(*load_dumped_scores(dump), k=1)


def last_checkpoint(work_dir: str) -> str:
    """The checkpoint the runner saved last in ``work_dir``."""
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def data_options(data_root: Optional[str]) -> Tuple[str, int, dict]:
    """The data root (the embedded set written to the default one if it is
    missing there), its number of classes and the settings pointing both
    stages to it."""
    if data_root is None:
        data_root = EMBEDDED
        if not osp.isfile(osp.join(data_root, 'classes.txt')):
            print(f'writing the embedded motion set to {data_root} ...')
            make_motion_videos(data_root, num_train=800, num_val=200)
    data_root = osp.abspath(data_root)
    for name in LAYOUT:
        if not osp.exists(osp.join(data_root, name)):
            raise ToolError(
                f'{osp.join(data_root, name)}: missing; --data-root must '
                'hold videos/, train.txt, val.txt (<video> <label> lines) '
                'and classes.txt (one name a line), or leave --data-root '
                'out for the embedded set.')
    with open(osp.join(data_root, 'classes.txt')) as f:
        num_classes = sum(1 for line in f if line.strip())
    options = {'model.cls_head.num_classes': num_classes}
    for loader, split in (('train', 'train'), ('val', 'val'), ('test', 'val')):
        dataset = f'{loader}_dataloader.dataset'
        options[f'{dataset}.ann_file'] = f'{data_root}/{split}.txt'
        options[f'{dataset}.data_prefix.video'] = f'{data_root}/videos'
    return data_root, num_classes, options


def main(argv: Optional[Sequence[str]] = None) -> Tuple[float, float]:
    """Returns the held-out top-1 of TSN and of TSN + OFF."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--data-root',
        help='a set of your own in the '
        'embedded set\'s layout (default: the embedded set)')
    parser.add_argument(
        '--work-dir', default=osp.join(ROOT, 'work_dirs', 'motion_demo'))
    add_cfg_options(parser)
    args = parser.parse_args(argv)

    start = time.time()
    data_root, num_classes, data = data_options(args.data_root)
    stage1_dir = osp.join(osp.abspath(args.work_dir), 'tsn')
    tsn = train_and_test(STAGE1, stage1_dir, data, args.cfg_options)
    stage2 = {
        'model.off_head.num_classes': num_classes,
        'model.feature_checkpoint': last_checkpoint(stage1_dir)
    }
    off = train_and_test(STAGE2, osp.join(osp.abspath(args.work_dir), 'off'),
                         data, stage2, args.cfg_options)
    print(f'\nHeld-out top-1 on {data_root} ({num_classes} classes), '
          f'{time.time() - start:.0f} s in all:\n'
          f'  TSN (stage 1)       {tsn:.3f}\n'
          f'  TSN + OFF (stage 2) {off:.3f}')
    return tsn, off


if __name__ == '__main__':
    run_tool(main)
