# Stage 1, RGB stream, for the authors' Caffe init model of OFF(RGB)
# (github kevin-ssy/Optical-Flow-Guided-Feature, UCF-101 split 1), converted
# by tools/convert_caffe_off.py. Same network as the TSN config it derives
# from; the authors' input convention: BGR frames in [0, 255] minus the mean
# [104, 117, 123], no scaling (their deploy_tpl.prototxt). The weights come
# from the converted checkpoint, not from ImageNet.
_base_ = ['./tsn_bninception_8xb32-1x1x3-4500iter_ucf101-split1-rgb.py']

model = dict(
    backbone=dict(pretrained=None),
    data_preprocessor=dict(
        to_rgb=True,  # decord gives RGB; the Caffe weights want BGR
        mean=[104., 117., 123.],  # BGR, applied after the flip
        std=[1., 1., 1.]))
