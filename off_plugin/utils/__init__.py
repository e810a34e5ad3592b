# Copyright (c) off_plugin authors. All rights reserved.
from .cli import ToolError, add_cfg_options, load_config, run_tool

__all__ = ['ToolError', 'add_cfg_options', 'load_config', 'run_tool']
