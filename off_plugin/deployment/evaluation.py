# Copyright (c) off_plugin authors. All rights reserved.
"""The config's own data for an exported model: calibration samples for the
int8 quantizer and the config's metric on a split, as mmengine's ``ValLoop``
computes it, with an exported file in the place of the model.

Imports mmengine only; each task's deployment module adds what its host
packs (``calibration_inputs``, the runners' ``test_step``).
"""
import copy
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import EVALUATOR, init_default_scope
from mmengine.runner import Runner
from torch.utils.data import DataLoader

#: the splits a config names (``<split>_dataloader``, ``<split>_evaluator``)
SPLITS = ('val', 'test')


def split_loader(cfg: Config,
                 split: str = 'val',
                 pipeline: Optional[Sequence[dict]] = None) -> DataLoader:
    """The config's ``<split>_dataloader`` in this process (no workers),
    its dataset's pipeline replaced by ``pipeline`` when given."""
    key = f'{split}_dataloader'
    if split not in SPLITS or not cfg.get(key):
        raise ValueError(f'{cfg.filename}: no {key}; the calibration and '
                         f'--eval read the {" or ".join(SPLITS)} split of '
                         'the config (--split).')
    loader = copy.deepcopy(cfg[key])
    loader.update(num_workers=0, persistent_workers=False)
    if pipeline is not None:
        loader.dataset.pipeline = copy.deepcopy(pipeline)
    init_default_scope(cfg.get('default_scope'))
    return Runner.build_dataloader(loader)


def spread(total: int, num: int) -> List[int]:
    """``num`` indices of ``range(total)`` evenly spread (all if fewer)."""
    if num >= total:
        return list(range(total))
    return [int(i) for i in np.linspace(0, total - 1, num).round()]


def sample_batches(loader: DataLoader, num: int) -> List[dict]:
    """``num`` batches of one sample each, spread over the loader's
    order (its sampler's indices), collated as the loader collates."""
    indices = list(loader.sampler)
    return [
        loader.collate_fn([loader.dataset[indices[i]]])
        for i in spread(len(indices), num)
    ]


def evaluate(cfg: Config,
             test_step: Callable[[dict], list],
             split: str = 'val',
             pipeline: Optional[Sequence[dict]] = None,
             model: Optional[object] = None) -> Dict[str, float]:
    """The config's ``<split>_evaluator`` over its ``<split>_dataloader``,
    ``test_step(batch)`` giving each batch's data samples with predictions
    (a runner's, or a model's own ``test_step``).

    The evaluator is the host's (``EVALUATOR`` of the config's scope):
    mmengine's, or MMagic's, whose metrics are first prepared on ``model``
    (they read its ``data_preprocessor``) and the loader, as MMagic's
    ``EditValLoop`` does.
    """
    loader = split_loader(cfg, split, pipeline)
    metrics = copy.deepcopy(cfg[f'{split}_evaluator'])
    evaluator = EVALUATOR.build(
        metrics if isinstance(metrics, dict) and 'metrics' in metrics else
        dict(type='Evaluator', metrics=metrics))
    evaluator.dataset_meta = getattr(loader.dataset, 'metainfo', None)
    mmagic = hasattr(evaluator, 'prepare_metrics')
    if mmagic:
        evaluator.prepare_metrics(model, loader)
    with torch.no_grad():  # as mmengine's ValLoop
        for batch in loader:
            samples = test_step(batch)
            if mmagic:
                evaluator.process(samples, batch, evaluator.metrics)
            else:
                evaluator.process(samples, batch)
    return (evaluator.evaluate() if mmagic else evaluator.evaluate(
        len(loader.dataset)))
