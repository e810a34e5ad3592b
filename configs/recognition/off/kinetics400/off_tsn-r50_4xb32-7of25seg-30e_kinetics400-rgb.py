# Stage 2 only: OFF(RGB) on MMAction2's released TSN R50 for Kinetics-400
# (tsn_imagenet-pretrained-r50_8xb32-1x1x8-100e_kinetics400-rgb, 74.12
# top-1), frozen; only the OFF sub-network trains. Interval-consistent
# sampling as in the paper (7 of 25 segments in training, all 25 x 10 crops
# in testing); MMAction2's Kinetics-400 data layout and augmentation.
_base_ = [
    '../_base_/models/off_tsn-r50.py',
    '../_base_/schedules/off-stage2_sgd_30e.py',
    'mmaction::_base_/default_runtime.py', '../../../_base_/off_policies.py',
    '../_base_/pack_inputs.py'
]
custom_imports = dict(
    imports=['off_plugin.recognition'], allow_failed_imports=False)

num_segments = 25
num_train_segments = 7
model = dict(
    feature_checkpoint=(
        'https://download.openmmlab.com/mmaction/v1.0/recognition/tsn/'
        'tsn_imagenet-pretrained-r50_8xb32-1x1x8-100e_kinetics400-rgb/'
        'tsn_imagenet-pretrained-r50_8xb32-1x1x8-100e_kinetics400-rgb_'
        '20220906-2692d16c.pth'),
    off_head=dict(num_classes=400),
    train_cfg=dict(num_segments=num_train_segments),
    test_cfg=dict(num_segments=num_segments))

dataset_type = 'CheckedVideoDataset'
data_root = 'data/kinetics400/videos_train'
data_root_val = 'data/kinetics400/videos_val'
ann_file_train = 'data/kinetics400/kinetics400_train_list_videos.txt'
ann_file_val = 'data/kinetics400/kinetics400_val_list_videos.txt'

sampler = dict(
    type='IntervalConsistentSampleFrames',
    num_clips=num_train_segments,
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
        max_wh_scale_gap=1),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
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
    dict(type='TenCrop', crop_size=224),
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
    batch_size=4,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file_val,
        data_prefix=dict(video=data_root_val),
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
        data_prefix=dict(video=data_root_val),
        pipeline=test_pipeline,
        test_mode=True))

val_evaluator = dict(type='AccMetric')
test_evaluator = val_evaluator

default_hooks = dict(
    checkpoint=dict(_base_.off_checkpoint_hook, interval=3, max_keep_ckpts=3))
custom_hooks = _base_.off_custom_hooks
