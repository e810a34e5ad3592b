# Copyright (c) off_plugin authors. All rights reserved.
"""The side-by-side timer, the report lines, the targets and the summary
every subcommand of ``benchmark.py`` prints."""
import os
import os.path as osp
import platform
import statistics
import time
from typing import Callable, Dict, List, NamedTuple, Optional

import torch

#: the configs, wherever the benchmark is run from
CONFIGS = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))),
    'configs')


def sync(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def side_by_side(calls: Dict[str, Callable[[int], None]], device: str,
                 warmup: int, repeats: int) -> Dict[str, dict]:
    """Time every ``call(round)`` once per round, in turn; the median
    seconds of the timed rounds and, on CUDA, the peak memory (MiB) of the
    first round."""
    times = {name: [] for name in calls}
    memory = {}
    for i in range(warmup + repeats):
        for name, call in calls.items():
            if i == 0 and device.startswith('cuda'):
                torch.cuda.reset_peak_memory_stats()
            sync(device)
            start = time.perf_counter()
            with torch.no_grad():
                call(i)
            sync(device)
            if i >= warmup:
                times[name].append(time.perf_counter() - start)
            if i == 0 and device.startswith('cuda'):
                memory[name] = torch.cuda.max_memory_allocated() / 2**20
    return {
        name: dict(seconds=statistics.median(spent), memory=memory.get(name))
        for name, spent in times.items()
    }


def name(config: str) -> str:
    """A config's file name without ``.py``: what the report calls it."""
    return osp.splitext(osp.basename(config))[0]


def report(title: str,
           results: Dict[str, dict],
           reference: str,
           unit: str,
           per_call: int,
           params: Optional[Dict[str, int]] = None,
           flops: Optional[Dict[str, float]] = None) -> None:
    """One line per model: time per call, ``unit``/s (``per_call`` of them
    a call), ratio to ``reference``, parameters, multiply-adds (G) a call,
    peak memory."""
    print(f'\n{title}')
    base = results[reference]['seconds']
    for name, result in results.items():
        seconds = result['seconds']
        line = (f'  {name:>28}: {seconds * 1e3:9.2f} ms, '
                f'{per_call / seconds:8.1f} {unit}/s, '
                f'x{seconds / base:.2f} of {reference}')
        if params and name in params:
            line += f', {params[name] / 1e6:.1f} M params'
        if flops and name in flops:
            line += f', {flops[name] / 1e9:.2f} GFLOPs'
        if result['memory'] is not None:
            line += f', peak memory {result["memory"]:.0f} MiB'
        print(line)


class Verdict(NamedTuple):
    """A ratio against its target; true when the target is met."""
    label: str
    ratio: float
    bound: str
    ok: bool

    def __bool__(self) -> bool:
        return self.ok


def target(label: str, ratio: float, bound: float, at_most: bool) -> Verdict:
    """Print a ``PASS`` / ``FAIL`` line for ``ratio`` against ``bound``."""
    ok = ratio <= bound if at_most else ratio >= bound
    verdict = Verdict(label, ratio, f'{"<=" if at_most else ">="} '
                      f'x{bound:.2f}', ok)
    print(f'{"PASS" if ok else "FAIL"}: {label}: x{ratio:.2f} '
          f'(target {verdict.bound})')
    return verdict


def machine(device: str) -> str:
    """The device the figures are for: CPU model, cores and threads."""
    if device.startswith('cuda'):
        return torch.cuda.get_device_name(device)
    name = platform.processor() or platform.machine()
    if osp.exists('/proc/cpuinfo'):
        with open('/proc/cpuinfo') as f:
            models = [
                line.split(':', 1)[1].strip() for line in f
                if line.startswith('model name')
            ]
        name = models[0] if models else name
    return (f'CPU {name}, {os.cpu_count()} cores, torch '
            f'{torch.__version__} with {torch.get_num_threads()} threads')


def summary(verdicts: List[Verdict], device: str) -> None:
    """The targets as a Markdown table (the README's), then the count."""
    print(f'\nTargets on {machine(device)}:\n')
    print('| ratio | measured | target | |\n|---|---|---|---|')
    for v in verdicts:
        print(f'| {v.label} | x{v.ratio:.2f} | {v.bound} | '
              f'{"PASS" if v.ok else "FAIL"} |')
    print(f'\n{sum(v.ok for v in verdicts)} of {len(verdicts)} targets met')


def count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


class TensorMode(torch.nn.Module):
    """``model`` in its tensor mode on ``inputs`` alone, for MMEngine's
    FLOP analysis (it traces a module called on tensors)."""

    def __init__(self, model: torch.nn.Module, data_samples=None) -> None:
        super().__init__()
        self.model = model
        self.data_samples = data_samples

    def forward(self, inputs: torch.Tensor):
        return self.model(inputs, self.data_samples, mode='tensor')


def flops(module: torch.nn.Module, inputs: torch.Tensor) -> float:
    """FLOPs of ``module(inputs)``, by MMEngine's analysis tools (which
    count a multiply-add as one FLOP)."""
    from mmengine.analysis import FlopAnalyzer
    analyzer = FlopAnalyzer(module, (inputs, ))
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    return analyzer.total()
