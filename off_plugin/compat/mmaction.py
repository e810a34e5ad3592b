# Copyright (c) off_plugin authors. All rights reserved.
"""Fixes for mmaction2 1.2.0."""
import functools
import importlib.abc
import importlib.machinery
import importlib.util
import os.path as osp
import re
import sys

import numpy as np

from . import upstream_fix

_DRN_PACKAGE = 'mmaction.models.localizers.drn'


class MissingDRN:
    """Stands in for ``mmaction.models.localizers.DRN`` where the wheel lacks
    it; building it raises an error that says so."""

    def __init__(self, *args, **kwargs) -> None:
        raise ImportError(
            'DRN is not available: the mmaction2 1.2.0 wheel does not ship '
            'mmaction/models/localizers/drn/ (open-mmlab/mmaction2#2714). '
            'Install mmaction2 from a source checkout of v1.2.0 '
            '(pip install --no-deps -e <mmaction2 repo>) to use DRN.')


class _MissingDRNFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves a placeholder for the package ``mmaction.models.localizers.drn``
    (:func:`fill_mmaction_drn_hole`). It sits at the end of ``sys.meta_path``:
    it is asked only after the normal finders failed, so a complete
    installation is used as it is. The placeholder registers
    :class:`MissingDRN` as ``DRN``."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname in (_DRN_PACKAGE, f'{_DRN_PACKAGE}.drn'):
            return importlib.util.spec_from_loader(
                fullname, self, is_package=fullname == _DRN_PACKAGE)
        return None

    def create_module(self, spec):
        return None  # the default module object

    def exec_module(self, module) -> None:
        if module.__name__ == f'{_DRN_PACKAGE}.drn':
            from mmaction.registry import MODELS
            MODELS.register_module('DRN', module=MissingDRN)
            module.DRN = MissingDRN


@upstream_fix('mmaction2', '1.2.0', 'open-mmlab/mmaction2#2714')
def fill_mmaction_drn_hole() -> None:
    """Let ``import mmaction.models`` work with the mmaction2 1.2.0 wheel.

    Upstream bug: open-mmlab/mmaction2#2714. ``localizers/__init__.py``
    imports ``.drn.drn.DRN``, but the 1.2.0 wheel lacks the package, so
    ``import mmaction.models`` fails. A finder of last resort
    (:class:`_MissingDRNFinder`) serves a placeholder whose ``DRN`` raises
    an error that says so.

    Delete when: the pinned mmaction2 is a release whose wheel ships
    ``localizers/drn`` (none after 1.2.0 so far).
    """
    if not any(isinstance(f, _MissingDRNFinder) for f in sys.meta_path):
        sys.meta_path.append(_MissingDRNFinder())


def _cause(err: Exception) -> str:
    """An error's message on one line, less decord's source location."""
    text = ' '.join(str(err).split())
    return re.sub(r'^\[[\d:]+\] \S+:\d+: (Check failed: .*? ERROR )?', '',
                  text).rstrip('.')


def _named(err: Exception, message: str) -> Exception:
    """``message`` as an error of ``err``'s type where it takes one."""
    try:
        new = type(err)(message)
    except Exception:  # an error type with other arguments
        new = RuntimeError(message)
    new.names_file = True
    return new


def _naming_video(transform):
    """Wrap DecordInit/DecordDecode.transform to name the video."""

    @functools.wraps(transform)
    def wrapped(self, results):
        try:
            return transform(self, results)
        except Exception as err:
            if getattr(err, 'names_file', False):
                raise
            path = results.get('filename')
            if isinstance(err, FileNotFoundError):
                raise _named(
                    err, f'{type(self).__name__}: the video {path!r} does '
                    'not exist; fix its path in the annotation file or the '
                    "dataset's data_prefix.") from err
            size = osp.getsize(path) if osp.isfile(path) else None
            video = f'{path!r} ({size} bytes)' if size else repr(path)
            problem = ('the file is empty (0 bytes)' if size == 0 else
                       f'{_cause(err)}; the file is corrupt, truncated or '
                       'not a video')
            raise _named(
                err, f'{type(self).__name__} could not read the video '
                f'{video}: {problem}. Re-encode or re-download it, or drop '
                'it from the annotation file.') from err

    return wrapped


def _decodes(content: bytes, flag: str) -> bool:
    import mmcv
    try:
        return mmcv.imfrombytes(content, flag=flag) is not None
    except Exception:  # cv2 refuses empty files
        return False


def _frame_error(reader, results: dict, cause) -> Exception:
    """The error for frames ``RawFrameDecode`` could not read: it names the
    first sampled frame file that is missing or does not decode."""
    frame_dir = results['frame_dir']
    flow = results['modality'] == 'Flow'
    for index in np.unique(results['frame_inds']) + results.get('offset', 0):
        names = ([results['filename_tmpl'].format(axis, index)
                  for axis in 'xy'] if flow else
                 [results['filename_tmpl'].format(index)])
        for path in (osp.join(frame_dir, name) for name in names):
            try:
                content = reader.file_client.get(path)
            except FileNotFoundError as err:
                return _named(
                    err, f'RawFrameDecode: frame {index} of {frame_dir!r} is '
                    f'missing: no file {path!r} (total_frames='
                    f'{results["total_frames"]} in the annotation file). '
                    'Re-extract the frames of this video, or set its '
                    'total_frames to the number of frames it has.')
            if not _decodes(content, 'grayscale' if flow else 'color'):
                return _named(
                    ValueError(), f'RawFrameDecode: frame {index} of '
                    f'{frame_dir!r} does not decode: {path!r} is empty, '
                    'truncated or not an image. Re-extract the frames of '
                    'this video, or drop it from the annotation file.')
    return _named(
        cause or ValueError(), f'RawFrameDecode could not read the frames '
        f'of {frame_dir!r}: '
        f'{_cause(cause) if cause else "a frame did not decode"}. '
        'Re-extract the frames of this video, or drop it from the annotation '
        'file.')


def _naming_frames(transform):
    """Wrap RawFrameDecode.transform to name the frame file; mmcv returns
    None for a frame that does not decode."""

    @functools.wraps(transform)
    def wrapped(self, results):
        try:
            results = transform(self, results)
            if all(img is not None for img in results['imgs']):
                return results
            cause = None
        except Exception as err:
            if getattr(err, 'names_file', False):
                raise
            cause = err
        raise _frame_error(self, results, cause) from cause

    return wrapped


@upstream_fix('mmaction2', '1.2.0', patches='mmaction.datasets')
def name_files_in_decoding_errors() -> None:
    """Make MMAction2's decoders say which file they could not read.

    Upstream behaviour: a corrupt or truncated video makes ``DecordInit``
    raise ``RuntimeError: Error reading 5000 bytes...``, a missing frame
    ``FileNotFoundError`` and a corrupt one makes ``RawFrameDecode`` fail on
    ``None`` later on, none naming the file (or the fix), so one bad file
    among 13,000 cannot be found. The wrapped transforms raise the same
    error type, one line: the video, or the frame index and file, what is
    wrong and what to do, the original error chained.

    Frames of another channel count are no error: ``RawFrameDecode`` reads
    RGB frames with mmcv's flag ``'color'`` and flow frames with
    ``'grayscale'``, so a grayscale RGB frame gives 3 equal channels, an
    RGBA frame its RGB channels (alpha dropped, not blended) and a colour
    flow frame its luminance.

    Delete when: mmaction2's loaders name the file in their errors.
    """
    from mmaction.datasets.transforms import loading
    for cls in (loading.DecordInit, loading.DecordDecode):
        cls.transform = _naming_video(cls.transform)
    loading.RawFrameDecode.transform = _naming_frames(
        loading.RawFrameDecode.transform)


def _check_annotation_file(dataset) -> None:
    """Raise a ValueError on the first bad line of ``dataset.ann_file``."""
    from mmaction.datasets import RawframeDataset
    from mmengine.fileio import list_from_file
    if isinstance(dataset, RawframeDataset):
        columns = ['frame_dir', 'total_frames']
        if dataset.with_offset:
            columns.insert(1, 'offset')
        delimiter = None  # upstream splits on any whitespace
    else:
        columns, delimiter = ['video'], dataset.delimiter
    layout = ' '.join(f'<{c}>' for c in columns) + ' <label>'
    if dataset.multi_class:
        layout += ' [<label> ...]'
    num_classes = dataset.num_classes
    lines = list_from_file(dataset.ann_file)
    unlabelled = []

    def error(number, problem, fix):
        return ValueError(f'{dataset.ann_file}, line {number}: '
                          f'{lines[number - 1]!r} {problem}; {fix}.')

    for number, line in enumerate(lines, 1):
        if not line.strip():
            raise error(number, 'is empty', 'remove the line')
        fields = line.strip().split(delimiter)
        if len(fields) < len(columns):
            raise error(number, f'has {len(fields)} column(s), not '
                        f"'{layout}'", 'add the missing columns')
        if len(fields) == len(columns):
            unlabelled.append(number)
        elif len(fields) > len(columns) + 1 and not dataset.multi_class:
            if isinstance(dataset, RawframeDataset):
                hint = ('' if dataset.with_offset else
                        ', or set with_offset=True for <offset> columns')
            else:
                hint = ", or set the dataset's delimiter if paths have spaces"
            raise error(number, f'has {len(fields)} columns, not '
                        f"'{layout}'", f'remove the extra columns{hint}')
        names = columns[1:] + ['label'] * (len(fields) - len(columns))
        for name, value in zip(names, fields[1:]):
            try:
                value = int(value)
            except ValueError:
                raise error(
                    number, f'has {name} {value!r}, not an integer',
                    'write the class index (0, 1, ...)' if name == 'label'
                    else f'write the {name} as a whole number') from None
            if value < 0:
                raise error(number, f'has a negative {name}, {value}',
                            'fix the line')
            if name == 'label' and num_classes is not None \
                    and value >= num_classes:
                raise error(
                    number, f'has label {value}, outside 0..'
                    f"{num_classes - 1} (the dataset's num_classes="
                    f'{num_classes})', 'fix the label, or num_classes of '
                    'the dataset and the model')
    if unlabelled and (not dataset.test_mode
                       or len(unlabelled) < len(lines)):
        why = ('while other lines have one' if dataset.test_mode else
               'and a training list needs labels')
        raise error(unlabelled[0], f'has no label {why}',
                    f"write the line as '{layout}' (lists without any label "
                    'are for test mode only)')


@upstream_fix('mmaction2', '1.2.0', patches='mmaction.datasets')
def check_annotation_files() -> None:
    """Make MMAction2's ``VideoDataset`` and ``RawframeDataset`` check every
    line of their annotation file.

    Upstream gap: a line with a column too few or too many, or a number that
    is not an integer, fails with ``too many values to unpack``, ``list
    index out of range``, a bare ``AssertionError`` or ``invalid literal for
    int()``, naming neither file nor line; a line without a label trains
    with label -1, an empty line is a sample of the data directory, and a
    label past ``num_classes`` reaches the loss.

    The wrapped ``load_data_list`` first checks the lines: ``<video>
    <label>`` (``VideoDataset``) or ``<frame_dir> [<offset>] <total_frames>
    <label>`` (``RawframeDataset``), more labels only if ``multi_class``;
    integers ``>= 0``, labels ``< num_classes`` where the dataset is given
    ``num_classes``. A list without any label is an inference list, test
    mode only (labels -1, as upstream). Any other line raises a one-line
    ``ValueError`` naming the file, the line and the fix.

    Delete when: mmaction2's datasets check their annotation files.
    """
    from mmaction.datasets import RawframeDataset, VideoDataset
    for cls in (VideoDataset, RawframeDataset):
        cls.load_data_list = _checking_lines(cls.load_data_list)


def _checking_lines(load_data_list):
    """Wrap a dataset's ``load_data_list`` to check its annotation file
    first."""

    @functools.wraps(load_data_list)
    def checked(self):
        _check_annotation_file(self)
        return load_data_list(self)

    return checked


@upstream_fix('mmaction2', '1.2.0')
def check_labels_in_heads() -> None:
    """Make MMAction2's heads refuse labels outside ``0..num_classes - 1``.

    Upstream gap: ``BaseHead.loss_by_feat`` hands such labels to the loss,
    which fails with ``IndexError: Target 9 is out of bounds.`` on CPUs and
    a device-side assert on GPUs, naming neither the label nor
    ``num_classes``. The wrapped method raises a one-line ``ValueError``
    with both and the fix. It cannot name the annotation line (the data
    samples do not carry it); a dataset given ``num_classes`` does
    (:func:`check_annotation_files`). Soft labels (mixup, one-hot) pass.

    Delete when: mmaction2's heads check their labels.
    """
    import torch
    from mmaction.models.heads import BaseHead
    loss_by_feat = BaseHead.loss_by_feat

    @functools.wraps(loss_by_feat)
    def checked(self, cls_scores, data_samples):
        for sample in data_samples:
            label = sample.get('gt_label')
            if label is None or torch.is_floating_point(label):
                continue
            bad = label[(label < 0) | (label >= self.num_classes)]
            if len(bad):
                raise ValueError(
                    f'{type(self).__name__}: a training sample has label '
                    f'{int(bad[0])}, outside 0..{self.num_classes - 1} '
                    f'(num_classes={self.num_classes}); fix the label in '
                    "the annotation file or set the model's num_classes "
                    '(give the dataset num_classes too to have it name the '
                    'line).')
        return loss_by_feat(self, cls_scores, data_samples)

    BaseHead.loss_by_feat = checked


@upstream_fix('mmaction2', '1.2.0', patches='mmaction.datasets')
def pack_num_clips() -> None:
    """Keep the sampler's ``num_clips`` in the metainfo of MMAction2's data
    samples.

    Upstream gap: ``PackActionInputs`` packs ``crops * num_clips`` views per
    video and drops ``num_clips``, so a 2D recognizer cannot tell crops
    from segments: a model ``num_segments`` a factor off the sampler's
    splits every video into false crops, silently. With ``num_clips`` in
    the metainfo :class:`~off_plugin.recognition.OFFRecognizer` refuses that.

    Delete when: ``PackActionInputs`` keeps ``num_clips``.
    """
    from mmaction.datasets.transforms import PackActionInputs
    transform = PackActionInputs.transform

    @functools.wraps(transform)
    def packing(self, results):
        packed = transform(self, results)
        if 'num_clips' in results:
            packed['data_samples'].set_metainfo(
                dict(num_clips=results['num_clips']))
        return packed

    PackActionInputs.transform = packing


#: every fix of this module, in the order they are applied (the DRN hole
#: first: it must be filled before anything imports ``mmaction.models``)
FIXES = (fill_mmaction_drn_hole, name_files_in_decoding_errors,
         check_annotation_files, check_labels_in_heads, pack_num_clips)
