# Copyright (c) off_plugin authors. All rights reserved.
from mmagic.registry import TRANSFORMS
from mmcv.transforms import BaseTransform


@TRANSFORMS.register_module()
class CheckFrames(BaseTransform):
    """Check that the loaded frames of a sample (the ``keys`` images, each
    one array or a list of frames) share one size and have ``channels``
    channels, before they are stacked. Otherwise a one-line ``ValueError``
    names the frames of another size (than most frames of the sample) or
    channel count, and what to do.

    Required keys: ``keys`` and ``<key>_path``.
    """

    def __init__(self, keys=('img', 'gt'), channels: int = 3) -> None:
        self.keys = keys
        self.channels = channels

    def transform(self, results: dict) -> dict:
        shapes = {}
        for key in self.keys:
            images = results[key]
            paths = results.get(f'{key}_path')
            if not isinstance(images, list):
                images, paths = [images], [paths]
            for img, path in zip(images, paths):
                shapes[path] = img.shape
        sizes = [shape[:2] for shape in shapes.values()]
        size = max(sizes, key=sizes.count)
        odd = [
            f'{path}: {shape}' for path, shape in shapes.items()
            if shape[:2] != size or (shape[2:] or (1, ))[0] != self.channels
        ]
        if odd:
            raise ValueError(
                f'CheckFrames: {", ".join(odd)}, the frames of a sample must '
                f'be {size + (self.channels, )} (its common size, '
                f'{self.channels} channels). Re-run '
                'tools/data/compress_vimeo90k.py on the data root (it '
                're-makes cached clips of other sizes than their originals) '
                'or fix the original frames.')
        return results
