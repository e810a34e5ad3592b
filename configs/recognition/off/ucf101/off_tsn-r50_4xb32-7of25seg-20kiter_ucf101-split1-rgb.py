# Stage 2 only: OFF(RGB) on MMAction2's released TSN R50 for UCF-101 split 1
# (0.x model zoo: tsn_r50_1x1x3_75e_ucf101_rgb, 83.03 top-1; its keys are
# those of the 1.x ResNet and TSNHead), frozen; only the OFF sub-network
# trains, with the paper's stage-2 settings (as the BN-Inception config:
# 7 of 25 segments, batch 128, SGD lr 0.02 x0.1 at 10k/15k/18k, 20k
# iterations, 25 segments x 10 crops in testing).
_base_ = [
    '../_base_/models/off_tsn-r50.py', 'mmaction::_base_/default_runtime.py',
    '../../../_base_/off_policies.py', '../_base_/pack_inputs.py'
]
custom_imports = dict(
    imports=['off_plugin.recognition'], allow_failed_imports=False)

split = 1
data_root = 'data/ucf101'
num_classes = 101
num_segments = 25
num_train_segments = 7
model = dict(
    feature_checkpoint=(
        'https://download.openmmlab.com/mmaction/recognition/tsn/'
        'tsn_r50_1x1x3_75e_ucf101_rgb/'
        'tsn_r50_1x1x3_75e_ucf101_rgb_20201023-d85ab600.pth'),
    cls_head=dict(num_classes=num_classes),
    off_head=dict(num_classes=num_classes),
    train_cfg=dict(num_segments=num_train_segments),
    test_cfg=dict(num_segments=num_segments))

dataset_type = 'CheckedVideoDataset'
sampler = dict(
    type='IntervalConsistentSampleFrames',
    num_clips=num_train_segments,
    num_segments=num_segments)
train_pipeline = [
    dict(type='CheckedDecordInit'), sampler,
    dict(type='CheckedDecordDecode'),
    dict(type='Resize', scale=(340, 256), keep_ratio=False),
    dict(
        type='MultiScaleCrop',
        input_size=224,
        scales=(1, .875, .75, .66),
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
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        ann_file=f'{data_root}/ucf101_train_split_{split}_videos.txt',
        data_prefix=dict(video=f'{data_root}/videos'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=f'{data_root}/ucf101_val_split_{split}_videos.txt',
        data_prefix=dict(video=f'{data_root}/videos'),
        pipeline=val_pipeline,
        test_mode=True))
test_dataloader = dict(
    batch_size=1,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=f'{data_root}/ucf101_val_split_{split}_videos.txt',
        data_prefix=dict(video=f'{data_root}/videos'),
        pipeline=test_pipeline,
        test_mode=True))

val_evaluator = dict(type='AccMetric')
test_evaluator = val_evaluator

train_cfg = dict(type='IterBasedTrainLoop', max_iters=20000, val_interval=2000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=5e-4),
    paramwise_cfg=dict(bias_lr_mult=2., bias_decay_mult=0.),
    clip_grad=dict(max_norm=40, norm_type=2))
param_scheduler = [
    dict(
        type='MultiStepLR',
        by_epoch=False,
        milestones=[10000, 15000, 18000],
        gamma=0.1)
]
default_hooks = dict(
    checkpoint=dict(
        _base_.off_checkpoint_hook,
        by_epoch=False,
        interval=2000,
        max_keep_ckpts=3))
custom_hooks = _base_.off_custom_hooks
log_processor = dict(by_epoch=False)
# `base_batch_size` = (4 GPUs) x (32 videos per GPU).
auto_scale_lr = dict(enable=False, base_batch_size=128)
