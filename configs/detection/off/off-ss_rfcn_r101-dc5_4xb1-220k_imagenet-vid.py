# R-FCN + OFF, single scale (Table 6, SS): OFF between the key frame and the
# frame before it on the 1024-d map, residual SE blocks blending it in.
_base_ = './rfcn_r101-dc5_4xb1-220k_imagenet-vid.py'

model = dict(
    off=dict(
        _delete_=True,  # the baseline has off=None
        type='OFFRefiner',
        in_channels=[512, 1024],
        levels=[
            dict(
                in_indices=[1],
                stem_channels=256,
                out_channels=512,
                num_blocks=2),
        ],
        se_ratio=16,
        num_blocks=1))
