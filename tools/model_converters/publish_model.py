# Copyright (c) off_plugin authors. All rights reserved.
"""Turn a training checkpoint into a file to publish: only the weights and
the meta information stay (no optimizer state, message hub, scheduler
states), and the name ends with the date and the first 8 hex digits of the
file's sha256, as OpenMMLab names released checkpoints
(``<name>_<YYYYMMDD>-<sha256[:8]>.pth``) and torch.hub's ``check_hash``
verifies them.

    python tools/model_converters/publish_model.py \\
        work_dirs/off_.../iter_20000.pth \\
        off_tsn-r50_4xb32-7of25seg-20kiter_ucf101-split1-rgb.pth

Writes only ``<out_file without .pth>_<date>-<sha256[:8]>.pth`` next to
``out_file`` (its folder made if missing), whole or not at all (through a
temporary ``.<name>.tmp-<pid>`` beside it); ``in_file`` is only read.
"""
import argparse
import datetime
import hashlib
import io
import os
import os.path as osp
import pickle
from typing import Optional, Sequence

import torch

from off_plugin.compat import apply_fixes, mmengine
from off_plugin.utils import ToolError, run_tool
from off_plugin.utils.fileio import atomic_write

apply_fixes(mmengine.FIXES)  # mmengine's checkpoints load weights-only
KEEP = ('meta', 'state_dict')


def publish(checkpoint: str, out_file: str) -> str:
    """Write the published copy of ``checkpoint`` next to ``out_file``;
    return its path."""
    if not out_file.endswith('.pth'):
        raise ToolError(f'{out_file}: the output file name (out_file) must '
                        'end with .pth (e.g. <config name>.pth).')
    try:
        ckpt = torch.load(checkpoint, map_location='cpu')
    except (pickle.UnpicklingError, RuntimeError, EOFError) as err:
        # not a torch file, truncated, or objects weights_only refuses
        raise ToolError(f'{checkpoint}: not a checkpoint torch loads ('
                        f'{err}); give a .pth written by the runner.')
    if not isinstance(ckpt, dict) or 'state_dict' not in ckpt:
        raise ToolError(
            f'{checkpoint} has no state_dict entry (keys: '
            f'{sorted(ckpt) if isinstance(ckpt, dict) else type(ckpt)}); '
            'give a checkpoint written by the runner.')
    published = io.BytesIO()  # its hash names the file
    torch.save({k: ckpt[k] for k in KEEP if k in ckpt}, published)
    sha = hashlib.sha256(published.getbuffer()).hexdigest()
    date = datetime.date.today().strftime('%Y%m%d')
    final = f'{out_file[:-4]}_{date}-{sha[:8]}.pth'
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
    with atomic_write(final) as tmp, open(tmp, 'wb') as f:
        f.write(published.getbuffer())
    return final


def main(argv: Optional[Sequence[str]] = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('in_file', help='checkpoint written by training')
    parser.add_argument('out_file', help='output name, e.g. <config>.pth')
    args = parser.parse_args(argv)
    final = publish(args.in_file, args.out_file)
    size = osp.getsize(final) / 2**20
    print(f'{final} ({size:.1f} MiB): {", ".join(KEEP)} kept')
    return final


if __name__ == '__main__':
    run_tool(main)
