# Stage 2 on HMDB-51 split 1: the UCF-101 settings, 51 classes.
_base_ = [
    '../ucf101/off_bninception_4xb32-7of25seg-20kiter_'
    'ucf101-split1-rgb.py'
]

data_root = 'data/hmdb51'
split = 1
num_classes = 51
model = dict(
    cls_head=dict(num_classes=num_classes),
    off_head=dict(num_classes=num_classes),
    feature_checkpoint=(
        'work_dirs/tsn_bninception_8xb32-1x1x3-4500iter_hmdb51-split1-rgb/'
        'iter_4500.pth'))
train_dataloader = dict(
    dataset=dict(
        ann_file=f'{data_root}/hmdb51_train_split_{split}_videos.txt',
        data_prefix=dict(video=f'{data_root}/videos')))
val_dataloader = dict(
    dataset=dict(
        ann_file=f'{data_root}/hmdb51_val_split_{split}_videos.txt',
        data_prefix=dict(video=f'{data_root}/videos')))
test_dataloader = dict(
    dataset=dict(
        ann_file=f'{data_root}/hmdb51_val_split_{split}_videos.txt',
        data_prefix=dict(video=f'{data_root}/videos')))
