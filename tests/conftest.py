# Copyright (c) off_plugin authors. All rights reserved.
"""The suite imports every task (and with it the compat fixes) before any
test module imports a host package, and reaches the tool-only code where it
lives: demo/ and the sub-folders of tools/, as their scripts do."""
import sys
from pathlib import Path

import off_plugin.all_tasks  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
for folder in ('demo', 'tools/data', 'tools/dataset_converters',
               'tools/model_converters', 'tools/analysis_tools',
               'tools/deployment'):
    if str(ROOT / folder) not in sys.path:
        sys.path.append(str(ROOT / folder))
