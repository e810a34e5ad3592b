# Copyright (c) off_plugin authors. All rights reserved.
"""``benchmark.py unit``: the OFF unit of each level of the paper's network
against its memory floor."""
from typing import List

import torch

from off_plugin.core import OFFUnit
from .timing import Verdict, report, side_by_side, target

# The OFF units of the paper's RGB network at 224 px, 25 segments: the
# concatenated inception maps of each level and the lower level's output.
UNIT_LEVELS = {
    '28 px (3a, 3b)': dict(in_channels=576, lower_channels=0, size=28),
    '14 px (3c, 4a-4d)': dict(in_channels=2944, lower_channels=256, size=14),
    '7 px (5a, 5b)': dict(in_channels=2048, lower_channels=512, size=7),
}


def memory_floor(inputs: torch.Tensor, out_numel: int) -> torch.Tensor:
    """What any unit must at least do: read its input and write an output
    of ``out_numel`` elements (copies of the input, concatenated)."""
    flat = inputs.flatten()
    copies = -(-out_numel // flat.numel())
    return torch.cat([flat] * copies)[:out_numel]


def time_level(level: str, shape: dict, args) -> List[Verdict]:
    """Time the unit of one level on ``--segments`` segments: the memory
    floor, the OFF on reduced features, the whole unit and, with
    ``--compile``, the OFF with compile=True; the targets of the OFF."""
    size = shape['size']
    off = OFFUnit(
        shape['in_channels'],
        lower_channels=shape['lower_channels']).to(args.device).eval()
    feats = torch.randn(
        1, args.segments, shape['in_channels'], size, size, device=args.device)
    lower = torch.randn(1, args.segments - 1, shape['lower_channels'], size,
                        size, device=args.device) \
        if shape['lower_channels'] else None
    # the OFF alone: the same unit on already reduced features
    bare = OFFUnit(
        128, lower_channels=shape['lower_channels']).to(args.device).eval()
    bare.reduce = torch.nn.Identity()
    reduced = torch.relu(
        torch.randn(1, args.segments, 128, size, size, device=args.device))
    out_numel = off(feats, lower).numel()
    calls = {
        'memory floor': lambda i: memory_floor(reduced, out_numel),
        'OFF (reduced features)': lambda i: bare(reduced, lower),
        'OFF unit (with 1x1 conv)': lambda i: off(feats, lower),
    }
    if args.compile:  # the config's opt-in: OFFUnit(compile=True)
        compiled = OFFUnit(
            128, lower_channels=shape['lower_channels'],
            compile=True).to(args.device).eval()
        compiled.reduce = torch.nn.Identity()
        with torch.no_grad():  # compiles, out of the timed calls
            compiled(reduced, lower)
        calls['OFF, compile=True'] = lambda i: compiled(reduced, lower)
    results = side_by_side(calls, args.device, args.warmup, args.repeats)
    report(
        f'unit, level {level}: in ({args.segments}, '
        f'{shape["in_channels"]}, {size}, {size}), out '
        f'{out_numel * 4 / 2**20:.1f} MiB, median of {args.repeats}', results,
        'memory floor', 'videos', 1)
    floor = results['memory floor']['seconds']
    verdicts = [
        target(
            f'OFF at {level} / its memory floor',
            results['OFF (reduced features)']['seconds'] / floor,
            2.,
            at_most=True)
    ]
    if args.compile:
        verdicts.append(
            target(
                f'OFF at {level}, compile=True / its memory floor',
                results['OFF, compile=True']['seconds'] / floor,
                2.,
                at_most=True))
    return verdicts


def run(args) -> List[Verdict]:
    """The OFF unit of each level of the paper's network (1 video, 25
    segments) against its memory floor: the whole unit (with its 1x1
    reduction, a learned convolution) and the OFF itself (gradients,
    difference and concatenation on the reduced features)."""
    return [
        verdict for level, shape in UNIT_LEVELS.items()
        for verdict in time_level(level, shape, args)
    ]
