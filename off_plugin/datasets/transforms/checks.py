# Copyright (c) off_plugin authors. All rights reserved.
from mmagic.registry import TRANSFORMS
from mmcv.transforms import BaseTransform


@TRANSFORMS.register_module()
class CheckFrames(BaseTransform):
    """Check that the loaded frames of a sample (the ``keys`` images, each
    one array or a list of frames) share one size and have ``channels``
    channels, and say which files do not, before they are stacked.

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
        sizes = {shape[:2] for shape in shapes.values()}
        channels = {shape[2] if len(shape) == 3 else 1
                    for shape in shapes.values()}
        if len(sizes) > 1 or channels != {self.channels}:
            listing = ', '.join(f'{p}: {s}' for p, s in shapes.items())
            raise ValueError(
                f'the frames of one sample must have one size and '
                f'{self.channels} channels, got {listing}. Re-make the '
                'compressed frames of this clip (tools/compress_vimeo90k.py) '
                'or fix the originals.')
        return results
