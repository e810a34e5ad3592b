# R-FCN + OFF, multi scale (Table 6, MS; the paper's final setting): OFF on
# the 512-d res3 maps (1/8) and on the 1024-d map (1/16), residual SE blocks
# joining the scales and blending the motion into the key frame's map.
_base_ = './rfcn_r101-dc5_4xb1-220k_imagenet-vid.py'

model = dict(
    off=dict(
        _delete_=True,  # the baseline has off=None
        type='OFFRefiner',
        in_channels=[512, 1024],
        levels=[
            dict(
                in_indices=[0],
                stem_channels=128,
                out_channels=256,
                num_blocks=1,
                stem_stride=2),
            dict(
                in_indices=[1],
                stem_channels=256,
                out_channels=512,
                num_blocks=1),
        ],
        se_ratio=16,
        num_blocks=1))
