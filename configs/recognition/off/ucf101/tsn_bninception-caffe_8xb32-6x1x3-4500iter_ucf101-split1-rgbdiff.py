# Stage 1, RGB-difference stream, for the authors' Caffe init model of OFF(RGB
# DIFF) (github kevin-ssy/Optical-Flow-Guided-Feature, UCF-101 split 1),
# converted by tools/model_converters/convert_caffe_off.py. The authors feed
# the 5 differences frame[i + 1] - frame[i] of 6 BGR frames (the mean cancels,
# no scaling); FormatRGBDiff gives them in RGB order, so the converter reverses
# the colour channels of every difference in the first convolution instead. The
# weights come from the converted checkpoint, not from ImageNet. Tested with
# the authors' frame positions (their video_data_layer.cpp): 25 positions 1 + i
# * floor((L - 6) / 24) over the whole video. Crops: MMAction2's Recognizer2D
# averages them. The authors' whole protocol for this stream (the `fc` score of
# their OFF network, maximum over crops) is the stage-2 config of the stream,
# off_bninception-caffe_*, with `--cfg-options model.test_cfg.off_weight=0`.
_base_ = ['./tsn_bninception_8xb32-6x1x3-4500iter_ucf101-split1-rgbdiff.py']

model = dict(backbone=dict(pretrained=None))

test_sampler = dict(
    type='IntervalConsistentSampleFrames',
    num_clips=25,
    num_segments=25,
    clip_len=6,
    mode='positions',
    test_mode=True)
val_pipeline = [
    dict(type='CheckedDecordInit'), test_sampler,
    dict(type='CheckedDecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatRGBDiff'),
    dict(type='PackActionInputs')
]
test_pipeline = [
    dict(type='CheckedDecordInit'), test_sampler,
    dict(type='CheckedDecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='TenCrop', crop_size=224),
    dict(type='FormatRGBDiff'),
    dict(type='PackActionInputs')
]
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
