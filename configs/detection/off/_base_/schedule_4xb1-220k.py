# The paper's schedule (Sec. 6.2): SGD, 4 GPUs x 1 image, lr 2.5e-4 for the
# first 73k iterations, 2.5e-5 for the rest, 220k iterations.
# `--auto-scale-lr` rescales the lr for another number of GPUs.
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=220000, val_interval=220000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=2.5e-4, momentum=0.9, weight_decay=1e-4),
    clip_grad=dict(max_norm=35, norm_type=2))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=False, milestones=[73000], gamma=0.1)
]
auto_scale_lr = dict(enable=False, base_batch_size=4)
