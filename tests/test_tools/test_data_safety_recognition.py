# Copyright (c) off_plugin authors. All rights reserved.
"""The recognition tools read a user's folder and write into it nothing but
what they document: checksums of every file before, after a successful
run, and after a failed or killed one
(tools/model_converters/convert_caffe_off.py: in
tests/test_tools/test_convert_caffe_off.py, next to its caffemodels;
demo/recognize_video.py: tests/test_tools/test_recognize_video.py)."""
import os.path as osp
import pickle
import runpy
import shutil
import signal
import subprocess
import sys

import numpy as np
import pytest
import torch
from data_safety import (assert_one_line_error, assert_unchanged, checksums,
                         kill_after, mim_in_process, tool_path)
from mmengine.config import Config
from motion_videos import MOTIONS, make_motion_videos, render_clip, write_video
from tiny_runs import STAGE2

from off_plugin.utils import cli

pytestmark = pytest.mark.slow  # every test runs a tool as a process

NO_WORKERS = [
    f'{loader}_dataloader.{key}' for loader in ('train', 'val', 'test')
    for key in ('num_workers=0', 'persistent_workers=False')
]


def tool(name):
    return runpy.run_path(str(tool_path(name)))


def failed_run(main, argv, capsys) -> subprocess.CompletedProcess:
    """``run_tool(main, argv)`` in this process, as a finished command."""
    with pytest.raises(SystemExit) as exit_:
        cli.run_tool(main, argv)
    out = capsys.readouterr()
    return subprocess.CompletedProcess(argv, exit_.value.code, out.out,
                                       out.err)


def test_motion_demo_reads_a_user_root_and_refuses_other_layouts(
        tmp_path, capsys):
    # a comma, a space and quotes in the root's path and in an option: both
    # reach the runs as they were meant
    root, work = tmp_path / 'my, set "1"', tmp_path / 'work'
    make_motion_videos(str(root), num_train=2, num_val=1, num_frames=16)
    before = checksums(root)
    main = tool('motion_demo.py')['main']
    main.__globals__['run_mim'] = mim_in_process
    tsn, off = main([
        '--data-root',
        str(root), '--work-dir',
        str(work), '--cfg-options', 'train_cfg.max_epochs=1', *NO_WORKERS,
        'note=\'a, b "c"\''
    ])
    out = capsys.readouterr().out
    assert 'writing the embedded' not in out
    assert f'Held-out top-1 on {root} (4 classes)' in out
    assert 0 <= tsn <= 1 and 0 <= off <= 1
    assert_unchanged(before, root)
    for stage in ('tsn', 'off'):  # one epoch each (--cfg-options), tested
        assert (work / stage / 'epoch_1.pth').is_file()
        assert (work / stage / 'test_scores.pkl').is_file()
        # the config the runner ran, as it wrote it
        ran = Config.fromfile(next((work / stage).glob('*_motion-demo-*.py')))
        assert ran.val_dataloader.dataset.ann_file == f'{root}/val.txt'
        assert ran.note == ['a', 'b"c']  # as DictAction reads the word
    assert not (work / 'tsn' / 'epoch_4.pth').exists()

    # not the layout: one line naming the missing file, nothing written
    (root / 'val.txt').unlink()
    before = checksums(tmp_path)
    result = failed_run(
        main,
        ['--data-root', str(root), '--work-dir',
         str(work)], capsys)
    assert_one_line_error(result, f'{root}/val.txt: missing',
                          'leave --data-root out for the embedded set')
    assert_unchanged(before, tmp_path)


def flow_layout(root):
    """MMAction2's video layout: two short videos of a class folder and
    their list."""
    (root / 'videos' / 'move').mkdir(parents=True)
    for i, motion in enumerate(('move_right', 'move_up')):
        write_video(
            str(root / 'videos' / 'move' / f'v{i}.mp4'),
            render_clip(
                np.random.default_rng(i), MOTIONS[motion], 32, 6, 1, 8))
    (root / 'train_videos.txt').write_text('move/v0.mp4 0\nmove/v1.mp4 1\n')


def test_extract_tvl1_flow_writes_only_into_its_out_dir(tmp_path, capsys):
    root = tmp_path / 'ucf'
    flow_layout(root)
    before = checksums(root)
    args = [
        root / 'videos', root / 'rawframes', '--ann-files',
        root / 'train_videos.txt'
    ]
    # killed while writing: the user's files intact, a partial out_dir
    command = [sys.executable, tool_path('extract_tvl1_flow.py'), *args]
    assert kill_after(command, root / 'rawframes' / '.tvl1_flow') \
        == -signal.SIGKILL
    assert_unchanged(before, root, documented=['rawframes'])

    main = tool('extract_tvl1_flow.py')['main']
    written = main([str(a) for a in args])  # resumes in its own out_dir
    assert_unchanged(before, root, documented=['rawframes'])
    lists = root / 'rawframes' / 'train_rawframes.txt'
    assert written == {str(lists): ['move/v0 5 0', 'move/v1 5 1']}
    assert lists.read_text() == 'move/v0 5 0\nmove/v1 5 1\n'
    assert sorted(
        p.name for p in (root / 'rawframes' / 'move' / 'v1').iterdir()) == [
            '.flow_done'
        ] + [f'{a}_{i:05d}.jpg' for a in 'xy' for i in range(1, 6)]

    # a folder of the user's as out_dir: refused before anything is read
    before = checksums(root)
    result = failed_run(main, [
        str(root / 'videos'),
        str(root), '--ann-files',
        str(root / 'train_videos.txt')
    ], capsys)
    assert_one_line_error(
        result, f'{root}: out_dir holds files this tool '
        'did not write', 'give a new folder')
    # a video that does not decode: left out of the lists, named
    (root / 'videos' / 'move' / 'v1.mp4').write_bytes(b'not a video')
    shutil.rmtree(root / 'rawframes' / 'move' / 'v1')
    before = {
        k: v
        for k, v in checksums(root).items() if not k.startswith('rawframes')
    }
    result = failed_run(main, [str(a) for a in args], capsys)
    assert_one_line_error(result, '1 of 2 videos failed',
                          f'{root}/videos/move/v1.mp4', 'fix or drop them')
    assert_unchanged(before, root, documented=['rawframes'])
    assert lists.read_text() == 'move/v0 5 0\n'
    assert not (root / 'rawframes' / 'move' / 'v1').exists()


def test_visualize_off_writes_only_its_pictures(tmp_path, capsys):
    data = tmp_path / 'videos'
    data.mkdir()
    write_video(
        str(data / 'clip.mp4'),
        render_clip(
            np.random.default_rng(0), MOTIONS['move_down'], 64, 24, 1, 16))
    before = checksums(tmp_path)
    main = tool('visualize_off.py')['main']
    with pytest.warns(UserWarning, match='random weights'):
        results = main([
            str(STAGE2), '--video',
            str(data / 'clip.mp4'), '--out-dir',
            str(tmp_path / 'vis'), '--cfg-options',
            'test_pipeline.3.crop_size=48'
        ])
    # --cfg-options reach the config: 48-pixel crops, 12-pixel maps
    assert results['level0']['size'] == (12, 12)
    assert_unchanged(before, tmp_path, documented=['vis'])
    assert sorted(p.name for p in (tmp_path / 'vis').iterdir()) == [
        'off_level0.png', 'off_level1.png', 'off_level2.png'
    ]

    before = checksums(tmp_path)
    result = failed_run(main, [
        str(STAGE2), '--video',
        str(data / 'no.mp4'), '--out-dir',
        str(tmp_path / 'vis2')
    ], capsys)
    assert_one_line_error(result, f'{data}/no.mp4: no such video file')
    assert_unchanged(before, tmp_path)


def test_publish_model_writes_next_to_out_file_only(tmp_path, capsys):
    work = tmp_path / 'work_dir'
    work.mkdir()
    torch.save(
        dict(
            meta=dict(epoch=1),
            state_dict=dict(w=torch.ones(2)),
            optimizer=dict(state={})), work / 'epoch_1.pth')
    before = checksums(tmp_path)
    main = tool('publish_model.py')['main']
    final = main(
        [str(work / 'epoch_1.pth'),
         str(tmp_path / 'pub' / 'off.pth')])
    assert osp.dirname(final) == str(tmp_path / 'pub')
    assert_unchanged(before, tmp_path, documented=['pub'])
    assert [p.name
            for p in (tmp_path / 'pub').iterdir()] == [osp.basename(final)]
    assert sorted(torch.load(final)) == ['meta', 'state_dict']

    (work / 'notes.txt').write_text('not a checkpoint')
    before = checksums(tmp_path)
    argv = [str(work / 'notes.txt'), str(work / 'off.pth')]
    result = failed_run(main, argv, capsys)
    assert_one_line_error(result, f'{work}/notes.txt: not a checkpoint',
                          'written by the runner')
    assert_unchanged(before, tmp_path)


def test_fuse_scores_writes_nothing(tmp_path, capsys):
    rng = np.random.default_rng(0)
    labels = [0, 1, 2, 1]
    for name in ('rgb', 'off'):
        with open(tmp_path / f'{name}.pkl', 'wb') as f:
            pickle.dump([
                dict(pred_score=rng.random(3), gt_label=[label])
                for label in labels
            ], f)
    before = checksums(tmp_path)
    main = tool('fuse_scores.py')['main']
    weights, fused = main([
        str(tmp_path / 'rgb.pkl'),
        str(tmp_path / 'off.pkl'), '--weights', '1', '2'
    ])
    assert weights == (1., 2.) and fused.shape == (4, 3)
    assert_unchanged(before, tmp_path)
    result = failed_run(main, [
        str(tmp_path / 'rgb.pkl'),
        str(tmp_path / 'off.pkl'), '--weights', '1'
    ], capsys)
    assert_one_line_error(result, '--weights: 1 weights for 2 dumps')
    assert_unchanged(before, tmp_path)
