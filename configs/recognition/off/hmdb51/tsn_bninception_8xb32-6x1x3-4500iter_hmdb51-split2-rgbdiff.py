# Stage 1 on HMDB-51 split 2: as split 1.
_base_ = ['./tsn_bninception_8xb32-6x1x3-4500iter_hmdb51-split1-rgbdiff.py']

data_root = 'data/hmdb51'
split = 2
train_dataloader = dict(
    dataset=dict(
        ann_file=f'{data_root}/hmdb51_train_split_{split}_videos.txt'))
val_dataloader = dict(
    dataset=dict(ann_file=f'{data_root}/hmdb51_val_split_{split}_videos.txt'))
test_dataloader = dict(
    dataset=dict(ann_file=f'{data_root}/hmdb51_val_split_{split}_videos.txt'))
