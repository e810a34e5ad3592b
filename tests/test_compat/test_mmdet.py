# Copyright (c) off_plugin authors. All rights reserved.
"""The fix of off_plugin.compat.mmdet without and with it, in fresh
interpreters: mmdet 3.3.0 as released, then fixed."""
import pytest

PRINT_PACK_TRACK_INPUTS = '''
    from mmdet.datasets.transforms import PackTrackInputs
    try:
        print(repr(PackTrackInputs(meta_keys=('frame_id', ))))
    except AttributeError as err:
        print('AttributeError', err)
'''


@pytest.mark.parametrize('fixed', [False, True], ids=['bug', 'fix'])
def test_reproduce_pack_track_inputs_cannot_print_itself(reproduce, fixed):
    from off_plugin.compat.mmdet import repr_of_pack_track_inputs
    out = reproduce(repr_of_pack_track_inputs if fixed else None,
                    PRINT_PACK_TRACK_INPUTS)
    if fixed:
        assert out.startswith('PackTrackInputs(meta_keys=(')
        assert "'frame_id'" in out
    else:
        assert out == ("AttributeError 'PackTrackInputs' object has no "
                       "attribute 'default_meta_keys'")
