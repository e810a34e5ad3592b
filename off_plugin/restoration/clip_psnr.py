# Copyright (c) off_plugin authors. All rights reserved.
from typing import List, Sequence

from mmagic.evaluation.metrics import PSNR
from mmagic.registry import METRICS
from mmengine.fileio import dump


@METRICS.register_module()
class ClipPSNR(PSNR):
    """MMagic's PSNR that also writes every sample's value to ``out_file``
    (json: its target frame's ``gt_path`` -> dB), so that one bad clip shows
    behind a mean. The metric itself is PSNR's, under the same name.

    Args:
        out_file (str): Where to write the per-sample values (.json).
        **kwargs: Arguments of MMagic's ``PSNR``.
    """

    def __init__(self, out_file: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.out_file = out_file

    def process(self, data_batch: Sequence[dict],
                data_samples: Sequence[dict]) -> None:
        super().process(data_batch, data_samples)
        for data, result in zip(data_samples,
                                self.results[-len(data_samples):]):
            result['gt_path'] = data['gt_path']

    def compute_metrics(self, results: List[dict]) -> dict:
        dump({r['gt_path']: float(r[self.metric])
              for r in results}, self.out_file)
        return super().compute_metrics(results)
