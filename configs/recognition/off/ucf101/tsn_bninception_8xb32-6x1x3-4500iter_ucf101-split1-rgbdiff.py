# Stage 1, RGB-difference stream: TSN with BN-Inception on the 5 differences
# of 6 consecutive frames per segment (15 channels, TSN's cross-modality
# initialisation). RGB difference is the temporal gradient on the input
# level; stage 2 adds OFF on its features. The TSN paper gives no separate
# schedule for it: the RGB stream's is kept.
_base_ = ['./tsn_bninception_8xb32-1x1x3-4500iter_ucf101-split1-rgb.py']

clip_len = 6
model = dict(
    backbone=dict(in_channels=3 * (clip_len - 1)),
    # differences are centred already: no mean, no scaling, no BGR flip
    data_preprocessor=dict(
        _delete_=True, type='ActionDataPreprocessor', format_shape='NCHW'))

train_pipeline = [
    dict(type='CheckedDecordInit'),
    dict(
        type='SampleFrames', clip_len=clip_len, frame_interval=1, num_clips=3),
    dict(type='CheckedDecordDecode'),
    dict(type='Resize', scale=(340, 256), keep_ratio=False),
    dict(
        type='MultiScaleCrop',
        input_size=224,
        scales=(1, .875, .75, .66),
        max_wh_scale_gap=1),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatRGBDiff'),
    dict(type='PackActionInputs')
]
val_pipeline = [
    dict(type='CheckedDecordInit'),
    dict(
        type='SampleFrames',
        clip_len=clip_len,
        frame_interval=1,
        num_clips=25,
        test_mode=True),
    dict(type='CheckedDecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatRGBDiff'),
    dict(type='PackActionInputs')
]
test_pipeline = [
    dict(type='CheckedDecordInit'),
    dict(
        type='SampleFrames',
        clip_len=clip_len,
        frame_interval=1,
        num_clips=25,
        test_mode=True),
    dict(type='CheckedDecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='TenCrop', crop_size=224),
    dict(type='FormatRGBDiff'),
    dict(type='PackActionInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
