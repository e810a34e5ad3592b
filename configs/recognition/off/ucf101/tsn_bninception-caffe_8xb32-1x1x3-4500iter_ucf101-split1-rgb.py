# Stage 1, RGB stream, for the authors' Caffe init model of OFF(RGB) (github
# kevin-ssy/Optical-Flow-Guided-Feature, UCF-101 split 1), converted by
# tools/model_converters/convert_caffe_off.py. Same network as the TSN config
# it derives from; the authors' input convention: BGR frames in [0, 255] minus
# the mean [104, 117, 123], no scaling (their deploy_tpl.prototxt). The weights
# come from the converted checkpoint, not from ImageNet. Tested with the
# authors' frame positions (their video_data_layer.cpp): 25 positions 1 + i *
# floor((L - 1) / 24) over the whole video. Crops: MMAction2's Recognizer2D
# averages them. The authors' whole protocol for this stream (the `fc` score of
# their OFF network, maximum over crops) is the stage-2 config of the stream,
# off_bninception-caffe_*, with `--cfg-options model.test_cfg.off_weight=0`.
_base_ = ['./tsn_bninception_8xb32-1x1x3-4500iter_ucf101-split1-rgb.py']

model = dict(
    backbone=dict(pretrained=None),
    data_preprocessor=dict(
        to_rgb=True,  # decord gives RGB; the Caffe weights want BGR
        mean=[104., 117., 123.],  # BGR, applied after the flip
        std=[1., 1., 1.]))

test_sampler = dict(
    type='IntervalConsistentSampleFrames',
    num_clips=25,
    num_segments=25,
    mode='positions',
    test_mode=True)
val_pipeline = [
    dict(type='CheckedDecordInit'), test_sampler,
    dict(type='CheckedDecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
test_pipeline = [
    dict(type='CheckedDecordInit'), test_sampler,
    dict(type='CheckedDecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='TenCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs')
]
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
