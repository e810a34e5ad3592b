# Stage 2, RGB-difference stream: OFF(RGB Diff) on the frozen stage-1
# RGB-difference TSN: the temporal gradient on the input level, then OFF on
# the features. Temporal part only, as in the authors' code.
_base_ = ['./off_bninception_4xb32-7of25seg-20kiter_ucf101-split1-rgb.py']

stage1_checkpoint = ('work_dirs/tsn_bninception_8xb32-6x1x3-4500iter_'
                     'ucf101-split1-rgbdiff/iter_4500.pth')
clip_len = 6
model = dict(
    backbone=dict(in_channels=3 * (clip_len - 1)),
    feature_checkpoint=stage1_checkpoint,
    off_head=dict(
        off_sub_network=dict(
            off_unit=dict(_delete_=True, reduce_channels=128, spatial=False))),
    data_preprocessor=dict(
        _delete_=True, type='ActionDataPreprocessor', format_shape='NCHW'))

sampler = dict(
    type='IntervalConsistentSampleFrames',
    num_clips=7,
    num_segments=25,
    clip_len=clip_len)
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
