# Stage 1 on UCF-101 split 2: as split 1.
_base_ = ['./tsn_bninception_8xb32-1x1x3-4500iter_ucf101-split1-rgb.py']

data_root = 'data/ucf101'
split = 2
train_dataloader = dict(
    dataset=dict(
        ann_file=f'{data_root}/ucf101_train_split_{split}_videos.txt'))
val_dataloader = dict(
    dataset=dict(ann_file=f'{data_root}/ucf101_val_split_{split}_videos.txt'))
test_dataloader = dict(
    dataset=dict(ann_file=f'{data_root}/ucf101_val_split_{split}_videos.txt'))
