# Copyright (c) off_plugin authors. All rights reserved.
"""The upstream fixes page lists exactly the fixes in off_plugin.compat's
tables (each module's ``FIXES``), each with the release it was written for
and its upstream reference as the fix declares them."""
import importlib
import re
from pathlib import Path

from off_plugin.compat import TASK_FIXES

PAGE = (Path(__file__).resolve().parents[2] / 'docs' / 'advanced_guides' /
        'upstream_fixes.md')


def documented_rows() -> dict:
    """fix name -> (host release, upstream reference) of the page's table"""
    rows = {}
    for line in PAGE.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip('|').split('|')]
        if len(cells) == 5 and re.fullmatch(r'`\w+\.\w+`', cells[1]):
            rows[cells[1].strip('`')] = (cells[0], cells[3].replace('`', ''))
    return rows


def test_every_fix_is_on_the_page_and_nothing_else():
    modules = sorted({m for ms in TASK_FIXES.values() for m in ms})
    fixes = {
        f'{m}.{fix.__name__}': fix
        for m in modules
        for fix in importlib.import_module(f'off_plugin.compat.{m}').FIXES
    }
    rows = documented_rows()
    assert sorted(rows) == sorted(fixes)
    for name, fix in fixes.items():
        release, upstream = rows[name]
        assert release == f'{fix.dist} {fix.version}', name
        if fix.upstream:
            assert fix.upstream in upstream, name
