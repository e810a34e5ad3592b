# The embedded demo's single-frame baseline: a small R-FCN trained from
# scratch on the moving-objects set (tools/detection_demo.py writes it to
# data/moving_objects). Same detector as the OFF config, OFF switched off.
_base_ = 'mmdet::_base_/default_runtime.py'

custom_imports = dict(imports=['off_plugin'], allow_failed_imports=False)

classes = ('static', 'moving_left', 'moving_right')
num_classes = len(classes)
img_scale = (128, 128)
norm_cfg = dict(type='BN', requires_grad=True)

model = dict(
    type='OFFVideoDetector',
    data_preprocessor=dict(
        type='TrackDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_size_divisor=16),
    detector=dict(
        type='TwoStageDetector',
        # ResNet-18 at half width, res4 dilated: res3 64-d and res4 128-d
        # maps, both at 1/8 (objects are 26-40 px).
        backbone=dict(
            type='ResNet',
            depth=18,
            base_channels=32,
            num_stages=3,
            strides=(1, 2, 1),
            dilations=(1, 1, 2),
            out_indices=(1, 2),
            norm_cfg=norm_cfg,
            norm_eval=False,
            init_cfg=None),
        # the paper's 3x3 convolution that makes the detection map
        neck=dict(
            type='ChannelMapper',
            in_channels=[128],
            out_channels=128,
            kernel_size=3,
            act_cfg=dict(type='ReLU'),
            norm_cfg=None),
        rpn_head=dict(
            type='RPNHead',
            in_channels=64,
            feat_channels=64,
            anchor_generator=dict(
                type='AnchorGenerator',
                scales=[4],
                ratios=[0.5, 1.0, 2.0],
                strides=[8]),
            bbox_coder=dict(
                type='DeltaXYWHBBoxCoder',
                target_means=[.0, .0, .0, .0],
                target_stds=[1.0, 1.0, 1.0, 1.0]),
            loss_cls=dict(
                type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0),
            loss_bbox=dict(type='SmoothL1Loss', beta=1 / 9,
                           loss_weight=1.0)),
        roi_head=dict(
            type='RFCNRoIHead',
            bbox_roi_extractor=dict(
                type='PSRoIExtractor',
                roi_layer=dict(
                    type='PSRoIAlign', output_size=7, sampling_ratio=2),
                featmap_strides=[8]),
            bbox_head=dict(
                type='RFCNBBoxHead',
                in_channels=64,
                roi_feat_size=7,
                num_classes=num_classes,
                bbox_coder=dict(
                    type='DeltaXYWHBBoxCoder',
                    target_means=[0., 0., 0., 0.],
                    target_stds=[0.1, 0.1, 0.2, 0.2]),
                loss_cls=dict(
                    type='CrossEntropyLoss', use_sigmoid=False,
                    loss_weight=1.0),
                loss_bbox=dict(type='SmoothL1Loss', beta=1.0,
                               loss_weight=1.0))),
        train_cfg=dict(
            rpn=dict(
                assigner=dict(
                    type='MaxIoUAssigner',
                    pos_iou_thr=0.7,
                    neg_iou_thr=0.3,
                    min_pos_iou=0.3,
                    match_low_quality=True,
                    ignore_iof_thr=-1),
                sampler=dict(
                    type='RandomSampler',
                    num=64,
                    pos_fraction=0.5,
                    neg_pos_ub=-1,
                    add_gt_as_proposals=False),
                allowed_border=-1,
                pos_weight=-1,
                debug=False),
            rpn_proposal=dict(
                nms_pre=600,
                max_per_img=100,
                nms=dict(type='nms', iou_threshold=0.7),
                min_bbox_size=0),
            rcnn=dict(
                assigner=dict(
                    type='MaxIoUAssigner',
                    pos_iou_thr=0.5,
                    neg_iou_thr=0.5,
                    min_pos_iou=0.5,
                    match_low_quality=False,
                    ignore_iof_thr=-1),
                sampler=dict(
                    type='OHEMSampler',
                    num=32,
                    pos_fraction=0.25,
                    neg_pos_ub=-1,
                    add_gt_as_proposals=True),
                pos_weight=-1,
                debug=False)),
        test_cfg=dict(
            rpn=dict(
                nms_pre=600,
                max_per_img=50,
                nms=dict(type='nms', iou_threshold=0.7),
                min_bbox_size=0),
            rcnn=dict(
                score_thr=0.001,
                nms=dict(type='nms', iou_threshold=0.3),
                max_per_img=20))),
    off=None,
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
dataset_type = 'ImagenetVIDDataset'
train_dataloader = dict(
    batch_size=8,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='TrackImgSampler'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/train.json',
        data_prefix=dict(img_path='Data'),
        metainfo=dict(classes=classes),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='TrackImgSampler'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/val.json',
        data_prefix=dict(img_path='Data'),
        metainfo=dict(classes=classes),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(
    type='ImagenetVIDMetric', ann_file=data_root + 'annotations/val.json')
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
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
         end=100),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=0, end=max_epochs,
         eta_min=1e-5)
]
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=20),
    checkpoint=dict(type='CheckpointHook', interval=max_epochs))
# One CPU process is the default; `--launcher pytorch` on CPUs needs gloo.
env_cfg = dict(dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0)
