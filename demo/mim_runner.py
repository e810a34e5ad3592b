# Copyright (c) off_plugin authors. All rights reserved.
"""The demos' way of running OpenMMLab's command line."""
import copy
import os
import os.path as osp
import subprocess
import sys
from typing import Union

from mmengine.config import Config

from off_plugin.compat import pythonwarnings
from off_plugin.utils import ToolError, load_config


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


def mim_config(config: Union[str, Config], path: str, *options: dict) -> str:
    """Write ``config`` (a file or a loaded config) with ``options`` (dotted
    keys, e.g. a demo's ``--cfg-options``) merged in order to ``path``, the
    config of a ``mim train|test`` run; returns ``path``.

    The settings reach ``mim`` in a file rather than as ``--cfg-options``
    words: the host's tools parse those with mmengine's ``DictAction``,
    which deletes spaces, strips quotes and splits at commas, so a value
    made by a demo (a path, a class name) could arrive changed. A demo's
    own ``--cfg-options``, parsed by the same ``DictAction``, arrive as
    ``mim`` would have parsed them.
    """
    cfg = (
        load_config(config)
        if isinstance(config, str) else copy.deepcopy(config))
    for settings in options:
        cfg.merge_from_dict(settings)
    os.makedirs(osp.dirname(path), exist_ok=True)
    cfg.dump(path)
    return path
