# Copyright (c) off_plugin authors. All rights reserved.
"""The suite in tiers by host. This file imports no host: the core's tests
(``tests/test_core``) run with torch and mmengine alone, and each task's
folder imports its task in its own ``conftest.py`` (and with it the
upstream fixes, before any test module imports the host); the folders that
span the tasks (engine, deployment, tools, the package) import
``off_plugin.all_tasks``.

Every test is marked by its folder (``test_core`` -> ``core``), and by the
task its file is named after (``test_deployment/test_recognition.py`` ->
``recognition`` too), so ``pytest -m recognition`` runs one task.

The tool-only code is reached where it lives: demo/ and the sub-folders of
tools/, as their scripts do.
"""
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
for folder in ('demo', 'tools/data', 'tools/dataset_converters',
               'tools/model_converters', 'tools/analysis_tools',
               'tools/deployment'):
    if str(ROOT / folder) not in sys.path:
        sys.path.append(str(ROOT / folder))

TASKS = ('recognition', 'detection', 'restoration')


def pytest_collection_modifyitems(items) -> None:
    """Mark every test by its folder and the tasks its file is named after;
    then put the whole-process tests (``slow``) first, in their order, so
    that two workers (``make test``) start the longest files first and do
    not end waiting on one of them."""
    for item in items:
        path = Path(item.fspath).relative_to(ROOT / 'tests')
        folder = path.parts[0] if len(path.parts) > 1 else 'test_package'
        item.add_marker(getattr(pytest.mark, folder.removeprefix('test_')))
        for task in TASKS:
            if task in path.stem and task != folder.removeprefix('test_'):
                item.add_marker(getattr(pytest.mark, task))
    items.sort(key=lambda item: item.get_closest_marker('slow') is None)
