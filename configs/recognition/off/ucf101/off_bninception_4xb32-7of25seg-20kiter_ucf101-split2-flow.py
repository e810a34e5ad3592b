# Stage 2 on UCF-101 split 2: as split 1.
_base_ = ['./off_bninception_4xb32-7of25seg-20kiter_ucf101-split1-flow.py']

data_root = 'data/ucf101'
split = 2
# frames and lists as tools/data/extract_tvl1_flow.py writes them
frames = f'{data_root}/rawframes'
model = dict(
    feature_checkpoint=(
        'work_dirs/tsn_bninception_8xb32-5x1x3-20kiter_ucf101-split2-flow/'
        'iter_20000.pth'))
train_dataloader = dict(
    dataset=dict(
        ann_file=f'{frames}/ucf101_train_split_{split}_rawframes.txt'))
val_dataloader = dict(
    dataset=dict(ann_file=f'{frames}/ucf101_val_split_{split}_rawframes.txt'))
test_dataloader = dict(
    dataset=dict(ann_file=f'{frames}/ucf101_val_split_{split}_rawframes.txt'))
