# PackActionInputs keeping the sampler's num_clips in the data samples'
# metainfo: OFFRecognizer checks it against its num_segments. The OFF
# configs end their pipelines with _base_.pack_inputs.
pack_inputs = dict(
    type='PackActionInputs',
    meta_keys=('img_shape', 'img_key', 'video_id', 'timestamp', 'num_clips'))
