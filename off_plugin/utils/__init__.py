# Copyright (c) off_plugin authors. All rights reserved.
from .cli import (ToolError, add_cfg_options, add_inference_options,
                  load_config, run_tool)

__all__ = [
    'ToolError', 'add_cfg_options', 'add_inference_options', 'load_config',
    'run_tool'
]
