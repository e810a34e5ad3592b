# Copyright (c) off_plugin authors. All rights reserved.
"""Writing a file or a folder whole or not at all: the one way every writer
of the package and its tools writes its outputs."""
import contextlib
import os
import os.path as osp
import re
import shutil
from typing import Iterator


def temporary_path(path: str, suffix: str = '') -> str:
    """Where this process writes ``path`` first: ``.<name>.tmp-<pid>`` and
    ``suffix`` beside it (same folder, so same file system)."""
    directory, name = osp.split(osp.abspath(path))
    return osp.join(directory, f'.{name}.tmp-{os.getpid()}{suffix}')


def _remove(path: str) -> None:
    if osp.isdir(path) and not osp.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            os.remove(path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: no signal, only the existence check
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's
        return True
    return True


def remove_stale_temporaries(path: str) -> None:
    """Delete the temporaries of ``path`` that writers which are no longer
    running left (killed ones): those of a live process stay."""
    directory, name = osp.split(osp.abspath(path))
    pattern = re.compile(re.escape(f'.{name}.tmp-') + r'(\d+)')
    with contextlib.suppress(FileNotFoundError):
        for entry in os.listdir(directory):
            match = pattern.match(entry)
            if match and (int(match[1]) == os.getpid()
                          or not _alive(int(match[1]))):
                _remove(osp.join(directory, entry))


def _fsync(path: str) -> None:
    """Flush a file, or every file of a folder, to disk."""
    files = [path] if not osp.isdir(path) else [
        osp.join(root, name) for root, _, names in os.walk(path)
        for name in names
    ]
    for file in files:
        with open(file, 'rb+') as f:
            os.fsync(f.fileno())


@contextlib.contextmanager
def atomic_write(path: str, suffix: str = '') -> Iterator[str]:
    """Yield a temporary path (:func:`temporary_path`) to write ``path``
    to, a file or a folder; when the block ends, flush it to disk and
    rename it to ``path``, so readers see the old ``path`` or the whole new
    one, never a part. A block that raises (``KeyboardInterrupt`` too)
    leaves ``path`` as it was and no temporary.

    ``suffix`` ends the temporary name, for writers that choose a format by
    the extension (``'.mp4'`` for OpenCV's ``VideoWriter``). A folder
    replaces the old folder ``path`` in two renames (POSIX cannot swap
    folders in one). Temporaries of ``path`` left by killed writers are
    deleted first.

    Example::

        with atomic_write('out.json') as tmp, open(tmp, 'w') as f:
            json.dump(results, f)
    """
    remove_stale_temporaries(path)
    tmp = temporary_path(path, suffix)
    try:
        yield tmp
        _fsync(tmp)
        if osp.isdir(tmp) and osp.isdir(path):
            old = temporary_path(path, '.old')
            os.replace(path, old)
            try:
                os.replace(tmp, path)
            except BaseException:
                os.replace(old, path)
                raise
            _remove(old)
        else:
            os.replace(tmp, path)
    except BaseException:
        _remove(tmp)
        raise
