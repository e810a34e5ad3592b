# The embedded CPU demo, DnCNN_OFF(3) of the same depth as the demo's DnCNN
# (2 conv layers per frame, the OFF unit, 3 fusion and 6 tail layers), same
# data, initialisation and schedule.
_base_ = ['./dncnn-c32l10_1xb8-800iter_restoration-demo-q40.py']

num_input_frames = 3
model = dict(
    generator=dict(
        _delete_=True,
        type='DnCNNOFF',
        num_frames=3,
        mid_channels=32,
        num_frame_layers=2,
        num_fusion_layers=3,
        num_tail_layers=6,
        off_unit=dict(reduce_channels=16),
        zero_init_residual=True,
        init_cfg=dict(type='Kaiming', layer='Conv2d')))
train_dataloader = dict(dataset=dict(num_input_frames=num_input_frames))
val_dataloader = dict(dataset=dict(num_input_frames=num_input_frames))
test_dataloader = dict(dataset=dict(num_input_frames=num_input_frames))
