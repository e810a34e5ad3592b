# Copyright (c) off_plugin authors. All rights reserved.
"""tools/benchmark.py: the side-by-side timer, the PASS / FAIL lines and the
``unit`` subcommand on short videos."""
import os.path as osp
import re
import runpy

TOOL = osp.join(osp.dirname(osp.dirname(osp.dirname(__file__))), 'tools',
                'benchmark.py')


def test_side_by_side_times_each_call_in_turn_and_takes_the_median():
    tool = runpy.run_path(TOOL)
    calls = []
    results = tool['side_by_side'](
        {'a': lambda i: calls.append(('a', i)),
         'b': lambda i: calls.append(('b', i))}, 'cpu', warmup=1, repeats=3)
    assert calls == [(name, i) for i in range(4) for name in 'ab']
    assert set(results) == {'a', 'b'}
    assert all(r['seconds'] >= 0 and r['memory'] is None
               for r in results.values())


def test_targets_print_pass_and_fail(capsys):
    tool = runpy.run_path(TOOL)
    assert tool['target']('x', 1.2, 1.25, at_most=True)
    assert not tool['target']('y', 0.8, 0.85, at_most=False)
    out = capsys.readouterr().out.splitlines()
    assert out == ['PASS: x: x1.20 (target <= x1.25)',
                   'FAIL: y: x0.80 (target >= x0.85)']


def test_unit_benchmark_reports_every_level_with_a_verdict(capsys):
    tool = runpy.run_path(TOOL)
    tool['main'](['unit', '--segments', '3', '--repeats', '1',
                  '--warmup', '0'])
    out = capsys.readouterr().out
    verdicts = re.findall(r'^(PASS|FAIL): OFF at (\d+) px', out, re.M)
    assert [level for _, level in verdicts] == ['28', '14', '7']
    ratios = re.findall(r'OFF \(reduced features\):.* x([\d.]+) of memory',
                        out)
    assert len(ratios) == 3 and all(float(r) > 0 for r in ratios)
    assert re.search(r'^\d of 3 targets met$', out, re.M)
