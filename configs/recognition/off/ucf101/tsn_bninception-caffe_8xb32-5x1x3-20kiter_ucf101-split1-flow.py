# Stage 1, optical-flow stream, for the authors' Caffe init model of OFF(Flow)
# (github kevin-ssy/Optical-Flow-Guided-Feature, UCF-101 split 1), converted by
# tools/model_converters/convert_caffe_off.py. The authors' input convention is
# the one of the TSN config it derives from: 5 flow fields x, y interleaved
# (x1, y1, ..., x5, y5) as 8-bit images minus 128, no scaling. The weights come
# from the converted checkpoint, not from ImageNet. Dropout 0.8 before the
# classifier, as their flow network (TSN's temporal network: 0.7). Tested with
# the authors' frame positions (their video_data_layer.cpp): 25 positions 1 + i
# * floor((L - 5) / 24) over the whole video. Crops: MMAction2's Recognizer2D
# averages them. The authors' whole protocol for this stream (the `fc` score of
# their OFF network, maximum over crops) is the stage-2 config of the stream,
# off_bninception-caffe_*, with `--cfg-options model.test_cfg.off_weight=0`.
_base_ = ['./tsn_bninception_8xb32-5x1x3-20kiter_ucf101-split1-flow.py']

model = dict(backbone=dict(pretrained=None), cls_head=dict(dropout_ratio=0.8))

test_sampler = dict(
    type='IntervalConsistentSampleFrames',
    num_clips=25,
    num_segments=25,
    clip_len=5,
    mode='positions',
    test_mode=True)
val_pipeline = [
    test_sampler,
    dict(type='CheckedRawFrameDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
test_pipeline = [
    test_sampler,
    dict(type='CheckedRawFrameDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='TenCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
