# Stage 2 only: OFF(RGB) on MMAction2's released TSM R50 for
# Something-Something V2
# (tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_sthv2-rgb, 62.72 top-1),
# frozen. TSM already exchanges features between neighbouring frames; OFF
# adds explicit spatial and temporal gradients on top. The temporal shift
# mixes exactly 8 consecutive segments, so training and testing both take 8
# (the data settings of the TSN config).
_base_ = ['./off_tsn-r50_4xb32-8of8seg-30e_sthv2-rgb.py']

num_segments = 8
model = dict(
    # pretrained2d=False: ResNetTSM would load ImageNet weights from
    # `pretrained` (None here; the stage-1 weights are the checkpoint's)
    backbone=dict(
        type='ResNetTSM',
        shift_div=8,
        num_segments=num_segments,
        pretrained2d=False),
    cls_head=dict(
        type='TSMHead',
        num_segments=num_segments,
        init_std=0.001,
        is_shift=True),
    feature_checkpoint=(
        'https://download.openmmlab.com/mmaction/v1.0/recognition/tsm/'
        'tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_sthv2-rgb/'
        'tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_sthv2-rgb_'
        '20230317-be0fc26e.pth'))
