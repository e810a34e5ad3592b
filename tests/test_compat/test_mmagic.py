# Copyright (c) off_plugin authors. All rights reserved.
"""The fix of off_plugin.compat.mmagic, in fresh interpreters: on a numpy
without ``np.bool8`` (numpy 2, simulated on numpy 1 by dropping the
deprecated alias) ``import mmagic.utils`` fails, and imports after the
restoration entry point, or on its own where the environment's
``off_plugin.pth`` installed :mod:`off_plugin.startup` (``mim train
mmagic`` imports ``mmagic.utils`` before any config)."""
import pytest
from tiny_runs import run_script

WITHOUT_BOOL8 = """
    import numpy as np
    getattr(np, '__deprecated_attrs__', {}).pop('bool8', None)  # numpy 1
    assert not hasattr(np, 'bool8')
"""


@pytest.mark.slow
def test_mmagic_utils_fails_without_bool8():
    out = run_script(WITHOUT_BOOL8 + """
    import sys
    from off_plugin.startup import BeforeImport
    sys.meta_path[:] = [f for f in sys.meta_path
                        if not isinstance(f, BeforeImport)]
    try:
        import mmagic.utils
    except AttributeError as err:
        print(err)
    """)
    assert 'bool8' in out


@pytest.mark.slow
def test_mmagic_utils_imports_after_the_restoration_entry_point():
    out = run_script(WITHOUT_BOOL8 + """
    import off_plugin.restoration
    import mmagic.utils
    print(np.bool8 is np.bool_)
    """)
    assert out.strip().splitlines()[-1] == 'True'


@pytest.mark.slow
def test_mmagic_utils_imports_alone_in_a_set_up_environment():
    out = run_script(WITHOUT_BOOL8 + """
    import sys
    assert 'off_plugin.startup' in sys.modules  # by off_plugin.pth
    import mmagic.utils
    print(np.bool8 is np.bool_)
    """)
    assert out.strip().splitlines()[-1] == 'True'
