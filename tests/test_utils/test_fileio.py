# Copyright (c) off_plugin authors. All rights reserved.
"""atomic_write: the old file or the whole new one, never a part, and no
temporary left behind."""
import errno
import os
import subprocess
import sys

import pytest

from off_plugin.utils.fileio import (atomic_write, remove_stale_temporaries,
                                     temporary_path)


def write(path, text):
    with atomic_write(str(path)) as tmp, open(tmp, 'w') as f:
        f.write(text)


def test_writes_the_file_through_a_hidden_temporary(tmp_path):
    out = tmp_path / 'out.json'
    with atomic_write(str(out), suffix='.json') as tmp:
        assert tmp == str(tmp_path / f'.out.json.tmp-{os.getpid()}.json')
        with open(tmp, 'w') as f:
            f.write('new')
        assert not out.exists()
    assert out.read_text() == 'new'
    assert os.listdir(tmp_path) == ['out.json']
    write(out, 'newer')  # replaces it
    assert out.read_text() == 'newer'
    assert os.listdir(tmp_path) == ['out.json']


@pytest.mark.parametrize('error', [RuntimeError, KeyboardInterrupt])
def test_failure_mid_write_keeps_the_old_file_and_no_temporary(
        tmp_path, error):
    out = tmp_path / 'out.pth'
    out.write_text('old')
    with pytest.raises(error):
        with atomic_write(str(out)) as tmp, open(tmp, 'w') as f:
            f.write('part of the new')
            raise error
    assert out.read_text() == 'old'
    assert os.listdir(tmp_path) == ['out.pth']


def test_full_disk_at_the_flush_keeps_the_old_file(tmp_path, monkeypatch):
    out = tmp_path / 'out.pth'
    out.write_text('old')

    def fsync(fd):
        raise OSError(errno.ENOSPC, 'No space left on device')

    monkeypatch.setattr(os, 'fsync', fsync)
    with pytest.raises(OSError, match='No space left'):
        write(out, 'new')
    assert out.read_text() == 'old'
    assert os.listdir(tmp_path) == ['out.pth']


def test_a_folder_is_replaced_whole_or_not_at_all(tmp_path):
    out = tmp_path / 'clip'
    out.mkdir()
    (out / 'im1.png').write_text('old')
    (out / 'im2.png').write_text('old')
    with atomic_write(str(out)) as tmp:
        os.makedirs(tmp)
        with open(os.path.join(tmp, 'im1.png'), 'w') as f:
            f.write('new')
    assert os.listdir(out) == ['im1.png']
    assert (out / 'im1.png').read_text() == 'new'
    with pytest.raises(KeyboardInterrupt):
        with atomic_write(str(out)) as tmp:
            os.makedirs(tmp)
            with open(os.path.join(tmp, 'im1.png'), 'w') as f:
                f.write('part')
            raise KeyboardInterrupt
    assert (out / 'im1.png').read_text() == 'new'
    assert os.listdir(tmp_path) == ['clip']


def test_two_processes_write_to_distinct_temporaries(tmp_path):
    """Two writers of one path at once do not share or delete each other's
    temporary; one a killed writer left is deleted by the next writer."""
    out = str(tmp_path / 'model.onnx')
    code = ('import sys; from off_plugin.utils.fileio import temporary_path; '
            'print(temporary_path(sys.argv[1]))')
    theirs = subprocess.run([sys.executable, '-c', code, out],
                            capture_output=True,
                            text=True,
                            check=True).stdout.strip()
    dead = int(theirs.rsplit('-', 1)[1])
    assert theirs == str(tmp_path / f'.model.onnx.tmp-{dead}')
    assert temporary_path(out) != theirs

    running = tmp_path / f'.model.onnx.tmp-{os.getppid()}'  # alive
    killed = tmp_path / f'.model.onnx.tmp-{dead}'  # exited
    killed_dir = tmp_path / f'.model.onnx.tmp-{dead}.old'
    other = tmp_path / f'.other.onnx.tmp-{dead}'
    for path in (running, killed, other):
        path.write_text('part')
    killed_dir.mkdir()
    remove_stale_temporaries(out)
    assert sorted(os.listdir(tmp_path)) == sorted([running.name, other.name])
