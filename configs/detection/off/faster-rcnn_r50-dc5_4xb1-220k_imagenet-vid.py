# mmdet's Faster R-CNN R50-DC5 (res5 dilated, one 2048-d map at 1/16,
# Shared2FC box head) on ImageNet VID with the paper's data and schedule:
# the baseline of its OFF variant. The backbone also returns res3 (512-d)
# for the OFF variant, at no cost.
_base_ = [
    'mmdet::_base_/models/faster-rcnn_r50-caffe-dc5.py',
    './_base_/imagenet-vid-det.py', './_base_/schedule_4xb1-220k.py',
    'mmdet::_base_/default_runtime.py', '../../_base_/off_policies.py'
]
custom_imports = dict(
    imports=['off_plugin.detection'], allow_failed_imports=False)

detector = _base_.model
detector.backbone.out_indices = (1, 3)
detector.roi_head.bbox_head.num_classes = 30
# 300 proposals per image, as R-FCN
detector.train_cfg.rpn_proposal.max_per_img = 300
detector.test_cfg.rpn.max_per_img = 300
model = dict(
    _delete_=True,
    type='OFFVideoDetector',
    data_preprocessor=dict(
        type='TrackDataPreprocessor',
        mean=[103.530, 116.280, 123.675],
        std=[1.0, 1.0, 1.0],
        bgr_to_rgb=False,
        pad_size_divisor=16),
    detector=detector,
    off=None)

default_hooks = dict(
    checkpoint=dict(
        _base_.off_checkpoint_hook,
        by_epoch=False,
        interval=20000,
        max_keep_ckpts=3))
custom_hooks = _base_.off_custom_hooks
log_processor = dict(by_epoch=False)
