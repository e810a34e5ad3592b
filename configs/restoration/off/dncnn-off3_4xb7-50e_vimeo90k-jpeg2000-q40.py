# DnCNN_OFF(3) at JPEG 2000 q40: frames t-1, t, t+1 (the paper's final
# setting); each frame through 3 conv layers, an OFF unit between adjacent
# frames, 5 conv layers plus the target frame's features, 18 conv layers,
# global identity. Training as DnCNN.
_base_ = ['./dncnn_4xb7-50e_vimeo90k-jpeg2000-q40.py']

num_input_frames = 3
model = dict(
    generator=dict(
        _delete_=True,
        type='DnCNNOFF',
        num_frames=3,
        mid_channels=64,
        num_frame_layers=3,
        num_fusion_layers=5,
        num_tail_layers=18,
        off_unit=dict(reduce_channels=64)))
train_dataloader = dict(dataset=dict(num_input_frames=num_input_frames))
val_dataloader = dict(dataset=dict(num_input_frames=num_input_frames))
test_dataloader = val_dataloader
