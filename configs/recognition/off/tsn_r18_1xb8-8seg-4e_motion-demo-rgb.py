# Stage 1 on the embedded motion set: a plain TSN (MMAction2's Recognizer2D)
# with a ResNet-18 from scratch. The classes differ only in motion, so TSN's
# average over segments cannot tell them apart: expect chance (0.25).
# `python demo/motion_demo.py` (the README's `make demo`) writes the data
# to data/motion_demo.
_base_ = [
    'mmaction::_base_/models/tsn_r50.py',
    'mmaction::_base_/default_runtime.py', '../../_base_/off_policies.py'
]
custom_imports = dict(
    imports=['off_plugin.recognition'], allow_failed_imports=False)

model = dict(
    backbone=dict(depth=18, pretrained=None, out_indices=(3, )),
    cls_head=dict(num_classes=4, in_channels=512, dropout_ratio=0.5),
    data_preprocessor=dict(mean=[128., 128., 128.], std=[64., 64., 64.]))

dataset_type = 'CheckedVideoDataset'
data_root = 'data/motion_demo'
num_segments = 8

train_pipeline = [
    dict(type='CheckedDecordInit'),
    dict(
        type='SampleFrames',
        clip_len=1,
        frame_interval=1,
        num_clips=num_segments),
    dict(type='CheckedDecordDecode'),
    dict(type='RandomCrop', size=56),
    # No flip: it would turn "move left" into "move right".
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
test_pipeline = [
    dict(type='CheckedDecordInit'),
    dict(
        type='SampleFrames',
        clip_len=1,
        frame_interval=1,
        num_clips=num_segments,
        test_mode=True),
    dict(type='CheckedDecordDecode'),
    dict(type='CenterCrop', crop_size=56),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]

train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        ann_file=f'{data_root}/train.txt',
        data_prefix=dict(video=f'{data_root}/videos'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=f'{data_root}/val.txt',
        data_prefix=dict(video=f'{data_root}/videos'),
        pipeline=test_pipeline,
        test_mode=True))
test_dataloader = val_dataloader

val_evaluator = dict(
    type='AccMetric',
    metric_list=('mean_class_accuracy', 'top_k_accuracy'),
    metric_options=dict(top_k_accuracy=dict(topk=(1, ))))
test_evaluator = val_evaluator

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=4, val_interval=4)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=1e-4),
    clip_grad=dict(max_norm=40, norm_type=2))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=4, by_epoch=True)]

default_hooks = dict(
    checkpoint=dict(_base_.off_checkpoint_hook, interval=4, max_keep_ckpts=1),
    logger=dict(interval=10))
custom_hooks = _base_.off_custom_hooks
# One CPU process is the default; `--launcher pytorch` on CPUs needs gloo.
env_cfg = dict(dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0, deterministic=False)
