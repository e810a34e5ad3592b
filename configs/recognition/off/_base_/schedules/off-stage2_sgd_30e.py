# Stage 2 on the large datasets (Kinetics-400, Something-Something V2): the
# paper's optimiser for the OFF sub-network (SGD momentum 0.9, weight decay
# 5e-4, lr 0.02 for a batch of 128, bias lr x2 without decay, gradient
# clipping at 40) over 30 epochs, x0.1 at epochs 20 and 27.
train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=30, val_begin=1, val_interval=3)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

param_scheduler = [
    dict(
        type='MultiStepLR',
        begin=0,
        end=30,
        by_epoch=True,
        milestones=[20, 27],
        gamma=0.1)
]
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=5e-4),
    paramwise_cfg=dict(bias_lr_mult=2., bias_decay_mult=0.),
    clip_grad=dict(max_norm=40, norm_type=2))
# `base_batch_size` = (4 GPUs) x (32 videos per GPU).
auto_scale_lr = dict(enable=False, base_batch_size=128)
