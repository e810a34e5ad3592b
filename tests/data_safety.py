# Copyright (c) off_plugin authors. All rights reserved.
"""Checksums of a user's folder, to prove that a tool reads it and writes
into it only what it documents."""
import hashlib
import subprocess
import sys
from pathlib import Path
from typing import Dict, Iterable, Sequence

ROOT = Path(__file__).resolve().parent.parent


def checksums(root: Path) -> Dict[str, str]:
    """sha256 of every file under ``root`` (and the mode of every file and
    folder), by path relative to ``root``."""
    root = Path(root)
    sums = {}
    for path in sorted(root.rglob('*')):
        rel = str(path.relative_to(root))
        mode = oct(path.lstat().st_mode)
        if path.is_file() and not path.is_symlink():
            sums[rel] = (hashlib.sha256(path.read_bytes()).hexdigest(), mode)
        else:
            sums[rel] = (None, mode)
    return sums


def assert_unchanged(before: Dict[str, str],
                     root: Path,
                     documented: Iterable[str] = ()) -> None:
    """Every file and folder of ``before`` is still there, byte for byte;
    anything new lies under one of the ``documented`` sub-paths."""
    after = checksums(root)
    changed = [k for k in before if after.get(k) != before[k]]
    assert not changed, f'changed or removed: {changed[:5]}'
    documented = tuple(documented)
    new = [
        k for k in after
        if k not in before and not any(k == d or k.startswith(d + '/')
                                       for d in documented)
    ]
    assert not new, f'undocumented new files: {new[:5]}'


def tool_path(name: str) -> Path:
    """The script ``name`` (e.g. ``'motion_demo.py'``) where it lives:
    ``demo/`` or a sub-folder of ``tools/``."""
    found = [*ROOT.glob(f'demo/{name}'), *ROOT.glob(f'tools/*/{name}')]
    assert len(found) == 1, f'{name}: {found}'
    return found[0]


def run_tool(tool: str,
             *args: str,
             cwd: Path = ROOT,
             timeout: float = 600) -> subprocess.CompletedProcess:
    """``python <demo or tools/...>/<tool> args`` in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, str(tool_path(tool)), *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout)


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments:
                          str) -> None:
    """Exit status 1 and, as the last line of stderr, one line naming
    ``fragments`` (the file, the field, the fix); no traceback."""
    assert result.returncode == 1, (result.returncode, result.stderr[-2000:])
    assert 'Traceback' not in result.stderr, result.stderr[-2000:]
    line = result.stderr.strip().splitlines()[-1]
    assert ': error: ' in line, line
    for fragment in fragments:
        assert fragment in line, (fragment, line)


def kill_after(command: Sequence[str],
               marker: Path,
               cwd: Path = ROOT,
               timeout: float = 300) -> int:
    """Start ``command``, SIGKILL it once ``marker`` exists; its return
    code (negative: killed)."""
    import time
    proc = subprocess.Popen(
        list(map(str, command)),
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        if Path(marker).exists():
            proc.kill()
            break
        time.sleep(0.05)
    return proc.wait()


def mim_in_process(command: str, host: str, config: str, *args: str,
                   cwd: str) -> None:
    """A stand-in for :func:`mim_runner.run_mim` in the demos' tests:
    what ``mim train|test <host> CONFIG ARGS`` runs (the host's
    ``.mim/tools/<command>.py`` with ``--launcher none``, ``mim test``'s
    ``--checkpoint`` as the script's second argument), in this process. A
    fresh interpreter imports the three hosts (10-15 s on 2 cores); the
    scripts write what they write under mim."""
    import importlib
    import os
    import runpy
    script = str(
        Path(importlib.import_module(host).__file__).parent / '.mim' /
        'tools' / f'{command}.py')
    args, positional = list(args), [config]
    if command == 'test':
        at = args.index('--checkpoint')
        positional.append(args[at + 1])
        del args[at:at + 2]
    argv, here = sys.argv, os.getcwd()
    sys.argv = [script, *positional, '--launcher', 'none', *args]
    os.chdir(cwd)
    try:
        runpy.run_path(script, run_name='__main__')
    finally:
        sys.argv = argv
        os.chdir(here)
