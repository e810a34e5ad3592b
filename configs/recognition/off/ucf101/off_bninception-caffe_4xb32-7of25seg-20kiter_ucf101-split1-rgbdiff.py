# Stage 2, RGB-difference stream: the authors' Caffe OFF(RGB DIFF) network
# (github kevin-ssy/Optical-Flow-Guided-Feature, models/ucf101/rgb_diff_off/
# 1), rebuilt layer for layer for their converted reference model: the
# structure of off_bninception-caffe_4xb32-7of25seg-20kiter_ucf101-split1-
# rgb.py with temporal-only OFF units. Input: their 5 differences of 6
# frames (mean cancels, no scaling); FormatRGBDiff gives them in RGB order,
# the converter reverses the colour channels of every difference in the
# first convolution (the authors' are BGR). Their protocol as in
# off_bninception-caffe_4xb32-7of25seg-20kiter_ucf101-split1-rgb.py, with 6
# frames a segment: positions 1 + i * floor((L - 6) / 24).
_base_ = ['./off_bninception_4xb32-7of25seg-20kiter_ucf101-split1-rgbdiff.py']

stage1_checkpoint = ('checkpoints/tsn_bninception-caffe_8xb32-6x1x3-4500iter'
                     '_ucf101-split1-rgbdiff.pth')
caffe_levels = [
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
        stem_stride=2,
        expand_kernels=(1, 3)),
    dict(
        in_indices=(7, 8),
        stem_channels=256,
        out_channels=1024,
        num_blocks=1,
        stem_kernel=3,
        stem_stride=1,
        out_relu=False),
]

model = dict(
    backbone=dict(pretrained=None),
    feature_checkpoint=stage1_checkpoint,
    off_head=dict(
        dropout_ratio=0.8,
        max_pool_levels=(0, ),
        off_sub_network=dict(
            unit_per_map=True,
            off_unit=dict(_delete_=True, reduce_channels=128, spatial=False),
            levels=caffe_levels)),
    test_cfg=dict(crop_agg='max'))

clip_len = 6
sampler = dict(
    type='IntervalConsistentSampleFrames',
    num_clips=7,
    num_segments=25,
    clip_len=clip_len,
    mode='positions',
    max_start=17)
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
    dict(type='FormatRGBDiff'), _base_.pack_inputs
]
val_pipeline = [
    dict(type='CheckedDecordInit'),
    dict(sampler, test_mode=True),
    dict(type='CheckedDecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatRGBDiff'), _base_.pack_inputs
]
test_pipeline = [
    dict(type='CheckedDecordInit'),
    dict(sampler, test_mode=True),
    dict(type='CheckedDecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='TenCrop', crop_size=224),
    dict(type='FormatRGBDiff'), _base_.pack_inputs
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
