# Copyright (c) off_plugin authors. All rights reserved.
"""ImageNet VID / DET (ILSVRC2015) to COCO-VID annotation files.

Input, the ILSVRC2015 layout with FGFA's image-set lists::

    <root>/Data/VID/{train,val}/<snippet>/000000.JPEG ...
    <root>/Data/DET/train/<image>.JPEG
    <root>/Annotations/{VID,DET}/...            # one PASCAL-style XML each
    <root>/ImageSets/VID_train_15frames.txt     # snippet 1 frame num_frames
    <root>/ImageSets/VID_val_videos.txt         # snippet first 0 num_frames
    <root>/ImageSets/DET_train_30classes.txt    # image class_index

Output, the json files of mmdet's ``BaseVideoDataset``:

- ``imagenet_vid_train.json``: every frame of the listed training snippets,
  in frame order; ``is_vid_train_frame`` is true on the listed frames
  (FGFA's 15 key frames per snippet; the list's frame index is 0-based, the
  number of the frame file) and false on the others.
- ``imagenet_vid_val.json``: every frame of the validation snippets.
- ``imagenet_det_30cls.json``: the listed DET images without ``video_id`` /
  ``frame_id`` (one-frame videos for ``BaseVideoDataset``), boxes of the
  30 VID classes only. Only the first column of the DET list (the image)
  is read.

Boxes are COCO ``[x, y, w, h]`` with ``w = xmax - xmin`` (no +1), clipped
to the image; boxes of zero area after clipping are dropped. ``file_name``
is relative to ``<root>/Data/``.

Bad input (a list line with a missing or non-numeric column, an XML file
that is cut short or malformed, an object of a class outside the 30 in a
VID XML) stops the conversion with a one-line error naming the file, the
line or field, and the fix, before any json is written.
"""
import json
import os
import os.path as osp
import warnings
import xml.etree.ElementTree as ET
from typing import Dict, List, Optional, Sequence, Set, Tuple, Union

from mmengine.utils import track_iter_progress

from off_plugin.utils.fileio import atomic_write

# WordNet id -> class name, in the order of mmdet's imagenet_vid_classes()
IMAGENET_VID_WNIDS = {
    'n02691156': 'airplane',
    'n02419796': 'antelope',
    'n02131653': 'bear',
    'n02834778': 'bicycle',
    'n01503061': 'bird',
    'n02924116': 'bus',
    'n02958343': 'car',
    'n02402425': 'cattle',
    'n02084071': 'dog',
    'n02121808': 'domestic_cat',
    'n02503517': 'elephant',
    'n02118333': 'fox',
    'n02510455': 'giant_panda',
    'n02342885': 'hamster',
    'n02374451': 'horse',
    'n02129165': 'lion',
    'n01674464': 'lizard',
    'n02484322': 'monkey',
    'n03790512': 'motorcycle',
    'n02324045': 'rabbit',
    'n02509815': 'red_panda',
    'n02411705': 'sheep',
    'n01726692': 'snake',
    'n02355227': 'squirrel',
    'n02129604': 'tiger',
    'n04468005': 'train',
    'n01662784': 'turtle',
    'n04530566': 'watercraft',
    'n02062744': 'whale',
    'n02391049': 'zebra',
}
WNID_TO_CATEGORY = {wnid: i for i, wnid in enumerate(IMAGENET_VID_WNIDS, 1)}

# split -> (list file in <root>/ImageSets, json file written)
SPLITS = {
    'train': ('VID_train_15frames.txt', 'imagenet_vid_train.json'),
    'val': ('VID_val_videos.txt', 'imagenet_vid_val.json'),
    'det': ('DET_train_30classes.txt', 'imagenet_det_30cls.json'),
}
LAYOUT = ('expected the ILSVRC2015 layout <root>/Data/{VID,DET}/... (JPEG), '
          '<root>/Annotations/{VID,DET}/... (XML) and FGFA\'s lists ' +
          ', '.join(f'<root>/ImageSets/{v[0]}' for v in SPLITS.values()))
REEXTRACT = 're-extract it from the ILSVRC2015 archive'
RELIST = 'fix or remove the line, or take FGFA\'s original list again'
DAMAGED = f'the file is damaged or incomplete: {REEXTRACT}'


def imagenet_vid_categories() -> List[dict]:
    """The 30 COCO categories: ids 1..30, names, WordNet ids."""
    return [
        dict(id=WNID_TO_CATEGORY[wnid], name=name, encode_name=wnid)
        for wnid, name in IMAGENET_VID_WNIDS.items()
    ]


def read_list(path: str) -> List[Tuple[int, List[str]]]:
    """(line number, fields) of the non-blank lines of a list file."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path} not found; {LAYOUT}.')
    with open(path) as f:
        lines = [(i, line.split()) for i, line in enumerate(f, 1)]
    return [(i, fields) for i, fields in lines if fields]


def read_vid_list(path: str) -> Dict[str, Tuple[int, Set[int]]]:
    """Snippets of a FGFA VID list, in list order, each with its number of
    frames and the set of the frame indices in the third column."""
    videos: Dict[str, Tuple[int, Set[int]]] = {}
    for lineno, fields in read_list(path):
        snippet = fields[0]
        try:
            frame, num_frames = int(fields[2]), int(fields[3])
        except (IndexError, ValueError):
            raise ValueError(
                f'{path}:{lineno}: {" ".join(fields)!r} is not a line '
                "'<snippet> <n> <frame index> <number of frames>'; "
                f'{RELIST}.') from None
        if not 0 <= frame < num_frames:
            raise ValueError(f'{path}:{lineno}: frame {frame} is outside '
                             f'the {num_frames} frames of {snippet}; '
                             f'{RELIST}.')
        known, frames = videos.setdefault(snippet, (num_frames, set()))
        if known != num_frames:
            raise ValueError(f'{path}:{lineno}: {snippet} has {num_frames} '
                             f'frames here and {known} on an earlier line; '
                             f'{RELIST}.')
        frames.add(frame)
    return videos


def _text(elem: ET.Element, tag: str, xml_path: str) -> str:
    text = elem.findtext(tag)
    if text is None:
        raise ValueError(f'{xml_path}: <{elem.tag}> has no <{tag}>; '
                         f'{DAMAGED}.')
    return text.strip()


def _number(elem: ET.Element, tag: str, xml_path: str) -> Union[int, float]:
    text = _text(elem, tag, xml_path)
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f'{xml_path}: <{tag}> is {text!r}, not a number; '
                         f'{DAMAGED}.') from None
    return int(value) if value.is_integer() else value


def parse_annotation(xml_path: str,
                     video: bool = True) -> Tuple[int, int, List[dict]]:
    """Width, height and objects of one ILSVRC XML file.

    Each object is a dict with ``name`` (WordNet id), ``box`` (xmin, ymin,
    xmax, ymax), ``occluded`` and, if ``video``, ``trackid`` and
    ``generated``.
    """
    try:
        root = ET.parse(xml_path).getroot()
    except (ET.ParseError, OSError) as err:
        raise ValueError(f'{xml_path}: cannot read the annotation ({err}); '
                         f'{DAMAGED}.') from err
    size = root.find('size')
    if size is None:
        raise ValueError(f'{xml_path}: no <size>; {DAMAGED}.')
    width = _number(size, 'width', xml_path)
    height = _number(size, 'height', xml_path)
    objects = []
    for obj in root.iter('object'):
        bndbox = obj.find('bndbox')
        if bndbox is None:
            raise ValueError(f'{xml_path}: an <object> has no <bndbox>; '
                             f'{DAMAGED}.')
        info = dict(
            name=_text(obj, 'name', xml_path),
            box=tuple(
                _number(bndbox, tag, xml_path)
                for tag in ('xmin', 'ymin', 'xmax', 'ymax')),
            occluded=obj.findtext('occluded', '0').strip() == '1')
        if video:
            info['trackid'] = _text(obj, 'trackid', xml_path)
            info['generated'] = obj.findtext('generated', '0').strip() == '1'
        objects.append(info)
    return width, height, objects


class BoxCounter:
    """Clips boxes to their image and counts what it changed or dropped."""

    def __init__(self) -> None:
        self.clipped = 0
        self.degenerate = 0
        self.other_classes = 0
        self.example: Optional[str] = None

    def coco_box(self, box: Tuple, width: int, height: int,
                 xml_path: str) -> Optional[List]:
        """COCO ``[x, y, w, h]`` of ``box`` (x1, y1, x2, y2) clipped to the
        image, or None if nothing of it is left."""
        x1, y1, x2, y2 = box
        clipped = (min(max(x1, 0), width), min(max(y1, 0), height),
                   min(max(x2, 0), width), min(max(y2, 0), height))
        changed = clipped != box
        x1, y1, x2, y2 = clipped
        empty = x2 <= x1 or y2 <= y1
        self.clipped += changed
        self.degenerate += empty
        if (changed or empty) and self.example is None:
            self.example = xml_path
        return None if empty else [x1, y1, x2 - x1, y2 - y1]

    def warn(self, json_file: str) -> None:
        """One warning line if any box was clipped or dropped."""
        if self.clipped or self.degenerate:
            warnings.warn(
                f'{json_file}: clipped {self.clipped} boxes to the image, '
                f'dropped {self.degenerate} of zero area after clipping '
                f'(first in {self.example})')


def _add_box(coco: dict, image_id: int, category_id: int, bbox: List,
             **extra) -> None:
    coco['annotations'].append(
        dict(
            id=len(coco['annotations']) + 1,
            image_id=image_id,
            category_id=category_id,
            bbox=bbox,
            area=bbox[2] * bbox[3],
            iscrowd=False,
            **extra))


def list_frames(data_dir: str, num_frames: int) -> List[str]:
    """Frame names (without ``.JPEG``) of a snippet directory, in frame
    order; there must be ``num_frames`` of them."""
    if not osp.isdir(data_dir):
        raise FileNotFoundError(
            f'{data_dir}: snippet directory not found; the list names it, '
            'so the Data archive is incompletely extracted.')
    frames = sorted(name[:-len('.JPEG')] for name in os.listdir(data_dir)
                    if name.endswith('.JPEG'))
    if len(frames) != num_frames:
        raise ValueError(
            f'{data_dir}: {len(frames)} JPEG frames, the list says '
            f'{num_frames}; {REEXTRACT}.')
    return frames


def convert_vid(root: str, split: str = 'train') -> Tuple[dict, BoxCounter]:
    """COCO-VID dict of the VID ``split`` ('train' or 'val') and the
    counter of its clipped / dropped boxes."""
    videos = read_vid_list(osp.join(root, 'ImageSets', SPLITS[split][0]))
    coco = dict(
        categories=imagenet_vid_categories(),
        videos=[],
        images=[],
        annotations=[])
    counter = BoxCounter()
    num_instances = 0
    for video_id, (snippet, (num_frames, listed)) in enumerate(
            track_iter_progress(list(videos.items())), 1):
        coco['videos'].append(dict(id=video_id, name=snippet))
        key_frames = listed if split == 'train' else set()
        tracks: Dict[str, int] = {}
        frames = list_frames(
            osp.join(root, 'Data', 'VID', snippet), num_frames)
        for frame_id, frame in enumerate(frames):
            xml_path = osp.join(root, 'Annotations', 'VID', snippet,
                                f'{frame}.xml')
            width, height, objects = parse_annotation(xml_path, video=True)
            image_id = len(coco['images']) + 1
            coco['images'].append(
                dict(
                    id=image_id,
                    file_name=f'VID/{snippet}/{frame}.JPEG',
                    width=width,
                    height=height,
                    video_id=video_id,
                    frame_id=frame_id,
                    is_vid_train_frame=frame_id in key_frames))
            for obj in objects:
                category_id = WNID_TO_CATEGORY.get(obj['name'])
                if category_id is None:
                    raise ValueError(
                        f'{xml_path}: object class {obj["name"]!r} is not '
                        'one of the 30 ImageNet VID classes (VID has only '
                        f'these), likely a corrupt file: {REEXTRACT}.')
                bbox = counter.coco_box(obj['box'], width, height, xml_path)
                if bbox is None:
                    continue
                if obj['trackid'] not in tracks:
                    num_instances += 1
                    tracks[obj['trackid']] = num_instances
                _add_box(
                    coco,
                    image_id,
                    category_id,
                    bbox,
                    video_id=video_id,
                    instance_id=tracks[obj['trackid']],
                    occluded=obj['occluded'],
                    generated=obj['generated'])
    return coco, counter


def convert_det(root: str) -> Tuple[dict, BoxCounter]:
    """COCO dict of the DET images of ``DET_train_30classes.txt`` (boxes
    of the 30 VID classes; the others are dropped and counted) and the
    counter of the boxes clipped / dropped."""
    list_file = osp.join(root, 'ImageSets', SPLITS['det'][0])
    # an image may be listed under several classes: keep it once
    names = list(
        dict.fromkeys(fields[0] for _, fields in read_list(list_file)))
    coco = dict(
        categories=imagenet_vid_categories(), images=[], annotations=[])
    counter = BoxCounter()
    for image_id, name in enumerate(track_iter_progress(names), 1):
        file_name = f'DET/{name}.JPEG'
        if not osp.isfile(osp.join(root, 'Data', file_name)):
            raise FileNotFoundError(
                f'{osp.join(root, "Data", file_name)} not found; {list_file} '
                'lists it: the DET archive is incompletely extracted.')
        xml_path = osp.join(root, 'Annotations', 'DET', f'{name}.xml')
        width, height, objects = parse_annotation(xml_path, video=False)
        coco['images'].append(
            dict(
                id=image_id,
                file_name=file_name,
                width=width,
                height=height,
                is_vid_train_frame=True))
        num_instances = 0
        for obj in objects:
            category_id = WNID_TO_CATEGORY.get(obj['name'])
            if category_id is None:
                counter.other_classes += 1
                continue
            bbox = counter.coco_box(obj['box'], width, height, xml_path)
            if bbox is None:
                continue
            num_instances += 1
            _add_box(
                coco,
                image_id,
                category_id,
                bbox,
                instance_id=num_instances,
                occluded=obj['occluded'])
    return coco, counter


def dump_json(obj: dict, path: str) -> None:
    """Write ``obj`` to ``path``, whole or not at all."""
    with atomic_write(path) as tmp, open(tmp, 'w') as f:
        json.dump(obj, f)


def check_layout(root: str, splits: Sequence[str]) -> None:
    """Fail early, before any conversion, on a missing list or directory."""
    for split in splits:
        if split not in SPLITS:
            raise ValueError(
                f'unknown split {split!r}; choose from {list(SPLITS)}')
        part = 'DET' if split == 'det' else 'VID'
        for path in (osp.join(root, 'Data',
                              part), osp.join(root, 'Annotations', part)):
            if not osp.isdir(path):
                raise FileNotFoundError(f'{path} not found; {LAYOUT}.')
        list_file = osp.join(root, 'ImageSets', SPLITS[split][0])
        if not osp.isfile(list_file):
            raise FileNotFoundError(f'{list_file} not found; {LAYOUT}.')


def convert_imagenet_vid(
    root: str,
    out_dir: Optional[str] = None,
    splits: Sequence[str] = ('train', 'val', 'det')
) -> Dict[str, dict]:
    """Convert ``splits`` of the ILSVRC2015 tree ``root`` and write their
    json files to ``out_dir`` (default ``<root>/annotations``).

    Returns, per json file written, the number of ``videos``, ``images``,
    ``boxes`` and of the DET boxes of other classes dropped
    (``other_classes``). Clipped and dropped boxes are reported in one
    warning per file. Every split is converted before any file is written:
    an error leaves ``out_dir`` as it was (not even made if missing).
    """
    check_layout(root, splits)
    out_dir = out_dir or osp.join(root, 'annotations')
    converted = {}
    for split in splits:
        converted[split] = convert_det(root) if split == 'det' else \
            convert_vid(root, split)
    os.makedirs(out_dir, exist_ok=True)
    summary = {}
    for split, (coco, counter) in converted.items():
        path = osp.join(out_dir, SPLITS[split][1])
        dump_json(coco, path)
        counter.warn(path)
        summary[path] = dict(
            videos=len(coco.get('videos', [])),
            images=len(coco['images']),
            boxes=len(coco['annotations']),
            other_classes=counter.other_classes)
    return summary
