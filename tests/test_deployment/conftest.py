# Copyright (c) off_plugin authors. All rights reserved.
"""The deployment tests span the tasks: every task is imported (with its
upstream fixes) before any test module imports a host."""
import off_plugin.all_tasks  # noqa: F401
