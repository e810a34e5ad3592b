# Stage 2 on HMDB-51 split 1: the UCF-101 settings, 51 classes.
_base_ = [
    '../ucf101/off_bninception_4xb32-7of25seg-20kiter_'
    'ucf101-split1-flow.py'
]

data_root = 'data/hmdb51'
split = 1
# frames and lists as tools/data/extract_tvl1_flow.py writes them
frames = f'{data_root}/rawframes'
num_classes = 51
model = dict(
    cls_head=dict(num_classes=num_classes),
    off_head=dict(num_classes=num_classes),
    feature_checkpoint=(
        'work_dirs/tsn_bninception_8xb32-5x1x3-20kiter_hmdb51-split1-flow/'
        'iter_20000.pth'))
train_dataloader = dict(
    dataset=dict(
        ann_file=f'{frames}/hmdb51_train_split_{split}_rawframes.txt',
        data_prefix=dict(_delete_=True, img=frames)))
val_dataloader = dict(
    dataset=dict(
        ann_file=f'{frames}/hmdb51_val_split_{split}_rawframes.txt',
        data_prefix=dict(_delete_=True, img=frames)))
test_dataloader = dict(
    dataset=dict(
        ann_file=f'{frames}/hmdb51_val_split_{split}_rawframes.txt',
        data_prefix=dict(_delete_=True, img=frames)))
