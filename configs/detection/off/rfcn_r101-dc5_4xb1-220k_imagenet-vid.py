# The paper's baseline (Table 6, first row): R-FCN ResNet-101, one frame,
# trained on ImageNet VID + DET with the paper's schedule.
_base_ = [
    './_base_/rfcn_r101-dc5.py', './_base_/imagenet-vid-det.py',
    './_base_/schedule_4xb1-220k.py', 'mmdet::_base_/default_runtime.py',
    '../../_base_/off_policies.py'
]
custom_imports = dict(
    imports=['off_plugin.detection'], allow_failed_imports=False)

default_hooks = dict(
    checkpoint=dict(
        _base_.off_checkpoint_hook,
        by_epoch=False,
        interval=20000,
        max_keep_ckpts=3))
custom_hooks = _base_.off_custom_hooks
log_processor = dict(by_epoch=False)
