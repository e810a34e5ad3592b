# Copyright (c) off_plugin authors. All rights reserved.
"""The Checked* decoders name the file they could not read; MMAction2's
own decoders, which a config of the user's own selects, are left as they
are (the plugin is a guest). The datasets' and decoders' bad inputs through
the project's configs: test_bad_inputs_recognition.py."""
import numpy as np
import pytest
from mmaction.datasets.transforms import (DecordDecode, DecordInit,
                                          RawFrameDecode)

from off_plugin.recognition import CheckedDecordInit, CheckedRawFrameDecode


def broken_video(tmp_path):
    path = tmp_path / 'broken.mp4'
    path.write_bytes(b'\x00' * 5000)
    return dict(filename=str(path))


def corrupt_frame(tmp_path):
    (tmp_path / 'img_00001.jpg').write_bytes(b'not a jpeg')
    return dict(
        frame_dir=str(tmp_path),
        frame_inds=np.array([1]),
        filename_tmpl='img_{:05d}.jpg',
        modality='RGB',
        start_index=1,
        total_frames=1)


def test_checked_decord_init_names_the_video(tmp_path):
    results = broken_video(tmp_path)
    with pytest.raises(RuntimeError) as info:
        CheckedDecordInit().transform(results)
    message = str(info.value)
    assert message.startswith(f"CheckedDecordInit could not read the video "
                              f"'{results['filename']}' (5000 bytes)")
    assert 'corrupt, truncated or not a video' in message
    assert '\n' not in message


def test_checked_raw_frame_decode_names_the_frame(tmp_path):
    with pytest.raises(ValueError) as info:
        CheckedRawFrameDecode().transform(corrupt_frame(tmp_path))
    assert str(info.value).startswith(
        f"CheckedRawFrameDecode: frame 1 of '{tmp_path}' does not decode: "
        f"'{tmp_path}/img_00001.jpg' is empty, truncated or not an image.")


def test_mmaction2s_own_decoders_are_unchanged(tmp_path):
    for cls in (DecordInit, DecordDecode, RawFrameDecode):
        assert cls.transform.__module__.startswith('mmaction.'), cls
    with pytest.raises(RuntimeError) as info:
        DecordInit().transform(broken_video(tmp_path))
    assert 'broken.mp4' not in str(info.value)  # upstream's own message
