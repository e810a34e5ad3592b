# Copyright (c) off_plugin authors. All rights reserved.
"""MMAction2's datasets and decoders, with errors that name the file.

Upstream, a bad line of an annotation list fails with ``too many values to
unpack``, ``list index out of range`` or a bare ``AssertionError`` (an
unlabelled line trains with label -1, an empty one is a sample of the data
directory), and a corrupt video or a missing frame with ``Error reading
5000 bytes`` or ``FileNotFoundError`` from deep inside decord or mmcv,
naming neither the file nor the fix: one bad file among 13,000 cannot be
found. These registered subclasses do what their bases do and, on bad
input, raise the same error type in one line: the file (and line, or frame),
what is wrong and what to do, the original error chained. A config selects
them by type, as the project's recognition configs do::

    dataset_type = 'CheckedVideoDataset'  # or 'CheckedRawframeDataset'
    train_pipeline = [dict(type='CheckedDecordInit'), ...,
                      dict(type='CheckedDecordDecode'), ...]
"""
import os.path as osp
import re

import mmcv
import numpy as np
from mmaction.datasets import RawframeDataset, VideoDataset
from mmaction.datasets.transforms import (DecordDecode, DecordInit,
                                          RawFrameDecode)
from mmaction.registry import DATASETS, TRANSFORMS
from mmengine.fileio import list_from_file


def _cause(err: Exception) -> str:
    """An error's message on one line, less decord's source location."""
    text = ' '.join(str(err).split())
    return re.sub(r'^\[[\d:]+\] \S+:\d+: (Check failed: .*? ERROR )?', '',
                  text).rstrip('.')


def _named(err: Exception, message: str) -> Exception:
    """``message`` as an error of ``err``'s type where it takes one, marked
    as naming its file (an outer check leaves it as it is)."""
    try:
        new = type(err)(message)
    except Exception:  # an error type with other arguments
        new = RuntimeError(message)
    new.names_file = True
    return new


class AnnotationCheckMixin:
    """Check every line of ``ann_file`` before upstream's ``load_data_list``
    reads it.

    ``<video> <label>`` (video lists) or ``<frame_dir> [<offset>]
    <total_frames> <label>`` (rawframe lists), more labels only if
    ``multi_class``; integers ``>= 0``, labels ``< num_classes`` where the
    dataset is given ``num_classes``. A list without any label is an
    inference list, test mode only (labels -1, as upstream). Any other line
    raises a one-line ``ValueError`` naming the file, the line and the fix.
    """

    def columns(self) -> tuple:
        """The columns before the label(s) and the delimiter."""
        raise NotImplementedError

    def load_data_list(self):
        self.check_annotation_file()
        return super().load_data_list()

    def check_annotation_file(self) -> None:
        columns, delimiter = self.columns()
        layout = ' '.join(f'<{c}>' for c in columns) + ' <label>'
        if self.multi_class:
            layout += ' [<label> ...]'
        lines = list_from_file(self.ann_file)

        def error(number, problem, fix):
            return ValueError(f'{self.ann_file}, line {number}: '
                              f'{lines[number - 1]!r} {problem}; {fix}.')

        unlabelled = []
        for number, line in enumerate(lines, 1):
            if not line.strip():
                raise error(number, 'is empty', 'remove the line')
            fields = line.strip().split(delimiter)
            if len(fields) < len(columns):
                raise error(number, f'has {len(fields)} column(s), not '
                            f"'{layout}'", 'add the missing columns')
            if len(fields) == len(columns):
                unlabelled.append(number)
            elif len(fields) > len(columns) + 1 and not self.multi_class:
                raise error(number, f'has {len(fields)} columns, not '
                            f"'{layout}'",
                            f'remove the extra columns{self.extra_hint}')
            names = columns[1:] + ['label'] * (len(fields) - len(columns))
            for name, value in zip(names, fields[1:]):
                self.check_value(error, number, name, value)
        if unlabelled and (not self.test_mode or len(unlabelled) < len(lines)):
            why = ('while other lines have one'
                   if self.test_mode else 'and a training list needs labels')
            raise error(
                unlabelled[0], f'has no label {why}',
                f"write the line as '{layout}' (lists without any "
                'label are for test mode only)')

    def check_value(self, error, number: int, name: str, value: str) -> None:
        """Raise ``error(...)`` unless ``value`` of column ``name`` is a
        valid non-negative integer (a label below ``num_classes``)."""
        try:
            value = int(value)
        except ValueError:
            raise error(
                number, f'has {name} {value!r}, not an integer',
                'write the class index (0, 1, ...)' if name == 'label' else
                f'write the {name} as a whole number') from None
        if value < 0:
            raise error(number, f'has a negative {name}, {value}',
                        'fix the line')
        if name == 'label' and self.num_classes is not None \
                and value >= self.num_classes:
            raise error(
                number, f'has label {value}, outside 0..'
                f"{self.num_classes - 1} (the dataset's num_classes="
                f'{self.num_classes})', 'fix the label, or num_classes of '
                'the dataset and the model')


@DATASETS.register_module()
class CheckedVideoDataset(AnnotationCheckMixin, VideoDataset):
    """MMAction2's ``VideoDataset`` (same arguments) that checks every line
    of its annotation list first (:class:`AnnotationCheckMixin`)."""
    extra_hint = ", or set the dataset's delimiter if paths have spaces"

    def columns(self) -> tuple:
        return ['video'], self.delimiter


@DATASETS.register_module()
class CheckedRawframeDataset(AnnotationCheckMixin, RawframeDataset):
    """MMAction2's ``RawframeDataset`` (same arguments) that checks every
    line of its annotation list first (:class:`AnnotationCheckMixin`)."""

    @property
    def extra_hint(self) -> str:
        return ('' if self.with_offset else
                ', or set with_offset=True for <offset> columns')

    def columns(self) -> tuple:
        columns = ['frame_dir', 'total_frames']
        if self.with_offset:
            columns.insert(1, 'offset')
        return columns, None  # upstream splits on any whitespace


class VideoErrorMixin:
    """A Decord transform whose errors name the video and the fix."""

    def transform(self, results: dict) -> dict:
        try:
            return super().transform(results)
        except Exception as err:
            if getattr(err, 'names_file', False):
                raise
            raise self.video_error(results.get('filename'), err) from err

    def video_error(self, path: str, err: Exception) -> Exception:
        name = type(self).__name__
        if isinstance(err, FileNotFoundError):
            return _named(
                err, f'{name}: the video {path!r} does not exist; fix its '
                "path in the annotation file or the dataset's data_prefix.")
        size = osp.getsize(path) if osp.isfile(path) else None
        video = f'{path!r} ({size} bytes)' if size else repr(path)
        problem = ('the file is empty (0 bytes)' if size == 0 else
                   f'{_cause(err)}; the file is corrupt, truncated or not a '
                   'video')
        return _named(
            err, f'{name} could not read the video {video}: {problem}. '
            'Re-encode or re-download it, or drop it from the annotation '
            'file.')


@TRANSFORMS.register_module()
class CheckedDecordInit(VideoErrorMixin, DecordInit):
    """MMAction2's ``DecordInit`` (same arguments); a video it cannot open
    is a one-line error naming the file (:class:`VideoErrorMixin`)."""


@TRANSFORMS.register_module()
class CheckedDecordDecode(VideoErrorMixin, DecordDecode):
    """MMAction2's ``DecordDecode`` (same arguments); a video it cannot
    decode is a one-line error naming the file (:class:`VideoErrorMixin`).
    """


@TRANSFORMS.register_module()
class CheckedRawFrameDecode(RawFrameDecode):
    """MMAction2's ``RawFrameDecode`` (same arguments); a sampled frame that
    is missing or does not decode (upstream: ``FileNotFoundError`` without
    the video, or ``None`` failing later on) is a one-line error naming the
    frame index, the file and the fix.

    Frames of another channel count are no error: RGB frames are read with
    mmcv's flag ``'color'`` and flow frames with ``'grayscale'``, so a
    grayscale RGB frame gives 3 equal channels, an RGBA frame its RGB
    channels (alpha dropped, not blended) and a colour flow frame its
    luminance.
    """

    def transform(self, results: dict) -> dict:
        try:
            results = super().transform(results)
            if all(img is not None for img in results['imgs']):
                return results
            cause = None
        except Exception as err:
            if getattr(err, 'names_file', False):
                raise
            cause = err
        raise self.frame_error(results, cause) from cause

    def frame_error(self, results: dict, cause) -> Exception:
        """The error naming the first sampled frame file that is missing
        or does not decode."""
        name, frame_dir = type(self).__name__, results['frame_dir']
        flow = results['modality'] == 'Flow'
        for index in np.unique(results['frame_inds']) + results.get(
                'offset', 0):
            names = ([
                results['filename_tmpl'].format(axis, index) for axis in 'xy'
            ] if flow else [results['filename_tmpl'].format(index)])
            for path in (osp.join(frame_dir, name) for name in names):
                try:
                    content = self.file_client.get(path)
                except FileNotFoundError as err:
                    return _named(
                        err, f'{name}: frame {index} of '
                        f'{frame_dir!r} is missing: no file {path!r} '
                        f'(total_frames={results["total_frames"]} in the '
                        'annotation file). Re-extract the frames of this '
                        'video, or set its total_frames to the number of '
                        'frames it has.')
                if not _decodes(content, 'grayscale' if flow else 'color'):
                    return _named(
                        ValueError(), f'{name}: frame {index} of '
                        f'{frame_dir!r} does not decode: {path!r} is empty, '
                        'truncated or not an image. Re-extract the frames '
                        'of this video, or drop it from the annotation file.')
        return _named(
            cause or ValueError(), f'{name} could not read the '
            f'frames of {frame_dir!r}: '
            f'{_cause(cause) if cause else "a frame did not decode"}. '
            'Re-extract the frames of this video, or drop it from the '
            'annotation file.')


def _decodes(content: bytes, flag: str) -> bool:
    try:
        return mmcv.imfrombytes(content, flag=flag) is not None
    except Exception:  # cv2 refuses empty files
        return False
