# Copyright (c) off_plugin authors. All rights reserved.
"""Fixes for openmim 0.3.9 (the ``mim`` command).

``mim download`` imports no part of the plugin, so these fixes reach its
process through :mod:`off_plugin.startup` (the environment's
``off_plugin.pth``), which applies them before ``mim`` is imported.
"""
import functools
from typing import Callable, List

from . import upstream_fix

#: the model-index field of an entry whose config trains on a checkpoint of
#: another model (an OFF model: its ``model.feature_checkpoint``)
STAGE1_FIELD = 'Stage-1 Checkpoint'


@upstream_fix('openmim', '0.3.9')
def download_entries_without_weights() -> None:
    """Let ``mim download`` say in one line that an entry has no weights.

    Upstream bug: ``mim download PACKAGE --config NAME`` reads the entry's
    ``Weights`` from a table of every entry, where an entry without
    ``Weights`` holds NaN, and splits it like a string: ``AttributeError:
    'float' object has no attribute 'split'`` (e.g. ``mim download mmdet
    --config dino-4scale_r50_8xb2-24e_coco``, MMDetection 3.3.0's own
    index). In an index where no entry has ``Weights`` (off_plugin's) the
    table has no such column and it fails earlier, ``ValueError: Expected
    fields: Index([...]) but got {'weight'}``. Both are tracebacks.

    With the fix, when a requested entry has no ``Weights``, ``mim
    download`` stops before it creates, downloads or writes anything, with
    one line per such entry (click's ``Error:``, exit status 1) that names
    the entry and, where the entry has a ``Stage-1 Checkpoint``, the
    checkpoint its config trains on. Any other request runs upstream's code
    unchanged. The CLI runs a fresh copy of ``mim/commands/download.py``
    (``mim.cli.MIM.get_command`` compiles the file into a new namespace),
    so the fix wraps ``_download_configs`` there as well as in the module.

    Delete when: openmim's ``download`` handles entries without weights
    (not in 0.3.9, the latest release, nor on its main branch at b39fbd9).
    """
    import wrapt

    # now if ``mim`` is imported already, else right after it is
    wrapt.register_post_import_hook(_fix_download_module,
                                    'mim.commands.download')
    wrapt.register_post_import_hook(_fix_cli, 'mim.cli')


def _fix_download_module(module) -> None:
    module._download_configs = _stop_without_weights(module._download_configs)


def _fix_cli(module) -> None:
    get_command = module.MIM.get_command

    @functools.wraps(get_command)
    def fixed_get_command(self, ctx, name):
        command = get_command(self, ctx, name)
        callback = getattr(command, 'callback', None)
        namespace = getattr(callback, '__globals__', {})
        if callable(namespace.get('_download_configs')):
            namespace['_download_configs'] = _stop_without_weights(
                namespace['_download_configs'])
        return command

    module.MIM.get_command = fixed_get_command


def _stop_without_weights(download_configs: Callable) -> Callable:
    """``download_configs`` (upstream's ``_download_configs``), first
    refusing entries without weights."""
    if hasattr(download_configs, '__wrapped__'):
        return download_configs  # fixed already

    @functools.wraps(download_configs)
    def _download_configs(package: str,
                          configs: List[str],
                          dest_root: str,
                          check_certificate: bool = True) -> List[str]:
        lines = entries_without_weights(package, configs)
        if lines:
            import click
            raise click.ClickException('\n'.join(lines))
        return download_configs(package, configs, dest_root, check_certificate)

    return _download_configs


def entries_without_weights(package: str, configs: List[str]) -> List[str]:
    """One line for each of ``configs`` whose entry in ``package``'s model
    index has no ``Weights``; none where upstream reports the request
    itself (a version in ``package``, a package not installed, a name not
    in the index)."""
    from mim.commands.search import load_metadata
    from mim.utils import is_installed, split_package_version

    name, version = split_package_version(package)
    if version or not is_installed(name):
        return []
    models = {model.name: model for model in load_metadata(name).models}
    lines = []
    for config in configs:
        model = models.get(config)
        if model is None or model.weights:
            continue
        line = (f"{config} has no weights of its own in {name}'s model "
                'index, so nothing was downloaded')
        stage1 = model.data.get(STAGE1_FIELD)
        if stage1:
            line += (f'; its config trains on the stage-1 checkpoint '
                     f'{stage1} (model.feature_checkpoint)')
        lines.append(line)
    return lines


#: every fix of this module
FIXES = (download_entries_without_weights, )
