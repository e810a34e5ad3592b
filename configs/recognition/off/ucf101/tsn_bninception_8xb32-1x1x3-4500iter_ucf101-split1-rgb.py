# Stage 1, RGB stream: TSN with BN-Inception (Wang et al., 2016), the
# feature generation sub-network of OFF. MMAction2's Recognizer2D, TSN's
# settings: ImageNet weights, partial BN, dropout 0.8, 3 segments, batch 256,
# SGD lr 0.001 (x0.1 every 2000 iterations), 4500 iterations; tested with 25
# segments x 10 crops. Data as MMAction2's tools/data/ucf101 prepare it.
_base_ = [
    'mmaction::_base_/default_runtime.py', '../../../_base_/off_policies.py'
]
custom_imports = dict(
    imports=['off_plugin.recognition'], allow_failed_imports=False)

split = 1
data_root = 'data/ucf101'
num_classes = 101
# ImageNet BN-Inception, the widely used port of the Caffe model (BGR input
# in [0, 255], mean [104, 117, 128]).
imagenet_bninception = ('http://data.lip6.fr/cadene/pretrainedmodels/'
                        'bn_inception-52deb4733.pth')

model = dict(
    type='Recognizer2D',
    backbone=dict(
        type='BNInception', pretrained=imagenet_bninception, partial_bn=True),
    cls_head=dict(
        type='TSNHead',
        num_classes=num_classes,
        in_channels=1024,
        spatial_type='avg',
        consensus=dict(type='AvgConsensus', dim=1),
        dropout_ratio=0.8,
        init_std=0.001,
        average_clips='score'),
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        to_rgb=True,  # decord gives RGB; the ImageNet weights want BGR
        mean=[104., 117., 128.],  # BGR, applied after the flip
        std=[1., 1., 1.],
        format_shape='NCHW'))

dataset_type = 'CheckedVideoDataset'
train_pipeline = [
    dict(type='CheckedDecordInit'),
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=3),
    dict(type='CheckedDecordDecode'),
    dict(type='Resize', scale=(340, 256), keep_ratio=False),
    dict(
        type='MultiScaleCrop',
        input_size=224,
        scales=(1, .875, .75, .66),
        max_wh_scale_gap=1),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
val_pipeline = [
    dict(type='CheckedDecordInit'),
    dict(
        type='SampleFrames',
        clip_len=1,
        frame_interval=1,
        num_clips=25,
        test_mode=True),
    dict(type='CheckedDecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
test_pipeline = [
    dict(type='CheckedDecordInit'),
    dict(
        type='SampleFrames',
        clip_len=1,
        frame_interval=1,
        num_clips=25,
        test_mode=True),
    dict(type='CheckedDecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='TenCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
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
    batch_size=8,
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

train_cfg = dict(type='IterBasedTrainLoop', max_iters=4500, val_interval=500)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.001, momentum=0.9, weight_decay=5e-4),
    clip_grad=dict(max_norm=40, norm_type=2))
param_scheduler = [
    dict(
        type='MultiStepLR', by_epoch=False, milestones=[2000, 4000], gamma=0.1)
]

default_hooks = dict(
    checkpoint=dict(
        _base_.off_checkpoint_hook,
        by_epoch=False,
        interval=500,
        max_keep_ckpts=2))
custom_hooks = _base_.off_custom_hooks
log_processor = dict(by_epoch=False)
# `base_batch_size` = (8 GPUs) x (32 videos per GPU).
auto_scale_lr = dict(enable=False, base_batch_size=256)
