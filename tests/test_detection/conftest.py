# Copyright (c) off_plugin authors. All rights reserved.
"""The detection tier: its host only, the task imported (with its upstream
fixes) before any test module imports the host."""
import off_plugin.detection  # noqa: F401
