# Stage 2, optical-flow stream: OFF(Flow) on the frozen stage-1 flow TSN.
# As in the authors' code the OFF units on flow features keep the temporal
# part only (the flow is a motion field already); lr 0.05 (the paper, for
# flow input), the rest as for RGB.
_base_ = ['./off_bninception_4xb32-7of25seg-20kiter_ucf101-split1-rgb.py']

stage1_checkpoint = ('work_dirs/tsn_bninception_8xb32-5x1x3-20kiter_'
                     'ucf101-split1-flow/iter_20000.pth')
clip_len = 5
model = dict(
    backbone=dict(in_channels=2 * clip_len),
    cls_head=dict(dropout_ratio=0.7),
    feature_checkpoint=stage1_checkpoint,
    off_head=dict(
        off_sub_network=dict(
            off_unit=dict(_delete_=True, reduce_channels=128, spatial=False))),
    data_preprocessor=dict(
        to_rgb=False, mean=[128.] * 2 * clip_len, std=[1.] * 2 * clip_len))

data_root = 'data/ucf101'
split = 1
# frames and lists as tools/data/extract_tvl1_flow.py writes them
frames = f'{data_root}/rawframes'
flow_data = dict(
    type='CheckedRawframeDataset',
    data_prefix=dict(_delete_=True, img=frames),
    filename_tmpl='{}_{:05d}.jpg',
    modality='Flow')
sampler = dict(
    type='IntervalConsistentSampleFrames',
    num_clips=7,
    num_segments=25,
    clip_len=clip_len)
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

optim_wrapper = dict(optimizer=dict(lr=0.05))
