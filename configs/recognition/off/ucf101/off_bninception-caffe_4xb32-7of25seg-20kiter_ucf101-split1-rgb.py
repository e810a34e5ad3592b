# Stage 2, RGB stream: the authors' Caffe OFF(RGB) network (github
# kevin-ssy/Optical-Flow-Guided-Feature, models/ucf101/rgb_off/1), rebuilt
# layer for layer so that their reference model, converted by
# tools/model_converters/convert_caffe_off.py, runs unchanged:
# - one OFF unit per inception output (3a 3b | 3c 4a 4b 4c 4d | 5a 5b): a
#   1x1 conv to 128 + ReLU for the temporal difference, a separate 1x1 conv
#   to 32 (no ReLU) for the spatial gradient with their single fixed kernel,
#   dropout 0.8 on it; concat [spatial, temporal, lower level];
# - stages: 7x7/2 conv to 64 + 3 bottlenecks (64-64-256) | 5x5/2 conv to
#   128 + 2 bottlenecks (128-128-512, the second expanding with a 3x3
#   conv) | 3x3 conv to 256 + 1 bottleneck (256-256-1024) without ReLU
#   after its sum;
# - heads: 3x3/2 max pooling before the average pooling on the 28-level,
#   dropout 0.8, fc.
# Input as their deploy_tpl.prototxt: BGR minus [104, 117, 123], no
# scaling. Training from their init model (converted to
# `stage1_checkpoint`) keeps the base config's schedule.
# Their protocol (tools/test.py, ensemble_test.py, video_data_layer.cpp):
# 25 positions 1 + i * floor((L - 1) / 24) over the whole video, training
# on 7 consecutive ones from a random first one in [0, 17); in testing per
# stream the maximum over the 10 crops of every segment's raw score, then
# the mean over segments, then their fusion.
_base_ = ['./off_bninception_4xb32-7of25seg-20kiter_ucf101-split1-rgb.py']

stage1_checkpoint = ('checkpoints/tsn_bninception-caffe_8xb32-1x1x3-4500iter'
                     '_ucf101-split1-rgb.pth')
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
            off_unit=dict(
                _delete_=True,
                reduce_channels=128,
                spatial_channels=32,
                kernel='combined',
                spatial_dropout=0.8),
            levels=caffe_levels)),
    # the authors' fusion for 90.5%: TSN : OFF-14 : OFF-7 = 1 : 1 : 2
    test_cfg=dict(off_weight=(0., 1., 2.), crop_agg='max'),
    data_preprocessor=dict(
        to_rgb=True,  # decord gives RGB; the Caffe weights want BGR
        mean=[104., 117., 123.],  # BGR, applied after the flip
        std=[1., 1., 1.]))

sampler = dict(
    type='IntervalConsistentSampleFrames',
    num_clips=7,
    num_segments=25,
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
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
