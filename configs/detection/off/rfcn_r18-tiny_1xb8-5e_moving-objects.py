# The embedded demo's single-frame baseline: the paper's R-FCN scaled down
# for CPUs and trained from scratch on the moving-objects set
# (demo/detection_demo.py writes it to data/moving_objects). The OFF config
# is this detector with OFF switched on.
_base_ = [
    './_base_/rfcn_r101-dc5.py', './_base_/imagenet-vid-det.py',
    'mmdet::_base_/default_runtime.py', '../../_base_/off_policies.py'
]
custom_imports = dict(
    imports=['off_plugin.detection'], allow_failed_imports=False)

classes = ('static', 'moving_left', 'moving_right')
img_scale = (128, 128)

model = dict(
    detector=dict(
        # ResNet-18 at half width, res4 dilated: res3 64-d and res4 128-d
        # maps, both at 1/8 (objects are 26-40 px)
        backbone=dict(
            _delete_=True,
            type='ResNet',
            depth=18,
            base_channels=32,
            num_stages=3,
            strides=(1, 2, 1),
            dilations=(1, 1, 2),
            out_indices=(1, 2),
            norm_cfg=dict(type='BN', requires_grad=True),
            norm_eval=False),
        neck=dict(in_channels=[128], out_channels=128),
        rpn_head=dict(
            in_channels=64,
            feat_channels=64,
            anchor_generator=dict(scales=[4], strides=[8])),
        roi_head=dict(
            bbox_roi_extractor=dict(featmap_strides=[8]),
            bbox_head=dict(in_channels=64, num_classes=len(classes))),
        train_cfg=dict(
            rpn=dict(sampler=dict(num=64), allowed_border=-1),
            rpn_proposal=dict(nms_pre=600, max_per_img=100),
            rcnn=dict(sampler=dict(num=32))),
        test_cfg=dict(
            rpn=dict(nms_pre=600, max_per_img=50), rcnn=dict(max_per_img=20))),
    rpn_channels=64)

# No flip: it would turn moving_left into moving_right.
train_pipeline = [
    dict(type='NeighbourRefFrameSample', frame_range=(-1, -1)),
    dict(
        type='TransformBroadcaster',
        share_random_params=True,
        transforms=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadTrackAnnotations'),
            dict(type='Resize', scale=img_scale, keep_ratio=True),
        ]),
    dict(type='PackTrackInputs')
]
test_pipeline = [
    dict(
        type='TransformBroadcaster',
        transforms=[
            dict(type='LoadImageFromFile'),
            dict(type='Resize', scale=img_scale, keep_ratio=True),
            dict(type='LoadTrackAnnotations'),
        ]),
    dict(type='PackTrackInputs')
]

data_root = 'data/moving_objects/'
train_dataloader = dict(
    batch_size=8,
    num_workers=1,
    dataset=dict(
        data_root=data_root,
        ann_file='annotations/train.json',
        det_ann_file=None,
        metainfo=dict(classes=classes),
        pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=1,
    dataset=dict(
        data_root=data_root,
        ann_file='annotations/val.json',
        metainfo=dict(classes=classes),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(
    _delete_=True,
    type='ImagenetVIDMetric',
    ann_file=data_root + 'annotations/val.json')
test_evaluator = val_evaluator

max_epochs = 5
train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=100)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=2e-3, weight_decay=1e-4),
    clip_grad=dict(max_norm=10))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=100),
    dict(
        type='CosineAnnealingLR',
        by_epoch=True,
        begin=0,
        end=max_epochs,
        eta_min=1e-5)
]
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=20),
    checkpoint=dict(_base_.off_checkpoint_hook, interval=max_epochs))
custom_hooks = _base_.off_custom_hooks
# One CPU process is the default; `--launcher pytorch` on CPUs needs gloo.
env_cfg = dict(dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0)
