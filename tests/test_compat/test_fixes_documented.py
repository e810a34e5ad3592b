# Copyright (c) off_plugin authors. All rights reserved.
"""The upstream fixes page lists exactly the fixes in off_plugin.compat's
tables (each module's ``FIXES``), each with the release it was written for
and its upstream reference as the fix declares them, and its reproduction:
a test of tests/test_compat/ that runs without the fix and with it."""
import importlib
import re
from pathlib import Path

from off_plugin.compat import TASK_FIXES
from off_plugin.startup import BEFORE_IMPORT

HERE = Path(__file__).resolve().parent
PAGE = HERE.parents[1] / 'docs' / 'advanced_guides' / 'upstream_fixes.md'


def documented_rows() -> dict:
    """fix name -> (host release, reproduction, upstream reference) of the
    page's table"""
    rows = {}
    for line in PAGE.read_text().splitlines():
        cells = [
            cell.strip().replace('`', '')
            for cell in line.strip('|').split('|')
        ]
        if len(cells) == 6 and re.fullmatch(r'\w+\.\w+', cells[1]):
            rows[cells[1]] = (cells[0], cells[3], cells[4])
    return rows


def test_every_fix_is_on_the_page_and_nothing_else():
    modules = {m for ms in TASK_FIXES.values() for m in ms}
    # and those off_plugin.startup applies in every process (openmim)
    modules |= {
        fix.partition(':')[0].rpartition('.')[2]
        for fixes in BEFORE_IMPORT.values()
        for fix in fixes
    }
    fixes = {
        f'{m}.{fix.__name__}': fix
        for m in sorted(modules)
        for fix in importlib.import_module(f'off_plugin.compat.{m}').FIXES
    }
    rows = documented_rows()
    assert sorted(rows) == sorted(fixes)
    for name, fix in fixes.items():
        release, reproduction, upstream = rows[name]
        assert release == f'{fix.dist} {fix.version}', name
        if fix.upstream:
            assert fix.upstream in upstream, name
        # the reproduction is a test of the fix's host's test file
        filename, _, test = reproduction.partition('::')
        assert filename == f'test_{name.split(".")[0]}.py', reproduction
        assert f'def {test}(' in (HERE / filename).read_text(), reproduction
