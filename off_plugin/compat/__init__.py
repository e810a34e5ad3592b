# Copyright (c) off_plugin authors. All rights reserved.
"""Fixes for bugs of the pinned OpenMMLab releases on today's torch and numpy.

mmengine 0.10.7, mmcv 2.1.0, mmdet 3.3.0, mmaction2 1.2.0 and mmagic 1.2.0
are the last releases; they predate torch 2.6. ``import off_plugin`` calls
:func:`apply_all` once, before anything imports the hosts' model packages, so
a config needs nothing but ``custom_imports=dict(imports=['off_plugin'])``.

One module per host: every fix names the upstream bug it covers and when it
can be deleted. Fixes that need no code are pins in
``requirements/constraints.txt``.
"""
from .upstream_warnings import (UPSTREAM_WARNINGS, pythonwarnings,
                                silence_upstream_warnings)

# First, before the modules below import the hosts (and through them
# diffusers and timm).
silence_upstream_warnings()

from .mmaction import (MissingDRN, check_annotation_files,  # noqa: E402
                       check_labels_in_heads, fill_mmaction_drn_hole,
                       name_files_in_decoding_errors, pack_num_clips)
from .mmagic import silence_albumentations_update_check  # noqa: E402
from .mmdet import repr_of_pack_track_inputs  # noqa: E402
from .mmengine import (allow_mmengine_checkpoints,  # noqa: E402
                       atomic_checkpoints, history_buffer_method,
                       load_url_checkpoints_weights_only,
                       mmengine_checkpoint_types, resume_exactly,
                       run_distributed_on_cpu)


__all__ = [
    'MissingDRN', 'UPSTREAM_WARNINGS', 'allow_mmengine_checkpoints',
    'apply_all', 'atomic_checkpoints', 'check_annotation_files',
    'check_labels_in_heads',
    'fill_mmaction_drn_hole', 'history_buffer_method',
    'load_url_checkpoints_weights_only',
    'mmengine_checkpoint_types', 'name_files_in_decoding_errors',
    'pack_num_clips',
    'pythonwarnings', 'repr_of_pack_track_inputs', 'resume_exactly',
    'run_distributed_on_cpu',
    'silence_albumentations_update_check', 'silence_upstream_warnings'
]


def apply_all() -> None:
    """Apply every fix; safe to call more than once."""
    silence_upstream_warnings()
    silence_albumentations_update_check()
    fill_mmaction_drn_hole()
    allow_mmengine_checkpoints()
    load_url_checkpoints_weights_only()
    atomic_checkpoints()
    resume_exactly()
    name_files_in_decoding_errors()
    check_annotation_files()
    check_labels_in_heads()
    pack_num_clips()
    run_distributed_on_cpu()
    repr_of_pack_track_inputs()
