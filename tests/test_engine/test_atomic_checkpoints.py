# Copyright (c) off_plugin authors. All rights reserved.
"""AtomicCheckpointHook, the policy of ``default_hooks.checkpoint``: a save
that fails keeps the previous checkpoint."""
import pytest
import torch
from tiny_runs import make_runner


def test_checkpoint_failing_mid_write_leaves_the_previous_one(
        tmp_path, monkeypatch):
    """A disk that fills up while epoch 2's checkpoint is written: with
    ``max_keep_ckpts=1`` mmengine would already have deleted epoch 1's;
    the atomic writes keep it, ``last_checkpoint`` still names it, no part
    of epoch 2's is left, and ``resume`` goes on from it."""
    import errno
    import os
    work = tmp_path / 'work'
    policy = 'AtomicCheckpointHook'  # the policy under test
    runner = make_runner(work, 'full-disk', 3, checkpoint_hook=policy)
    checkpoint_hook, = (h for h in runner.hooks if type(h).__name__ == policy)
    checkpoint_hook.max_keep_ckpts = 1
    fsync = os.fsync
    written = []

    def fsync_until_full(fd):
        written.append(os.readlink(f'/proc/self/fd/{fd}'))
        if len(written) == 3:  # epoch_1.pth, last_checkpoint, epoch_2.pth
            raise OSError(errno.ENOSPC, 'No space left on device')
        fsync(fd)

    monkeypatch.setattr(os, 'fsync', fsync_until_full)
    with pytest.raises(OSError, match='No space left'):
        runner.train()
    monkeypatch.setattr(os, 'fsync', fsync)
    assert [os.path.basename(p) for p in written] == [
        '.epoch_1.pth.tmp-%d' % os.getpid(),
        '.last_checkpoint.tmp-%d' % os.getpid(),
        '.epoch_2.pth.tmp-%d' % os.getpid()
    ]
    # besides the log folder (a time stamp)
    assert sorted(p for p in os.listdir(work)
                  if not p[0].isdigit()) == ['epoch_1.pth', 'last_checkpoint']
    assert (work / 'last_checkpoint').read_text() == str(work / 'epoch_1.pth')
    saved = torch.load(work / 'epoch_1.pth', weights_only=False)
    assert saved['meta']['epoch'] == 1

    resumed = make_runner(
        work,
        'resumed-after-full-disk',
        3,
        resume=True,
        checkpoint_hook=policy)
    resumed.train()
    assert resumed.epoch == 3 and resumed.iter == 12
