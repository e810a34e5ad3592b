# Copyright (c) off_plugin authors. All rights reserved.
"""Each upstream fix is reproduced in fresh interpreters: the bug without
the fix (upstream as released) and the fixed behaviour with it."""
import subprocess
import sys
import textwrap

import pytest

#: what a script runs first to apply one fix of off_plugin.compat
APPLY = '''
import importlib
fix = getattr(importlib.import_module('off_plugin.compat.{module}'), {name!r})
assert fix()
'''


@pytest.fixture
def reproduce(tmp_path):
    """``reproduce(fix, code)``: the last line ``code`` printed in a fresh
    interpreter (working directory ``tmp_path``), ``fix`` (a function of
    ``off_plugin.compat``) applied first or, with ``fix=None``, not."""

    def run(fix, code: str, env=None) -> str:
        script = textwrap.dedent(code)
        if fix is not None:
            module = fix.__module__.rpartition('.')[2]
            script = APPLY.format(module=module, name=fix.__name__) + script
        proc = subprocess.run([sys.executable, '-c', script],
                              capture_output=True,
                              text=True,
                              timeout=600,
                              cwd=tmp_path,
                              env=env)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.strip().splitlines()[-1]

    return run
