# Copyright (c) off_plugin authors. All rights reserved.
"""Registration of off_plugin's shared modules in the host packages.

Modules that serve all three tasks (the OFF unit, the OFF sub-network parts)
join the ``MODELS`` registry of each installed host, so that MMAction2,
MMDetection and MMagic configs build them by their plain type name. Task
wrappers register in their own host's registry only.
"""
import importlib

HOSTS = ('mmaction', 'mmdet', 'mmagic')


def register_in_hosts(module: type) -> type:
    """Class decorator: register ``module`` in ``<host>.registry.MODELS`` of
    every host package that is installed."""
    for host in HOSTS:
        try:
            registry = importlib.import_module(f'{host}.registry')
        except ModuleNotFoundError as err:
            if err.name != host:  # the host is installed but broken
                raise
            continue
        registry.MODELS.register_module(module=module)
    return module
