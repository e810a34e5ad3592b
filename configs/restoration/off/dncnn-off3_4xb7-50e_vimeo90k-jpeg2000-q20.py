# DnCNN_OFF(3) at JPEG 2000 q20.
_base_ = ['./dncnn-off3_4xb7-50e_vimeo90k-jpeg2000-q40.py']

quality = 20
train_dataloader = dict(dataset=dict(quality=quality))
val_dataloader = dict(dataset=dict(quality=quality))
test_dataloader = val_dataloader
