# R-FCN with ResNet-101 as in FGFA and the paper (Sec. 6.1): res5 dilated to
# stride 16, a 3x3 convolution to 1024 channels, the map split in two
# halves: the first 512 channels to the RPN, the last 512 to the
# position-sensitive score maps (k = 7, class-agnostic boxes, OHEM).
# `off=None`: the single-frame baseline.
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
        # res3 (512-d, 1/8) for multi-scale OFF, res5 (2048-d, 1/16);
        # conv1, res2 and every BN frozen.
        backbone=dict(
            type='ResNet',
            depth=101,
            num_stages=4,
            strides=(1, 2, 2, 1),
            dilations=(1, 1, 1, 2),
            out_indices=(1, 3),
            frozen_stages=1,
            norm_cfg=dict(type='BN', requires_grad=False),
            norm_eval=True,
            style='pytorch',
            init_cfg=dict(
                type='Pretrained', checkpoint='torchvision://resnet101')),
        neck=dict(
            type='ChannelMapper',
            in_channels=[2048],
            out_channels=1024,
            kernel_size=3,
            act_cfg=dict(type='ReLU'),
            norm_cfg=None),
        rpn_head=dict(
            type='RPNHead',
            in_channels=512,
            feat_channels=512,
            anchor_generator=dict(
                type='AnchorGenerator',
                scales=[8, 16, 32],
                ratios=[0.5, 1.0, 2.0],
                strides=[16]),
            bbox_coder=dict(
                type='DeltaXYWHBBoxCoder',
                target_means=[.0, .0, .0, .0],
                target_stds=[1.0, 1.0, 1.0, 1.0]),
            loss_cls=dict(
                type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0),
            loss_bbox=dict(type='SmoothL1Loss', beta=1 / 9, loss_weight=1.0)),
        roi_head=dict(
            type='RFCNRoIHead',
            bbox_roi_extractor=dict(
                type='PSRoIExtractor',
                roi_layer=dict(
                    type='PSRoIAlign', output_size=7, sampling_ratio=2),
                featmap_strides=[16]),
            bbox_head=dict(
                type='RFCNBBoxHead',
                in_channels=512,
                roi_feat_size=7,
                num_classes=30,
                bbox_coder=dict(
                    type='DeltaXYWHBBoxCoder',
                    target_means=[0., 0., 0., 0.],
                    target_stds=[0.1, 0.1, 0.2, 0.2]),
                loss_cls=dict(
                    type='CrossEntropyLoss',
                    use_sigmoid=False,
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
                    num=256,
                    pos_fraction=0.5,
                    neg_pos_ub=-1,
                    add_gt_as_proposals=False),
                allowed_border=0,
                pos_weight=-1,
                debug=False),
            rpn_proposal=dict(
                nms_pre=6000,
                max_per_img=300,
                nms=dict(type='nms', iou_threshold=0.7),
                min_bbox_size=0),
            # OHEM: the 128 of the 300 proposals with the highest loss
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
                    num=128,
                    pos_fraction=0.25,
                    neg_pos_ub=-1,
                    add_gt_as_proposals=True),
                pos_weight=-1,
                debug=False)),
        test_cfg=dict(
            rpn=dict(
                nms_pre=6000,
                max_per_img=300,
                nms=dict(type='nms', iou_threshold=0.7),
                min_bbox_size=0),
            rcnn=dict(
                score_thr=0.001,
                nms=dict(type='nms', iou_threshold=0.3),
                max_per_img=300))),
    off=None,
    rpn_channels=512)
