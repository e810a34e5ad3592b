# Copyright (c) off_plugin authors. All rights reserved.
"""``benchmark.py import``: the import cost of each task's entry point
against its host's models package."""
import os
import statistics
import subprocess
import sys
from typing import List

from .timing import Verdict, report, target

#: task -> (the host's models package, what it needs first): for
#: MMAction2, the plugin's fix of its missing DRN package (without it
#: ``import mmaction.models`` fails). The fix is timed with the import:
#: run untimed, it would load numpy and part of mmengine outside the clock
#: and flatter the baseline by about 10%.
HOST_MODELS = {
    'recognition': ('mmaction.models', 'from off_plugin.compat.mmaction '
                    'import fill_mmaction_drn_hole; fill_mmaction_drn_hole()'),
    'detection': ('mmdet.models', ''),
    'restoration': ('mmagic.models', ''),
}
#: what a fresh interpreter prints after importing a module: the seconds the
#: import (with its set-up) took and the modules then loaded
IMPORT_PROBE = """
import sys, time
start = time.perf_counter()
{setup}
import {module}
print(time.perf_counter() - start, len(sys.modules))
"""


def time_import(module: str, setup: str = '') -> tuple:
    """Seconds of ``setup`` and ``import <module>`` in a fresh interpreter
    and the number of modules loaded then."""
    done = subprocess.run([
        sys.executable, '-c',
        IMPORT_PROBE.format(setup=setup, module=module)
    ],
                          capture_output=True,
                          text=True,
                          env=dict(os.environ, PYTHONWARNINGS='ignore'))
    if done.returncode:
        raise RuntimeError(f'import {module} failed in a fresh '
                           f'interpreter:\n{done.stderr}')
    seconds, modules = done.stdout.split()[-2:]
    return float(seconds), int(modules)


def run(args) -> List[Verdict]:
    """Import cost of each task's entry point against its host's models
    package alone: fresh interpreters, taking turns, median of
    ``--repeats`` after ``--warmup`` rounds (which fill the OS's file
    cache)."""
    verdicts = []
    for task, (host, setup) in HOST_MODELS.items():
        probes = {
            f'import {host}': (host, setup),
            f'import off_plugin.{task}': (f'off_plugin.{task}', '')
        }
        times = {name: [] for name in probes}
        modules = {}
        for i in range(args.warmup + args.repeats):
            for name, (module, before) in probes.items():
                seconds, modules[name] = time_import(module, before)
                if i >= args.warmup:
                    times[name].append(seconds)
        results = {
            name: dict(seconds=statistics.median(spent), memory=None)
            for name, spent in times.items()
        }
        report(f'{task}: a fresh interpreter, median of {args.repeats}',
               results, f'import {host}', 'imports', 1)
        for name, loaded in modules.items():
            print(f'  {name:>28}: {loaded} modules loaded')
        plugin, base = (
            results[name]['seconds']
            for name in (f'import off_plugin.{task}', f'import {host}'))
        verdicts.append(
            target(
                f'import off_plugin.{task} / import {host}',
                plugin / base,
                1.05,
                at_most=True))
    return verdicts
