# Stage 2 on the embedded motion set: OFF on the frozen stage-1 TSN.
# The feature generation sub-network (ResNet-18 and TSN head) is loaded from
# the stage-1 checkpoint and frozen; the OFF sub-network takes layer1-layer3
# (14, 7 and 4 pixels at 56x56 crops) and trains from scratch.
# Interval-consistent sampling: 5 of 8 segments in training, all 8 in
# testing, the same interval floor(L / 8).
_base_ = [
    './tsn_r18_1xb8-8seg-4e_motion-demo-rgb.py', './_base_/pack_inputs.py'
]

stage1_checkpoint = 'work_dirs/motion_demo/tsn/epoch_4.pth'
num_segments = 8
num_train_segments = 5

model = dict(
    type='OFFRecognizer',
    backbone=dict(out_indices=(0, 1, 2, 3)),
    feature_checkpoint=stage1_checkpoint,
    off_head=dict(
        type='OFFHead',
        num_classes=4,
        dropout_ratio=0.5,
        topk=(1, ),
        average_clips='prob',
        off_sub_network=dict(
            type='OFFSubNetwork',
            in_channels=(64, 128, 256, 512),
            off_unit=dict(reduce_channels=32),
            levels=[
                dict(
                    in_indices=(0, ),
                    stem_channels=32,
                    out_channels=64,
                    num_blocks=1,
                    stem_kernel=3,
                    stem_stride=2),
                dict(
                    in_indices=(1, ),
                    stem_channels=64,
                    out_channels=128,
                    num_blocks=1,
                    stem_kernel=3,
                    stem_stride=2),
                dict(
                    in_indices=(2, ),
                    stem_channels=64,
                    out_channels=128,
                    num_blocks=1,
                    stem_kernel=3,
                    stem_stride=1),
            ])),
    train_cfg=dict(_delete_=True, num_segments=num_train_segments),
    test_cfg=dict(
        _delete_=True, num_segments=num_segments, rgb_weight=1.,
        off_weight=1.))

sampler = dict(
    type='IntervalConsistentSampleFrames',
    num_clips=num_train_segments,
    num_segments=num_segments)
train_pipeline = [
    dict(type='CheckedDecordInit'), sampler,
    dict(type='CheckedDecordDecode'),
    dict(type='RandomCrop', size=56),
    dict(type='FormatShape', input_format='NCHW'), _base_.pack_inputs
]
test_pipeline = [
    dict(type='CheckedDecordInit'),
    dict(sampler, test_mode=True),
    dict(type='CheckedDecordDecode'),
    dict(type='CenterCrop', crop_size=56),
    dict(type='FormatShape', input_format='NCHW'), _base_.pack_inputs
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

train_cfg = dict(max_epochs=10, val_interval=10)
optim_wrapper = dict(optimizer=dict(lr=2e-3))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=10, by_epoch=True)]
default_hooks = dict(checkpoint=dict(interval=10))
