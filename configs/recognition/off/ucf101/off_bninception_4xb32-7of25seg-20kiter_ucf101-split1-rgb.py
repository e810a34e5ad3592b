# Stage 2, RGB stream: OFF(RGB) on the frozen stage-1 TSN (Sec. 4-5 of the
# paper). The feature generation sub-network (BN-Inception and TSN head) is
# loaded from the stage-1 checkpoint and frozen; the OFF sub-network (one
# OFF unit per scale on the inception outputs at 28, 14 and 7 pixels,
# residual stages that add up to a ResNet-20, no BN, a classifier and loss
# per level) trains from scratch. Interval-consistent sampling: 7 of 25
# segments in training, all 25 (x 10 crops) in testing, interval
# floor(L / 25). SGD, batch 128 (4 GPUs x 32), lr 0.02 x0.1 at 10k, 15k and
# 18k, 20k iterations; test score = TSN score + last OFF level's score.
_base_ = [
    './tsn_bninception_8xb32-1x1x3-4500iter_ucf101-split1-rgb.py',
    '../_base_/pack_inputs.py'
]

stage1_checkpoint = ('work_dirs/tsn_bninception_8xb32-1x1x3-4500iter_'
                     'ucf101-split1-rgb/iter_4500.pth')
num_classes = 101
num_segments = 25
num_train_segments = 7

model = dict(
    type='OFFRecognizer',
    # 3a 3b | 3c 4a 4b 4c 4d | 5a 5b: the maps of the three scales
    backbone=dict(
        out_blocks=('3a', '3b', '3c', '4a', '4b', '4c', '4d', '5a', '5b'),
        pretrained=None),
    feature_checkpoint=stage1_checkpoint,
    off_head=dict(
        type='OFFHead',
        num_classes=num_classes,
        dropout_ratio=0.8,
        init_std=0.001,
        average_clips='score',
        off_sub_network=dict(
            type='OFFSubNetwork',
            in_channels=(256, 320, 576, 576, 576, 608, 608, 1024, 1024),
            # dropout on the spatial gradients for UCF-101 / HMDB-51
            off_unit=dict(
                reduce_channels=128, kernel='sobel', spatial_dropout=0.8),
            levels=[
                dict(
                    in_indices=(0, 1),
                    stem_channels=64,
                    out_channels=256,
                    num_blocks=3,
                    stem_kernel=7,
                    stem_stride=2),
                dict(
                    in_indices=(2, 3, 4, 5, 6),
                    stem_channels=128,
                    out_channels=512,
                    num_blocks=2,
                    stem_kernel=5,
                    stem_stride=2),
                dict(
                    in_indices=(7, 8),
                    stem_channels=256,
                    out_channels=1024,
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
train_dataloader = dict(batch_size=32, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=4, dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))

train_cfg = dict(max_iters=20000, val_interval=2000)
optim_wrapper = dict(
    optimizer=dict(lr=0.02, momentum=0.9, weight_decay=5e-4),
    paramwise_cfg=dict(bias_lr_mult=2., bias_decay_mult=0.),
    clip_grad=dict(max_norm=40, norm_type=2))
param_scheduler = [
    dict(
        type='MultiStepLR',
        by_epoch=False,
        milestones=[10000, 15000, 18000],
        gamma=0.1)
]
default_hooks = dict(checkpoint=dict(interval=2000))
# `base_batch_size` = (4 GPUs) x (32 videos per GPU).
auto_scale_lr = dict(enable=False, base_batch_size=128)
