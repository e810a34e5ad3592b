# Copyright (c) off_plugin authors. All rights reserved.
"""tools/model_converters/publish_model.py keeps the weights and meta of a
runner checkpoint and names the file with its sha256 prefix, which torch.hub
verifies."""
import hashlib
import os.path as osp
import re
import runpy
import sys

import pytest
import torch
from mmengine.logging import MessageHub
from torch.hub import HASH_REGEX

from off_plugin.utils import ToolError

TOOL = osp.join(
    osp.dirname(osp.dirname(osp.dirname(__file__))), 'tools',
    'model_converters', 'publish_model.py')


def test_publish_strips_training_state_and_names_the_hash(tmp_path, capsys):
    model = torch.nn.Linear(4, 2)
    optim = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.randn(3, 4)).sum().backward()
    optim.step()
    hub = MessageHub.get_instance('publish_test')
    hub.update_scalar('train/loss', 1.5)
    torch.save(
        dict(
            meta=dict(epoch=3, mmengine_version='0.10.7'),
            state_dict=model.state_dict(),
            optimizer=optim.state_dict(),
            message_hub=hub.state_dict(),
            param_schedulers=[]), tmp_path / 'epoch_3.pth')

    sys.argv = [
        TOOL,
        str(tmp_path / 'epoch_3.pth'),
        str(tmp_path / 'off_demo.pth')
    ]
    runpy.run_path(TOOL, run_name='__main__')
    final = capsys.readouterr().out.split(' (')[0]

    assert re.fullmatch(r'off_demo_\d{8}-[0-9a-f]{8}\.pth',
                        osp.basename(final))
    with open(final, 'rb') as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    # torch.hub's check_hash reads the same prefix from the name
    assert digest.startswith(HASH_REGEX.search(osp.basename(final))[1])
    published = torch.load(final, weights_only=True)
    assert sorted(published) == ['meta', 'state_dict']
    assert published['meta']['epoch'] == 3
    for key, value in model.state_dict().items():
        assert torch.equal(published['state_dict'][key], value)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        'epoch_3.pth', osp.basename(final)
    ]  # no temporary left


def test_publish_refuses_a_file_without_weights(tmp_path):
    from importlib.util import module_from_spec, spec_from_file_location
    spec = spec_from_file_location('publish_model', TOOL)
    tool = module_from_spec(spec)
    spec.loader.exec_module(tool)
    torch.save(dict(optimizer={}), tmp_path / 'bad.pth')
    with pytest.raises(ToolError, match='bad.pth has no state_dict'):
        tool.publish(str(tmp_path / 'bad.pth'), str(tmp_path / 'out.pth'))
    with pytest.raises(ToolError, match='must end with .pth'):
        tool.publish(str(tmp_path / 'bad.pth'), str(tmp_path / 'out'))
