# Stage 1, optical-flow stream: TSN with BN-Inception on stacks of 5 TV-L1
# flow fields (10 channels, TSN's cross-modality initialisation from the
# ImageNet weights). TSN's temporal-network settings: dropout 0.7, lr 0.005
# (x0.1 at 12k and 18k), 20k iterations. Extract the flow with
# `python tools/data/extract_tvl1_flow.py` (rawframe layout, x_/y_ images).
_base_ = ['./tsn_bninception_8xb32-1x1x3-4500iter_ucf101-split1-rgb.py']

clip_len = 5
model = dict(
    backbone=dict(in_channels=2 * clip_len),
    cls_head=dict(dropout_ratio=0.7),
    data_preprocessor=dict(
        to_rgb=False, mean=[128.] * 2 * clip_len, std=[1.] * 2 * clip_len))

dataset_type = 'CheckedRawframeDataset'
data_root = 'data/ucf101'
split = 1
# frames and lists as tools/data/extract_tvl1_flow.py writes them
frames = f'{data_root}/rawframes'
flow_data = dict(
    type=dataset_type,
    data_prefix=dict(_delete_=True, img=frames),
    filename_tmpl='{}_{:05d}.jpg',
    modality='Flow')

train_pipeline = [
    dict(
        type='SampleFrames', clip_len=clip_len, frame_interval=1, num_clips=3),
    dict(type='CheckedRawFrameDecode'),
    dict(type='Resize', scale=(340, 256), keep_ratio=False),
    dict(
        type='MultiScaleCrop',
        input_size=224,
        scales=(1, .875, .75, .66),
        max_wh_scale_gap=1),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),  # negates x of the flipped flow
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
val_pipeline = [
    dict(
        type='SampleFrames',
        clip_len=clip_len,
        frame_interval=1,
        num_clips=25,
        test_mode=True),
    dict(type='CheckedRawFrameDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
test_pipeline = [
    dict(
        type='SampleFrames',
        clip_len=clip_len,
        frame_interval=1,
        num_clips=25,
        test_mode=True),
    dict(type='CheckedRawFrameDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='TenCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]

train_dataloader = dict(
    dataset=dict(
        flow_data,
        ann_file=f'{frames}/ucf101_train_split_{split}_rawframes.txt',
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        flow_data,
        ann_file=f'{frames}/ucf101_val_split_{split}_rawframes.txt',
        pipeline=val_pipeline))
test_dataloader = dict(
    dataset=dict(
        flow_data,
        ann_file=f'{frames}/ucf101_val_split_{split}_rawframes.txt',
        pipeline=test_pipeline))

train_cfg = dict(max_iters=20000)
optim_wrapper = dict(optimizer=dict(lr=0.005))
param_scheduler = [
    dict(
        type='MultiStepLR',
        by_epoch=False,
        milestones=[12000, 18000],
        gamma=0.1)
]
