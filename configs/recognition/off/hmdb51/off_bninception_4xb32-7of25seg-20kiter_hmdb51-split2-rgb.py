# Stage 2 on HMDB-51 split 2: as split 1.
_base_ = ['./off_bninception_4xb32-7of25seg-20kiter_hmdb51-split1-rgb.py']

data_root = 'data/hmdb51'
split = 2
model = dict(
    feature_checkpoint=(
        'work_dirs/tsn_bninception_8xb32-1x1x3-4500iter_hmdb51-split2-rgb/'
        'iter_4500.pth'))
train_dataloader = dict(
    dataset=dict(
        ann_file=f'{data_root}/hmdb51_train_split_{split}_videos.txt'))
val_dataloader = dict(
    dataset=dict(ann_file=f'{data_root}/hmdb51_val_split_{split}_videos.txt'))
test_dataloader = dict(
    dataset=dict(ann_file=f'{data_root}/hmdb51_val_split_{split}_videos.txt'))
