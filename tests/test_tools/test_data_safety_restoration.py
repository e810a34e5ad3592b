# Copyright (c) off_plugin authors. All rights reserved.
"""The restoration tools read a user's folder and write into it nothing but
what they document: checksums of every file before, after a successful
run, and after a failed or killed one.

The tools run as a user runs them where that is what is tested (a kill, an
exit status); elsewhere their ``main`` runs here through ``run_tool``, which
is the same but for the interpreter's start (~15 s on 2 cores)."""
import json
import os
import os.path as osp
import runpy
import shutil
import signal
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch
from data_safety import (ROOT, assert_one_line_error, assert_unchanged,
                         checksums, kill_after, tool_path)

from off_plugin.restoration import inference_restorer, init_restorer
from off_plugin.utils import ToolError, run_tool
from off_plugin.utils.video_io import read_video

pytestmark = pytest.mark.slow  # every test runs a tool as a process

CONFIGS = ROOT / 'configs' / 'restoration' / 'off'
DEMO_CFG = CONFIGS / 'dncnn-off3-c32_1xb8-800iter_restoration-demo-q40.py'
CACHE = 'sequences_jpeg2000_q40'
NO_WORKERS = [
    f'{loader}_dataloader.{key}' for loader in ('train', 'val', 'test')
    for key in ('num_workers=0', 'persistent_workers=False')
]


def run_here(tool, *args, capsys):
    """``python tools/<tool> args`` as run_tool runs it, in this process:
    the exit status and the output."""
    main = runpy.run_path(str(tool_path(tool)))['main']
    capsys.readouterr()
    try:
        run_tool(main, list(map(str, args)))
        code = 0
    except SystemExit as exit:
        code = exit.code
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(tool, code, out, err)


# demo/restoration_demo.py in one fresh process, its mim runs in it too
DEMO = f"""
import runpy, sys
sys.path[:0] = [{str(ROOT / 'tests')!r}, {str(ROOT / 'demo')!r}]
import mim_runner
from data_safety import mim_in_process
mim_runner.run_mim = mim_in_process
sys.argv[0] = {str(tool_path('restoration_demo.py'))!r}
runpy.run_path(sys.argv[0], run_name='__main__')
"""


def vimeo_layout(root, train=3, test=1, size=64):
    """The published Vimeo-90K layout, no ``sep_vallist.txt``: septuplets
    of a smooth texture panning right, ``size`` pixels square."""
    rng = np.random.default_rng(0)
    clips = [f'00001/{i:04d}' for i in range(1, train + test + 1)]
    for clip in clips:
        texture = cv2.resize(
            rng.integers(0, 256, (8, 8, 3), np.uint8), (size + 6, size),
            interpolation=cv2.INTER_CUBIC)
        (root / 'sequences' / clip).mkdir(parents=True)
        for t in range(7):
            cv2.imwrite(
                str(root / 'sequences' / clip / f'im{t + 1}.png'),
                texture[:, t:t + size])
    (root / 'sep_trainlist.txt').write_text(''.join(c + '\n'
                                                    for c in clips[:train]))
    (root / 'sep_testlist.txt').write_text(''.join(c + '\n'
                                                   for c in clips[train:]))
    return clips


def test_restoration_demo_leaves_a_vimeo90k_root_byte_identical(
        tmp_path, capsys):
    root, work = tmp_path / 'vimeo_septuplet', tmp_path / 'work'
    clips = vimeo_layout(root)
    before = checksums(root)
    result = subprocess.run([
        sys.executable, '-c', DEMO, '--data-root', root, '--work-dir', work,
        '--iters', '2', '--cfg-options', *NO_WORKERS
    ],
                            cwd=tmp_path,
                            capture_output=True,
                            text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert_unchanged(before, root)  # nothing written, nothing new
    demo = runpy.run_path(str(tool_path('restoration_demo.py')))
    own = work / osp.basename(demo['own_dir'](str(work), str(root)))
    # the validation split derived into the work directory, and said so
    assert (own / 'sep_vallist.txt').read_text() == clips[2] + '\n'
    assert (own / 'sep_trainlist.txt').read_text() == ''.join(
        c + '\n' for c in clips[:2])
    assert f'validating on the last 1 of the 3 clips of {root}' \
        in result.stdout
    assert sorted(p.name for p in (own / CACHE / '00001').iterdir()) == [
        c.split('/')[1] for c in clips
    ]
    table = json.loads((own / 'q40-2iter' / 'psnr_per_clip.json').read_text())
    assert list(table) == [
        'compressed input', 'DnCNN (same iterations)',
        'DnCNN_OFF(3) (same iterations)', 'DnCNN_OFF(3) (same time)'
    ]
    assert all(
        list(v) == [clips[3]] and 15 < v[clips[3]] < 60
        for v in table.values())

    # a failed run (a listed clip without frames): one line, root unchanged
    bad = tmp_path / 'bad'
    shutil.copytree(root, bad)
    with open(bad / 'sep_testlist.txt', 'a') as f:
        f.write('00002/0001\n')
    before = checksums(bad)
    result = run_here(
        'restoration_demo.py',
        '--data-root',
        bad,
        '--work-dir',
        work,
        capsys=capsys)
    assert_one_line_error(result, f'{bad}/sequences/00002/0001',
                          'no such clip folder',
                          'delete 00002/0001 from the clip lists')
    assert_unchanged(before, bad)


def test_restoration_demo_completes_a_cache_of_the_root_there(tmp_path):
    """A root with the cache of tools/data/compress_vimeo90k.py: the demo uses
    and completes it, in that sub-folder only; a root without lists is
    refused."""
    root = tmp_path / 'vimeo_septuplet'
    clips = vimeo_layout(root, train=2, size=16)
    (root / 'sep_vallist.txt').write_text(clips[1] + '\n')
    (root / CACHE).mkdir()
    before = checksums(root)
    demo = runpy.run_path(str(ROOT / 'demo' / 'restoration_demo.py'))
    lists, cache_root, runs = demo['prepare_data'](str(root),
                                                   str(tmp_path / 'work'), 40,
                                                   False)
    assert cache_root is None  # the root's own cache
    assert lists == {
        n: str(root / n)
        for n in ('sep_trainlist.txt', 'sep_vallist.txt', 'sep_testlist.txt')
    }
    assert_unchanged(before, root, documented=[CACHE])
    assert len(list((root / CACHE).rglob('im*.png'))) == 3 * 7
    (root / 'sep_testlist.txt').unlink()
    before = checksums(root)
    with pytest.raises(ToolError, match=f'{root}/sep_testlist.txt: missing'):
        demo['prepare_data'](str(root), str(tmp_path / 'work'), 40, False)
    assert_unchanged(before, root)


def test_compress_vimeo90k_writes_only_its_cache(tmp_path, capsys):
    root = tmp_path / 'vimeo_septuplet'
    clips = vimeo_layout(root, train=8, test=2, size=32)
    before = checksums(root)
    command = [
        sys.executable,
        tool_path('compress_vimeo90k.py'), root, '--quality', '40'
    ]
    assert kill_after(command, root / CACHE / clips[0]) == -signal.SIGKILL
    assert_unchanged(before, root, documented=[CACHE])
    assert len(list((root / CACHE / '00001').iterdir())) < len(clips)

    result = run_here(
        'compress_vimeo90k.py', root, '--quality', '40', capsys=capsys)
    assert result.returncode == 0, result.stderr[-3000:]
    assert_unchanged(before, root, documented=[CACHE])
    assert sorted(p.name for p in (root / CACHE / '00001').iterdir()) == [
        c.split('/')[1] for c in clips
    ]  # resumed, no .tmp left
    assert all(
        cv2.imread(str(root / CACHE / c / 'im7.png')).shape == (32, 32, 3)
        for c in clips)

    # truncated originals: one line, originals unchanged, none of them
    # cached, the others listed before the line
    for clip in clips[1:3]:
        frame = root / 'sequences' / clip / 'im4.png'
        frame.write_bytes(frame.read_bytes()[:100])
    shutil.rmtree(root / CACHE)
    before = checksums(root)
    result = run_here(
        'compress_vimeo90k.py', root, '--quality', '40', capsys=capsys)
    assert_one_line_error(
        result, '2 clips failed, nothing of them written',
        f'{root}/sequences/{clips[1]}/im4.png: cannot be decoded',
        f'delete {clips[1]} from the clip lists')
    assert f'{root}/sequences/{clips[2]}/im4.png: cannot be decoded' in \
        result.stderr.splitlines()[-2]
    assert_unchanged(before, root, documented=[CACHE])
    assert sorted(p.name for p in (root / CACHE / '00001').iterdir()) == [
        c.split('/')[1] for c in clips if c not in clips[1:3]
    ]


def test_restore_video_only_reads_its_input(tmp_path, capsys):
    torch.manual_seed(0)
    model = init_restorer(DEMO_CFG)
    with torch.no_grad():
        for param in model.parameters():
            param.add_(torch.randn_like(param) * .01)
    ckpt = tmp_path / 'iter_800.pth'
    torch.save(dict(meta={}, state_dict=model.state_dict()), ckpt)
    frames = tmp_path / 'frames'
    rng = np.random.default_rng(0)
    frames.mkdir()
    for i in range(1, 5):
        cv2.imwrite(
            str(frames / f'{i:05d}.png'),
            rng.integers(0, 256, (12, 16, 3), np.uint8))
    before = checksums(tmp_path)

    result = run_here(
        'restore_video.py',
        DEMO_CFG,
        ckpt,
        frames,
        f'{tmp_path}/restored/',
        capsys=capsys)
    assert result.returncode == 0, result.stderr[-3000:]
    assert_unchanged(before, tmp_path, documented=['restored'])
    expected = inference_restorer(
        init_restorer(DEMO_CFG, str(ckpt)), str(frames))
    restored = read_video(str(tmp_path / 'restored'))[1]
    assert all(
        np.array_equal(r[..., ::-1], e) for r, e in zip(restored, expected))
    assert len(os.listdir(tmp_path / 'restored')) == 4

    # failed runs: a checkpoint of another model; the input as output
    shutil.rmtree(tmp_path / 'restored')
    other = tmp_path / 'dncnn.pth'
    torch.save(
        dict(
            meta={},
            state_dict=init_restorer(
                CONFIGS / 'dncnn-c32l10_1xb8-800iter_restoration-demo-q40.py').
            state_dict()), other)
    before = checksums(tmp_path)
    result = run_here(
        'restore_video.py',
        DEMO_CFG,
        other,
        frames,
        tmp_path / 'out.mp4',
        capsys=capsys)
    assert_one_line_error(result, f'{other}: not a checkpoint of this '
                          'DnCNNOFF', 'Pass the config the checkpoint was '
                          'trained with')
    assert_unchanged(before, tmp_path)
    for out in (f'{frames}/', f'{frames}/sub/'):
        result = run_here(
            'restore_video.py', DEMO_CFG, ckpt, frames, out, capsys=capsys)
        assert_one_line_error(
            result, f'{out}: the output would overwrite '
            f'the input {frames}', 'pass an out path')
    assert_unchanged(before, tmp_path)
