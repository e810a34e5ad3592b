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
        [sys.executable, '-c',
         REPORT.format(imports='\n'.join(lines))],
        capture_output=True,
        text=True,
        timeout=300)
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


#: runs pytest on argv[2:] where the comma-separated packages of argv[1]
#: cannot be imported (as where they are not installed)
WITHOUT_HOSTS = """
import importlib.abc, sys
import pytest

BLOCKED = tuple(sys.argv.pop(1).split(','))

class NoHosts(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.startswith(BLOCKED):
            raise ModuleNotFoundError(f'No module named {name!r}', name=name)

sys.meta_path.insert(0, NoHosts())
code = pytest.main(sys.argv[1:])
print('hosts imported:', sorted(m for m in sys.modules
                                if m.startswith(BLOCKED)))
sys.exit(code)
"""


@pytest.mark.slow
def test_the_core_tests_run_with_torch_and_mmengine_alone():
    """The core tier, ``pytest tests/test_core``, in a process where the
    hosts and mmcv cannot be imported: the suite's conftest imports none."""
    result = subprocess.run([
        sys.executable, '-c', WITHOUT_HOSTS, 'mmaction,mmdet,mmagic,mmcv',
        'tests/test_core', '-q', '-p', 'no:cacheprovider', '-p', 'no:xdist'
    ],
                            capture_output=True,
                            text=True,
                            timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert ' passed' in result.stdout and ' failed' not in result.stdout
    assert 'hosts imported: []' in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize('task,others', [('recognition', 'mmdet,mmagic'),
                                         ('detection', 'mmaction,mmagic'),
                                         ('restoration', 'mmaction,mmdet')])
def test_a_task_tier_imports_only_its_host(task, others):
    """``tests/test_<task>`` is collected (every test module imported) in a
    process where the other hosts cannot be imported."""
    result = subprocess.run([
        sys.executable, '-c', WITHOUT_HOSTS, others, f'tests/test_{task}',
        '--collect-only', '-q', '-p', 'no:cacheprovider', '-p', 'no:xdist'
    ],
                            capture_output=True,
                            text=True,
                            timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert ' collected' in result.stdout
    assert 'hosts imported: []' in result.stdout
