# Stage 2 on UCF-101 split 2: as split 1.
_base_ = ['./off_bninception_4xb32-7of25seg-20kiter_ucf101-split1-rgbdiff.py']

data_root = 'data/ucf101'
split = 2
model = dict(
    feature_checkpoint=(
        'work_dirs/tsn_bninception_8xb32-6x1x3-4500iter_ucf101-split2-rgbdiff/'
        'iter_4500.pth'))
train_dataloader = dict(
    dataset=dict(
        ann_file=f'{data_root}/ucf101_train_split_{split}_videos.txt'))
val_dataloader = dict(
    dataset=dict(ann_file=f'{data_root}/ucf101_val_split_{split}_videos.txt'))
test_dataloader = dict(
    dataset=dict(ann_file=f'{data_root}/ucf101_val_split_{split}_videos.txt'))
