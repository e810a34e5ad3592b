# Copyright (c) off_plugin authors. All rights reserved.
"""Every task whose host is installed: ``custom_imports=dict(imports=[
'off_plugin.all_tasks'])``. A task whose host is missing is skipped;
importing it (``off_plugin.<task>``) names the package it needs."""
import importlib

from .utils.hosts import TASKS, host_installed

#: the tasks imported here, in order
IMPORTED = tuple(task for task in TASKS if host_installed(task))

for _task in IMPORTED:
    importlib.import_module(f'{__package__}.{_task}')
