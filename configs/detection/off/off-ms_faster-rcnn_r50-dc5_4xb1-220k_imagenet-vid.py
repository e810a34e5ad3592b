# Faster R-CNN R50-DC5 + OFF, multi scale: the OFF-refined 2048-d map feeds
# mmdet's standard RPN and RoI head (no split).
_base_ = './faster-rcnn_r50-dc5_4xb1-220k_imagenet-vid.py'

model = dict(
    off=dict(
        _delete_=True,  # the baseline has off=None
        type='OFFRefiner',
        in_channels=[512, 2048],
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
