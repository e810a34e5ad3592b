# Copyright (c) off_plugin authors. All rights reserved.
"""What each import of the package imports, in a fresh interpreter: one task
per entry point, every installed task through ``off_plugin.all_tasks``."""
import json
import subprocess
import sys

import pytest

REPORT = """
import json, sys
{imports}
print(json.dumps(dict(
    tasks=sorted(m.split('.')[1] for m in sys.modules
                 if m.count('.') == 1 and m.split('.')[1] in
                 ('recognition', 'detection', 'restoration')
                 and m.startswith('off_plugin.')),
    hosts=sorted(h for h in ('mmaction', 'mmdet', 'mmagic')
                 if h in sys.modules))))
"""


def imported_by(*lines: str) -> dict:
    result = subprocess.run(
        [sys.executable, '-c', REPORT.format(imports='\n'.join(lines))],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize('line', [
    'import off_plugin.recognition', 'from off_plugin import recognition',
    'import off_plugin; off_plugin.recognition.OFFRecognizer'
])
def test_one_task_imports_that_task_and_its_host_only(line):
    result = imported_by(line)
    # (mmaction.models itself imports mmdet where it is installed)
    assert result['tasks'] == ['recognition']
    assert 'mmaction' in result['hosts'] and 'mmagic' not in result['hosts']


@pytest.mark.slow
def test_the_package_alone_imports_no_task():
    assert imported_by('import off_plugin') == dict(tasks=[], hosts=[])


@pytest.mark.slow
def test_all_tasks_imports_every_installed_task():
    assert imported_by('import off_plugin.all_tasks') == dict(
        tasks=['detection', 'recognition', 'restoration'],
        hosts=['mmaction', 'mmagic', 'mmdet'])


def test_unknown_attribute_is_an_attribute_error():
    import off_plugin
    with pytest.raises(AttributeError, match="no attribute 'recogniton'"):
        off_plugin.recogniton
