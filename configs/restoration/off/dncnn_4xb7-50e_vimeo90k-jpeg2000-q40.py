# DnCNN on JPEG 2000 compressed Vimeo-90K (Sec. 7 of the paper): 20 conv
# layers, no BN, residual learning, Xavier-uniform init; full 448x256 frames,
# no augmentation; Adam 5e-4 with a cosine schedule, batch 28 (4 GPUs x 7), 50
# epochs; PSNR / SSIM on the 4th frame of every test septuplet. Make the inputs
# first: python tools/data/compress_vimeo90k.py data/vimeo_septuplet
_base_ = ['mmagic::_base_/default_runtime.py', '../../_base_/off_policies.py']
custom_imports = dict(
    imports=['off_plugin.restoration'], allow_failed_imports=False)

quality = 40
num_input_frames = 1
data_root = 'data/vimeo_septuplet'

model = dict(
    type='OFFRestorer',
    generator=dict(
        type='DnCNN', in_channels=3, mid_channels=64, num_layers=20),
    pixel_loss=dict(type='MSELoss', loss_weight=1.0, reduction='mean'),
    data_preprocessor=dict(
        type='DataPreprocessor', mean=[0., 0., 0.], std=[255., 255., 255.]))

pipeline = [
    dict(type='LoadImageFromFile', key='img', channel_order='rgb'),
    dict(type='LoadImageFromFile', key='gt', channel_order='rgb'),
    dict(type='CheckFrames', keys=('img', 'gt')),
    dict(type='PackInputs')
]
dataset = dict(
    type='Vimeo90KSeptupletDataset',
    data_root=data_root,
    quality=quality,
    num_input_frames=num_input_frames,
    pipeline=pipeline)
train_dataloader = dict(
    num_workers=4,
    batch_size=7,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(dataset, ann_file='sep_trainlist.txt'))
val_dataloader = dict(
    num_workers=4,
    batch_size=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(dataset, ann_file='sep_testlist.txt', test_mode=True))
test_dataloader = val_dataloader

val_evaluator = [dict(type='PSNR'), dict(type='SSIM')]
test_evaluator = val_evaluator

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=50, val_interval=5)
val_cfg = dict(type='MultiValLoop')
test_cfg = dict(type='MultiTestLoop')

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=5e-4, betas=(0.9, 0.999)))
param_scheduler = dict(
    type='CosineAnnealingLR',
    by_epoch=True,
    T_max=50,
    eta_min=1e-7,
    convert_to_iter_based=True)

default_hooks = dict(
    # checkpoints in the work dir (MMagic's default writes to ./work_dirs)
    checkpoint=dict(
        _base_.off_checkpoint_hook,
        by_epoch=True,
        interval=5,
        max_keep_ckpts=3,
        out_dir=None),
    logger=dict(interval=100))
log_processor = dict(by_epoch=True)
# The plugin's policy hooks in place of MMagic's: its BasicVisualizationHook
# is left out, the inputs are stacks of frames, which the image visualizer
# cannot show.
custom_hooks = _base_.off_custom_hooks
# `base_batch_size` = (4 GPUs) x (7 clips per GPU).
auto_scale_lr = dict(enable=False, base_batch_size=28)
