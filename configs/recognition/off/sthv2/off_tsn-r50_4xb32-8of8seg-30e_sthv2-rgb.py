# Stage 2 only: OFF(RGB) on MMAction2's released TSN R50 for
# Something-Something V2
# (tsn_imagenet-pretrained-r50_8xb32-1x1x8-50e_sthv2-rgb, 35.51 top-1),
# frozen; only the OFF sub-network trains. In this dataset the direction and
# order of motion decide the class, which frame-level TSN features cannot
# see and OFF's temporal differences can. The clips are short (2-6 s), so
# every clip takes 8 segments over the whole video with the same interval
# in training and testing; MMAction2's sthv2 data layout and augmentation
# (the flip swaps the left/right classes).
_base_ = [
    '../_base_/models/off_tsn-r50.py',
    '../_base_/schedules/off-stage2_sgd_30e.py',
    'mmaction::_base_/default_runtime.py', '../../../_base_/off_policies.py',
    '../_base_/pack_inputs.py'
]
custom_imports = dict(
    imports=['off_plugin.recognition'], allow_failed_imports=False)

num_segments = 8
model = dict(
    feature_checkpoint=(
        'https://download.openmmlab.com/mmaction/v1.0/recognition/tsn/'
        'tsn_imagenet-pretrained-r50_8xb32-1x1x8-50e_sthv2-rgb/'
        'tsn_imagenet-pretrained-r50_8xb32-1x1x8-50e_sthv2-rgb_'
        '20230313-06ad7d03.pth'),
    cls_head=dict(num_classes=174, dropout_ratio=0.5),
    off_head=dict(num_classes=174),
    train_cfg=dict(num_segments=num_segments),
    test_cfg=dict(num_segments=num_segments))

dataset_type = 'CheckedVideoDataset'
data_root = 'data/sthv2/videos'
ann_file_train = 'data/sthv2/sthv2_train_list_videos.txt'
ann_file_val = 'data/sthv2/sthv2_val_list_videos.txt'

sthv2_flip_label_map = {86: 87, 87: 86, 93: 94, 94: 93, 166: 167, 167: 166}
sampler = dict(
    type='IntervalConsistentSampleFrames',
    num_clips=num_segments,
    num_segments=num_segments)
train_pipeline = [
    dict(type='CheckedDecordInit'), sampler,
    dict(type='CheckedDecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(
        type='MultiScaleCrop',
        input_size=224,
        scales=(1, 0.875, 0.75, 0.66),
        random_crop=False,
        max_wh_scale_gap=1,
        num_fixed_crops=13),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5, flip_label_map=sthv2_flip_label_map),
    dict(type='FormatShape', input_format='NCHW'), _base_.pack_inputs
]
val_pipeline = [
    dict(type='CheckedDecordInit'),
    dict(sampler, test_mode=True),
    dict(type='CheckedDecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCHW'), _base_.pack_inputs
]
test_pipeline = [
    dict(type='CheckedDecordInit'),
    dict(sampler, test_mode=True),
    dict(type='CheckedDecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='ThreeCrop', crop_size=256),
    dict(type='FormatShape', input_format='NCHW'), _base_.pack_inputs
]

train_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file_train,
        data_prefix=dict(video=data_root),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file_val,
        data_prefix=dict(video=data_root),
        pipeline=val_pipeline,
        test_mode=True))
test_dataloader = dict(
    batch_size=1,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file_val,
        data_prefix=dict(video=data_root),
        pipeline=test_pipeline,
        test_mode=True))

val_evaluator = dict(type='AccMetric')
test_evaluator = val_evaluator

default_hooks = dict(
    checkpoint=dict(_base_.off_checkpoint_hook, interval=3, max_keep_ckpts=3))
custom_hooks = _base_.off_custom_hooks
