# Copyright (c) off_plugin authors. All rights reserved.
"""The demo's stage-1 and stage-2 configs, run through MMAction2's Runner on a
tiny copy of the embedded motion set."""
import importlib.util
import os.path as osp

import decord
import numpy as np
import pytest
import torch
from data_safety import tool_path
from mmaction.apis import inference_recognizer, init_recognizer
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.runner import Runner
from motion_videos import MOTIONS, make_motion_videos


def load_tool(name):
    spec = importlib.util.spec_from_file_location(name,
                                                  tool_path(f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CONFIGS = osp.join(
    osp.dirname(osp.dirname(osp.dirname(__file__))), 'configs', 'recognition',
    'off')


def test_motion_videos_move_in_their_class_direction(tmp_path):
    make_motion_videos(str(tmp_path), num_train=8, num_val=0)
    lines = (tmp_path / 'train.txt').read_text().split()
    names, labels = lines[::2], [int(x) for x in lines[1::2]]
    assert sorted(labels) == [0, 0, 1, 1, 2, 2, 3, 3]
    for name, label in zip(names, labels):
        video = decord.VideoReader(str(tmp_path / 'videos' / name))
        assert len(video) == 24
        frames = video.get_batch([0, 23]).asnumpy().mean(-1)
        centres = []
        for frame in frames:  # the bright patch (>= 130) over the background
            ys, xs = np.nonzero(frame > 125)
            centres.append((xs.mean(), ys.mean()))
        (x0, y0), (x1, y1) = centres
        dx, dy = MOTIONS[list(MOTIONS)[label]]
        assert np.sign(round(x1 - x0)) == dx and np.sign(round(y1 - y0)) == dy


def tiny(cfg: Config, data_root: str, work_dir: str) -> Config:
    cfg.work_dir = work_dir
    cfg.train_cfg.max_epochs = 1
    cfg.train_cfg.val_interval = 1
    cfg.default_hooks.checkpoint.interval = 1
    cfg.param_scheduler = []
    for split, ann in (('train', 'train'), ('val', 'val'), ('test', 'val')):
        loader = cfg[f'{split}_dataloader']
        loader.batch_size = 2
        loader.num_workers = 0
        loader.persistent_workers = False
        loader.dataset.ann_file = osp.join(data_root, f'{ann}.txt')
        loader.dataset.data_prefix.video = osp.join(data_root, 'videos')
    return cfg


@pytest.mark.slow
def test_demo_configs_train_stage1_then_stage2_and_test(tmp_path):
    data_root = str(tmp_path / 'data')
    make_motion_videos(data_root, num_train=8, num_val=4)

    stage1 = tiny(
        Config.fromfile(
            osp.join(CONFIGS, 'tsn_r18_1xb8-8seg-4e_motion-demo-rgb.py')),
        data_root, str(tmp_path / 'tsn'))
    stage1.experiment_name = 'tiny_tsn'
    Runner.from_cfg(stage1).train()
    stage1_ckpt = tmp_path / 'tsn' / 'epoch_1.pth'
    tsn_state = torch.load(stage1_ckpt)['state_dict']

    stage2 = tiny(
        Config.fromfile(
            osp.join(CONFIGS, 'off_r18_1xb8-5of8seg-10e_motion-demo-rgb.py')),
        data_root, str(tmp_path / 'off'))
    stage2.model.feature_checkpoint = str(stage1_ckpt)
    stage2.experiment_name = 'tiny_off'
    runner = Runner.from_cfg(stage2)
    runner.train()
    model = runner.model
    assert type(model).__name__ == 'OFFRecognizer'
    for key, value in tsn_state.items():  # loaded and still frozen
        assert torch.equal(model.state_dict()[key], value), key
    metrics = runner.test()
    assert 0. <= metrics['acc/top1'] <= 1.

    # inference with MMAction2's API and the demo tool on the trained model
    video = osp.join(data_root, 'videos',
                     (tmp_path / 'data' / 'val.txt').read_text().split()[0])
    stage2.test_pipeline = stage2.test_dataloader.dataset.pipeline
    loaded = init_recognizer(
        stage2, str(tmp_path / 'off' / 'epoch_1.pth'), device='cpu')
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
    result = inference_recognizer(loaded, video)
    model.eval()
    data = Compose(stage2.test_pipeline)(
        dict(filename=video, label=-1, start_index=0, modality='RGB'))
    with torch.no_grad():
        expected = model.test_step(pseudo_collate([data]))[0].pred_score
    torch.testing.assert_close(result.pred_score, expected)

    classes = (tmp_path / 'data' / 'classes.txt').read_text().split()
    top = load_tool('recognize_video').recognize(
        stage2, str(tmp_path / 'off' / 'epoch_1.pth'), video, classes)
    assert [name for name, _ in top
            ] == [classes[i] for i in expected.argsort(descending=True)[:4]]
    assert [score for _, score in top] == pytest.approx(
        expected.sort(descending=True).values[:4].tolist())
