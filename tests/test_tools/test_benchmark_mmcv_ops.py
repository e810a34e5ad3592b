# Copyright (c) off_plugin authors. All rights reserved.
"""tools/analysis_tools/benchmark_mmcv_ops.py prints one line naming the
build it timed and both figures."""
import re
import subprocess
import sys
from pathlib import Path

import mmcv._ext
import pytest

TOOL = (
    Path(__file__).resolve().parents[2] / 'tools' / 'analysis_tools' /
    'benchmark_mmcv_ops.py')


@pytest.mark.slow
def test_prints_the_build_and_both_timings():
    out = subprocess.run(
        [sys.executable,
         str(TOOL), '--repeats', '1', '--threads', '1'],
        capture_output=True,
        text=True,
        timeout=300,
        check=True).stdout
    build = ('compiled mmcv'
             if mmcv._ext.__file__.endswith('.so') else 'off-mmcv-ext')
    assert out.startswith(f'{build} on cpu (1 threads, median of 1)')
    times = re.findall(r'([0-9.]+) ms', out)
    assert len(times) == 2 and all(float(t) > 0 for t in times)
