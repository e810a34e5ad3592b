# Copyright (c) off_plugin authors. All rights reserved.
"""The demos' way of running OpenMMLab's command line."""
import os.path as osp
import subprocess
import sys


def run_mim(*args: str, cwd: str) -> None:
    """Run ``mim <args>`` of this environment in ``cwd``, echoing the
    command; exit naming it if it fails (its own log is printed above)."""
    command = [osp.join(osp.dirname(sys.executable), 'mim'), *args]
    print('$', ' '.join(command), flush=True)
    if subprocess.run(command, cwd=cwd).returncode:
        sys.exit(f'`{" ".join(command)}` failed (its log is above).')
