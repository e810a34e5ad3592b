# Copyright (c) off_plugin authors. All rights reserved.
"""The demos' way of running OpenMMLab's command line."""
import os
import os.path as osp
import subprocess
import sys

from off_plugin.compat import pythonwarnings
from off_plugin.utils import ToolError


def run_mim(*args: str, cwd: str) -> None:
    """Run ``mim <args>`` of this environment in ``cwd``, echoing the
    command, without the upstream warnings a user cannot act on; a
    :class:`~off_plugin.utils.ToolError` naming it if it fails (its own log
    is printed above)."""
    command = [osp.join(osp.dirname(sys.executable), 'mim'), *args]
    print('$', ' '.join(command), flush=True)
    env = dict(os.environ, PYTHONWARNINGS=pythonwarnings())
    if subprocess.run(command, cwd=cwd, env=env).returncode:
        raise ToolError(f'`{" ".join(command)}` failed: its log above names '
                        'the cause.')
