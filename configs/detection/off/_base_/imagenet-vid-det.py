# ImageNet VID (+ the 30-class ImageNet DET images as one-frame videos) as
# FGFA and the paper use it. Data: see configs/detection/off/README.md
# (tools/dataset_converters/convert_imagenet_vid.py writes the jsons).
dataset_type = 'ImagenetVIDDataset'
data_root = 'data/ILSVRC/'
backend_args = None

# Short side 600, long side at most 1000. The key frame and its reference
# (the frame before it, as in online testing: Sec. 4.2.3's interval
# consistency) share resize and flip.
train_pipeline = [
    dict(type='NeighbourRefFrameSample', frame_range=(-1, -1)),
    dict(
        type='TransformBroadcaster',
        share_random_params=True,
        transforms=[
            dict(type='LoadImageFromFile', backend_args=backend_args),
            dict(type='LoadTrackAnnotations'),
            dict(type='Resize', scale=(1000, 600), keep_ratio=True),
            dict(type='RandomFlip', prob=0.5),
        ]),
    dict(type='PackTrackInputs')
]
test_pipeline = [
    dict(
        type='TransformBroadcaster',
        transforms=[
            dict(type='LoadImageFromFile', backend_args=backend_args),
            dict(type='Resize', scale=(1000, 600), keep_ratio=True),
            dict(type='LoadTrackAnnotations'),
        ]),
    dict(type='PackTrackInputs')
]

train_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='TrackImgSampler'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/imagenet_vid_train.json',
        det_ann_file=data_root + 'annotations/imagenet_det_30cls.json',
        data_prefix=dict(img_path='Data'),
        pipeline=train_pipeline,
        backend_args=backend_args))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    # whole videos per process, frames in order: online testing
    sampler=dict(type='TrackImgSampler'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/imagenet_vid_val.json',
        data_prefix=dict(img_path='Data'),
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args))
test_dataloader = val_dataloader

val_evaluator = [
    dict(
        type='ImagenetVIDMetric',
        ann_file=data_root + 'annotations/imagenet_vid_val.json'),
    dict(
        type='CocoVideoMetric',
        metric='bbox',
        ann_file=data_root + 'annotations/imagenet_vid_val.json'),
]
test_evaluator = val_evaluator
