# Copyright (c) off_plugin authors. All rights reserved.
"""Which host package each task of the plugin needs."""
import importlib
import importlib.util

import wrapt

#: task -> (the host's import name, its distribution)
TASKS = {
    'recognition': ('mmaction', 'mmaction2'),
    'detection': ('mmdet', 'mmdet'),
    'restoration': ('mmagic', 'mmagic'),
}


def host_installed(task: str) -> bool:
    """Whether the host package of ``task`` can be imported."""
    return importlib.util.find_spec(TASKS[task][0]) is not None


def require_host(task: str) -> None:
    """Raise an ImportError naming the missing host of ``task`` and the
    extra that installs it."""
    if not host_installed(task):
        package, dist = TASKS[task]
        raise ImportError(
            f'off_plugin.{task} needs {dist} (import name {package}), which '
            f'is not installed: pip install "off_plugin[{task}]" or bash '
            f'tools/setup_env.sh --task {task}.',
            name=package)


def import_with(module: str, host_module: str) -> None:
    """Import ``module`` (one of the plugin's) as soon as ``host_module`` is
    imported, or now if it is already: what registers in a registry of
    ``host_module`` is there when the registry imports it to build a
    config's component, without costing a task that does not use it the
    host module's import time."""
    wrapt.register_post_import_hook(lambda _: importlib.import_module(module),
                                    host_module)
