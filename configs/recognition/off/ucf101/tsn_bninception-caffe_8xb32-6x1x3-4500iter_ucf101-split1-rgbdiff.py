# Stage 1, RGB-difference stream, for the authors' Caffe init model of
# OFF(RGB DIFF) (github kevin-ssy/Optical-Flow-Guided-Feature, UCF-101
# split 1), converted by tools/convert_caffe_off.py. The authors feed the 5
# differences frame[i + 1] - frame[i] of 6 BGR frames (the mean cancels, no
# scaling); FormatRGBDiff gives them in RGB order, so the converter reverses
# the colour channels of every difference in the first convolution instead.
# The weights come from the converted checkpoint, not from ImageNet.
_base_ = ['./tsn_bninception_8xb32-6x1x3-4500iter_ucf101-split1-rgbdiff.py']

model = dict(backbone=dict(pretrained=None))
