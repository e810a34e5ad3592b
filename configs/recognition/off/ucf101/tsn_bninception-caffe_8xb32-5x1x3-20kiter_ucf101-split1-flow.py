# Stage 1, optical-flow stream, for the authors' Caffe init model of
# OFF(Flow) (github kevin-ssy/Optical-Flow-Guided-Feature, UCF-101 split 1),
# converted by tools/convert_caffe_off.py. The authors' input convention is
# the one of the TSN config it derives from: 5 flow fields x, y
# interleaved (x1, y1, ..., x5, y5) as 8-bit images minus 128, no scaling.
# The weights come from the converted checkpoint, not from ImageNet.
_base_ = ['./tsn_bninception_8xb32-5x1x3-20kiter_ucf101-split1-flow.py']

model = dict(backbone=dict(pretrained=None))
