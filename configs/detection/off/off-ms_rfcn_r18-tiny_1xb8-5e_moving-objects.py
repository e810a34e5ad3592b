# The embedded demo's OFF detector: the baseline's R-FCN with multi-scale
# OFF between each frame and the frame before it (res3 64-d and the 128-d
# detection map), residual SE blocks joining the scales.
_base_ = './rfcn_r18-tiny_1xb8-5e_moving-objects.py'

model = dict(
    off=dict(
        _delete_=True,  # the baseline has off=None
        type='OFFRefiner',
        in_channels=[64, 128],
        levels=[
            dict(
                in_indices=[0],
                stem_channels=32,
                out_channels=64,
                num_blocks=1),
            dict(
                in_indices=[1],
                stem_channels=64,
                out_channels=128,
                num_blocks=1),
        ],
        off_unit=dict(reduce_channels=32),
        se_ratio=8,
        num_blocks=1))
