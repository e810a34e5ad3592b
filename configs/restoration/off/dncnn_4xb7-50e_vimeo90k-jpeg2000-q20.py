# DnCNN at JPEG 2000 q20 (finer quantization than q40).
_base_ = ['./dncnn_4xb7-50e_vimeo90k-jpeg2000-q40.py']

quality = 20
train_dataloader = dict(dataset=dict(quality=quality))
val_dataloader = dict(dataset=dict(quality=quality))
test_dataloader = val_dataloader
