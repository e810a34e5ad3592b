# Stage 2, optical-flow stream: the authors' Caffe OFF(Flow) network (github
# kevin-ssy/Optical-Flow-Guided-Feature, models/ucf101/flow_off/1), rebuilt
# layer for layer for their converted reference model: the structure of
# off_bninception-caffe_4xb32-7of25seg-20kiter_ucf101-split1-rgb.py with
# temporal-only OFF units (1x1 conv to 128 + ReLU, difference of adjacent
# segments), dropout 0.8 before every classifier (their TSN part's too,
# where the TSN flow configs have 0.7). Input as the base config and their
# deploy_tpl.prototxt: 5 flow fields x, y interleaved, minus 128, no
# scaling. Their protocol as in
# off_bninception-caffe_4xb32-7of25seg-20kiter_ucf101-split1-rgb.py, with 5
# fields a segment: positions 1 + i * floor((L - 5) / 24).
_base_ = ['./off_bninception_4xb32-7of25seg-20kiter_ucf101-split1-flow.py']

stage1_checkpoint = ('checkpoints/tsn_bninception-caffe_8xb32-5x1x3-20kiter'
                     '_ucf101-split1-flow.pth')
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
    cls_head=dict(dropout_ratio=0.8),
    feature_checkpoint=stage1_checkpoint,
    off_head=dict(
        dropout_ratio=0.8,
        max_pool_levels=(0, ),
        off_sub_network=dict(
            unit_per_map=True,
            off_unit=dict(_delete_=True, reduce_channels=128, spatial=False),
            levels=caffe_levels)),
    test_cfg=dict(crop_agg='max'))

clip_len = 5
sampler = dict(
    type='IntervalConsistentSampleFrames',
    num_clips=7,
    num_segments=25,
    clip_len=clip_len,
    mode='positions',
    max_start=17)
train_pipeline = [
    sampler,
    dict(type='CheckedRawFrameDecode'),
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
    dict(sampler, test_mode=True),
    dict(type='CheckedRawFrameDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCHW'), _base_.pack_inputs
]
test_pipeline = [
    dict(sampler, test_mode=True),
    dict(type='CheckedRawFrameDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='TenCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCHW'), _base_.pack_inputs
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
