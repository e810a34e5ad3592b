# Copyright (c) off_plugin authors. All rights reserved.
"""The subcommands of ``benchmark.py``, one module each, and the timer and
report they share (:mod:`.timing`)."""
