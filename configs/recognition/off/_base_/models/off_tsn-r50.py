# OFF on a ResNet-50 TSN: MMAction2's own TSN R50 model (Recognizer2D,
# ResNet-50, TSNHead) becomes the frozen feature generation sub-network of
# an OFFRecognizer. OFF units on res3, res4 and res5 (512@28, 1024@14,
# 2048@7 at 224 px, the map sizes of BN-Inception's 3c, 4e and 5b), residual
# stages as in the BN-Inception configs (a ResNet-20, no BN), one classifier
# and loss per level. The stage-1 weights come from `feature_checkpoint`
# (a file or a URL of a released MMAction2 checkpoint; every key of the
# backbone and TSN head must match), so the ImageNet initialisation is off.
_base_ = ['mmaction::_base_/models/tsn_r50.py']

model = dict(
    type='OFFRecognizer',
    backbone=dict(pretrained=None, out_indices=(1, 2, 3)),
    feature_checkpoint=None,
    off_head=dict(
        type='OFFHead',
        num_classes=400,
        dropout_ratio=0.8,
        init_std=0.001,
        average_clips='prob',
        off_sub_network=dict(
            type='OFFSubNetwork',
            in_channels=(512, 1024, 2048),
            off_unit=dict(
                reduce_channels=128, kernel='sobel', spatial_dropout=0.8),
            levels=[
                dict(
                    in_indices=(0, ),
                    stem_channels=64,
                    out_channels=256,
                    num_blocks=3,
                    stem_kernel=7,
                    stem_stride=2),
                dict(
                    in_indices=(1, ),
                    stem_channels=128,
                    out_channels=512,
                    num_blocks=2,
                    stem_kernel=5,
                    stem_stride=2),
                dict(
                    in_indices=(2, ),
                    stem_channels=256,
                    out_channels=1024,
                    num_blocks=1,
                    stem_kernel=3,
                    stem_stride=1),
            ])),
    # the base's train_cfg / test_cfg are None
    train_cfg=dict(_delete_=True, num_segments=8),
    test_cfg=dict(_delete_=True, num_segments=8, rgb_weight=1., off_weight=1.))
