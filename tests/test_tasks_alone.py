# Copyright (c) off_plugin authors. All rights reserved.
"""Each task on its own, as after ``pip install "off_plugin[<task>]"``: in
a fresh interpreter where the other hosts (and the libraries only they
need) and the deploy extra (onnx, onnxruntime: only the deployment code
imports them) cannot be imported, ``off_plugin.<task>`` builds its demo
model from its config and trains and tests it a step; a task whose host is
missing is skipped by ``import off_plugin`` and, imported, names what to
install.

One environment holds every host, so the children hide some: every finder
of ``sys.meta_path`` is wrapped so that it does not find the blocked
packages (``import mmdet`` raises ``ModuleNotFoundError: No module named
'mmdet'``, ``importlib.util.find_spec('mmdet')`` is None) nor their
distributions (``importlib.metadata`` and ``importlib_metadata`` discover
distributions through the same finders), as when they are not installed.
(The hosts ask ``pkg_resources`` only about themselves, for ``mmaction::``
style config inheritance, never about a blocked package.)

This file is also the children's script: ``python tests/test_tasks_alone.py
TASK BLOCKED OUT_DIR`` prints one JSON line of measured values; the tests
assert them. The children of a test run in parallel.
"""
# isort: skip_file (each child imports its task before the host's modules,
# as a config's custom_imports does)
import json
import os
import os.path as osp
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = osp.join(ROOT, 'configs')
RECOGNITION = osp.join(CONFIGS, 'recognition', 'off')
STAGE1 = osp.join(RECOGNITION, 'tsn_r18_1xb8-8seg-4e_motion-demo-rgb.py')
STAGE2 = osp.join(RECOGNITION, 'off_r18_1xb8-5of8seg-10e_motion-demo-rgb.py')
DETECTION = osp.join(CONFIGS, 'detection', 'off',
                     'off-ms_rfcn_r18-tiny_1xb8-5e_moving-objects.py')
RESTORATION = osp.join(CONFIGS, 'restoration', 'off',
                       'dncnn-off3-c32_1xb8-800iter_restoration-demo-q40.py')

#: the deploy extra: only off_plugin.deployment imports it
DEPLOY = ('onnx', 'onnxruntime', 'onnxscript', 'openvino')
#: task -> the import names its process must do without
WITHOUT = {
    'recognition': ('mmdet', 'mmagic', 'diffusers', 'transformers', *DEPLOY),
    'detection': ('mmaction', 'mmagic', 'diffusers', *DEPLOY),
    'restoration': ('mmaction', 'mmdet', *DEPLOY),
}
#: import name -> distribution, where they differ
DISTRIBUTIONS = {'mmaction': 'mmaction2'}
#: task -> its host's import name and distribution
HOSTS = {
    'recognition': ('mmaction', 'mmaction2'),
    'detection': ('mmdet', 'mmdet'),
    'restoration': ('mmagic', 'mmagic'),
}

# --- the children ----------------------------------------------------------


def normalized(dist: str) -> str:
    return dist.lower().replace('-', '_').replace('.', '_')


def install_blocker(blocked) -> list:
    """Make the packages ``blocked`` (import names) and their distributions
    look uninstalled to this process; returns the list to which every
    attempt to import one of them is appended (by name)."""
    blocked = frozenset(blocked)
    hidden = {normalized(DISTRIBUTIONS.get(n, n)) for n in blocked}
    attempts = []

    class Hiding:
        """A finder of ``sys.meta_path`` without the blocked packages."""

        def __init__(self, finder):
            self._finder = finder

        def find_spec(self, name, path=None, target=None):
            if name.partition('.')[0] in blocked:
                attempts.append(name)
                return None
            find_spec = getattr(self._finder, 'find_spec', None)
            return None if find_spec is None else find_spec(name, path, target)

        def find_distributions(self, *args, **kwargs):
            find = getattr(self._finder, 'find_distributions', None)
            for dist in (() if find is None else find(*args, **kwargs)):
                name = dist.metadata['Name'] or ''
                if normalized(name) not in hidden:
                    yield dist

        def __getattr__(self, name):  # invalidate_caches, ...
            return getattr(self._finder, name)

    if any(n.partition('.')[0] in blocked for n in sys.modules):
        raise RuntimeError(f'already imported: {sorted(blocked)}')
    # importlib_metadata (the backport MMAction2 asks) appends a finder of
    # its own to sys.meta_path when imported: it is wrapped too
    import importlib_metadata  # noqa: F401
    sys.meta_path[:] = [Hiding(finder) for finder in sys.meta_path]
    return attempts


def changed(before: dict, module) -> dict:
    """Of the parameters in ``before`` (name -> tensor), which differ now."""
    now = dict(module.named_parameters())
    return {
        name: not bool((now[name] == value).all())
        for name, value in before.items()
    }


def snapshot(module) -> dict:
    return {n: p.detach().clone() for n, p in module.named_parameters()}


def train_and_test(model, optim_wrapper, train_data, test_data) -> dict:
    """One ``train_step`` and one ``test_step``: the losses and which
    parameters changed."""
    import torch
    before = snapshot(model)
    model.train()
    losses = model.train_step(train_data, optim_wrapper)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    moved = changed(before, model)
    model.eval()
    with torch.no_grad():
        outputs = model.test_step(test_data)
    return dict(
        losses={
            k: float(torch.as_tensor(v).detach())
            for k, v in losses.items()
        },
        trainable_changed=sorted(n for n in trainable if moved[n]),
        trainable=len(trainable),
        frozen_changed=sum(moved[n] for n in moved if n not in trainable),
        frozen=len(moved) - len(trainable)), outputs


def run_recognition(out_dir: str) -> dict:
    """The demo OFF recognizer (stage 2), from a stage-1 TSN of random
    weights: one train step on 2 videos of 5 segments, one test step on
    2 videos of 8."""
    import torch
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import DefaultScope

    import off_plugin.recognition  # noqa: F401
    from mmaction.registry import MODELS
    from mmaction.structures import ActionDataSample

    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmaction'):
        tsn = MODELS.build(Config.fromfile(STAGE1).model)
    checkpoint = osp.join(out_dir, 'tsn.pth')
    torch.save({'state_dict': tsn.state_dict()}, checkpoint)
    cfg = Config.fromfile(STAGE2)
    cfg.model.feature_checkpoint = checkpoint
    with DefaultScope.overwrite_default_scope('mmaction'):
        model = MODELS.build(cfg.model)
        model.init_weights()
        optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    loaded = all(
        torch.equal(value,
                    model.state_dict()[key])
        for key, value in tsn.state_dict().items())

    def batch(segments, labels):
        return dict(
            inputs=[
                torch.randint(
                    0, 256, (segments, 3, 56, 56), dtype=torch.uint8)
                for _ in labels
            ],
            data_samples=[
                ActionDataSample(metainfo=dict(
                    num_clips=segments)).set_gt_label(label)
                for label in labels
            ])

    result, outputs = train_and_test(model, optim_wrapper, batch(5, [0, 3]),
                                     batch(8, [1, 2]))
    scores = torch.stack([o.pred_score for o in outputs])
    result.update(
        stage1_loaded=loaded,
        trainable_in_off_head=all(
            n.startswith('off_head.') for n, p in model.named_parameters()
            if p.requires_grad),
        scores_shape=list(scores.shape),
        scores_sum=scores.sum(1).tolist(),
        scores_finite=bool(torch.isfinite(scores).all()))
    return result


def run_detection(out_dir: str) -> dict:
    """The tiny OFF (multi-scale) video detector: one train step on 2
    videos (a key frame and its reference each), one online test step."""
    import torch
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import DefaultScope
    from mmengine.structures import InstanceData

    import off_plugin.detection  # noqa: F401
    from mmdet.registry import MODELS
    from mmdet.structures import DetDataSample, TrackDataSample

    size = 64
    torch.manual_seed(0)
    cfg = Config.fromfile(DETECTION)
    with DefaultScope.overwrite_default_scope('mmdet'):
        model = MODELS.build(cfg.model)
        model.init_weights()
        optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)

    def frame(video_id, frame_id):
        sample = DetDataSample(
            metainfo=dict(
                img_shape=(size, size),
                ori_shape=(size, size),
                scale_factor=(1., 1.),
                video_id=video_id,
                frame_id=frame_id))
        sample.gt_instances = InstanceData(
            bboxes=torch.tensor([[8., 8., 40., 36.]]),
            labels=torch.tensor([1]))
        return sample

    def track(frames, key=None):
        sample = TrackDataSample()
        sample.video_data_samples = frames
        if key is not None:
            sample.set_metainfo(
                dict(key_frames_inds=[key], ref_frames_inds=[1 - key]))
        return sample

    def images(num):
        return torch.randint(0, 256, (num, 3, size, size), dtype=torch.uint8)

    train = dict(
        inputs=[images(2), images(2)],
        data_samples=[
            track([frame(1, 3), frame(1, 4)], key=1),
            track([frame(2, 0), frame(2, 1)], key=0)
        ])
    test = dict(inputs=[images(1)], data_samples=[track([frame(3, 0)])])
    result, outputs = train_and_test(model, optim_wrapper, train, test)
    detections = outputs[0][0].pred_instances
    result.update(
        detections=len(detections),
        bboxes_shape=list(detections.bboxes.shape),
        scores_in_0_1=bool(((detections.scores >= 0)
                            & (detections.scores <= 1)).all()),
        labels=sorted(set(detections.labels.tolist())),
        max_per_img=cfg.model.detector.test_cfg.rcnn.max_per_img)
    return result


def run_restoration(out_dir: str) -> dict:
    """The demo DnCNN_OFF(3): one train step on 2 windows of 3 frames, one
    test step on one window."""
    import torch
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import DefaultScope

    import off_plugin.restoration  # noqa: F401
    from mmagic.registry import MODELS
    from mmagic.structures import DataSample

    size = 32
    torch.manual_seed(0)
    cfg = Config.fromfile(RESTORATION)
    with DefaultScope.overwrite_default_scope('mmagic'):
        model = MODELS.build(cfg.model)
        model.init_weights()
        optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)

    def batch(num):
        gts = [
            torch.randint(0, 256, (3, size, size)).float() for _ in range(num)
        ]
        return dict(
            inputs=[(gt + torch.randint(-8, 9,
                                        (3, 3, size, size))).clamp(0, 255)
                    for gt in gts],
            data_samples=[DataSample(gt_img=gt) for gt in gts])

    result, outputs = train_and_test(model, optim_wrapper, batch(2), batch(1))
    pred = outputs[0].output.pred_img
    result.update(
        pred_shape=list(pred.shape),
        pred_finite=bool(torch.isfinite(pred).all()),
        pred_range=[float(pred.min()), float(pred.max())])
    return result


def run_without_host(task: str) -> dict:
    """``import off_plugin.all_tasks`` with ``task``'s host missing, then
    ``import off_plugin.<task>``."""
    import off_plugin.all_tasks  # noqa: F401
    result = dict(
        tasks={t: f'off_plugin.{t}' in sys.modules
               for t in HOSTS},
        version=off_plugin.__version__)
    try:
        __import__(f'off_plugin.{task}')
    except ImportError as e:
        result.update(error=type(e).__name__, message=str(e), name=e.name)
    return result


def child(task: str, blocked: str, out_dir: str) -> None:
    attempts = install_blocker(blocked.split(','))
    if task.startswith('without-'):
        result = run_without_host(task[len('without-'):])
    else:
        result = globals()[f'run_{task}'](out_dir)
    import importlib.metadata

    import importlib_metadata
    result['imported'] = sorted({n.partition('.')[0]
                                 for n in sys.modules}
                                & set(blocked.split(',')))
    result['distributions_found'] = sorted(
        n for n in blocked.split(',')
        for lookup in (importlib.metadata, importlib_metadata) if any(
            True for _ in lookup.distributions(name=DISTRIBUTIONS.get(n, n))))
    result['attempted'] = sorted({a.partition('.')[0] for a in attempts})
    print('RESULT ' + json.dumps(result))


# --- the tests -------------------------------------------------------------


def start(task: str, blocked, out_dir) -> subprocess.Popen:
    env = dict(
        os.environ,
        OMP_NUM_THREADS='1',
        MKL_NUM_THREADS='1',
        PYTHONWARNINGS='ignore')
    env.pop('PYTHONPATH', None)
    return subprocess.Popen([
        sys.executable,
        osp.abspath(__file__), task, ','.join(blocked),
        str(out_dir)
    ],
                            cwd=ROOT,
                            env=env,
                            stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE,
                            text=True)


def result_of(proc: subprocess.Popen) -> dict:
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-4000:]
    line, = (line for line in out.splitlines() if line.startswith('RESULT '))
    return json.loads(line[len('RESULT '):])


class Children:
    """The children of one test, started together on first use."""

    def __init__(self, tmp_path_factory, tasks):
        self.tmp_path_factory = tmp_path_factory
        self.tasks = tasks
        self.procs = {}
        self.results = {}

    def __getitem__(self, key):
        if not self.procs:
            for name, (task, blocked) in self.tasks.items():
                self.procs[name] = start(task, blocked,
                                         self.tmp_path_factory.mktemp(name))
        if key not in self.results:
            self.results[key] = result_of(self.procs[key])
        return self.results[key]

    def close(self):
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.communicate()


@pytest.fixture(scope='module')
def task_runs(tmp_path_factory):
    children = Children(tmp_path_factory,
                        {t: (t, WITHOUT[t])
                         for t in WITHOUT})
    yield children
    children.close()


@pytest.fixture(scope='module')
def runs_without_host(tmp_path_factory):
    children = Children(tmp_path_factory, {
        t: (f'without-{t}', (host, ))
        for t, (host, _) in HOSTS.items()
    })
    yield children
    children.close()


def assert_alone(result):
    assert result['imported'] == []  # none of the blocked in sys.modules
    assert result['distributions_found'] == []


def assert_trained(result, at_least):
    assert result['losses'] and all(v == v and abs(v) < float('inf')
                                    for v in result['losses'].values())
    assert result['losses']['loss'] > 0
    # an AdamW step moves every trainable weight that has a gradient
    assert len(result['trainable_changed']) >= at_least * result['trainable']


@pytest.mark.slow
def test_recognition_alone(task_runs):
    result = task_runs['recognition']
    assert_alone(result)
    # MMAction2 looked for MMDetection (its roi heads, in a try) and found
    # none, as when it is not installed
    assert 'mmdet' in result['attempted']
    assert_trained(result, at_least=1)
    assert result['stage1_loaded'] and result['trainable_in_off_head']
    # the stage-1 network stays frozen
    assert result['frozen'] > 0 and result['frozen_changed'] == 0
    assert result['scores_shape'] == [2, 4] and result['scores_finite']
    assert result['scores_sum'] == pytest.approx([1., 1.], abs=1e-5)


@pytest.mark.slow
def test_detection_alone(task_runs):
    result = task_runs['detection']
    assert_alone(result)
    assert_trained(result, at_least=0.9)  # a few get no gradient
    assert {'loss_rpn_cls', 'loss_rpn_bbox', 'loss_cls',
            'loss_bbox'} <= set(result['losses'])
    assert result['frozen'] == 0
    assert 0 < result['detections'] <= result['max_per_img']
    assert result['bboxes_shape'] == [result['detections'], 4]
    assert result['scores_in_0_1']
    assert set(result['labels']) <= {0, 1, 2}


@pytest.mark.slow
def test_restoration_alone(task_runs):
    result = task_runs['restoration']
    assert_alone(result)
    # zero_init_residual: the network starts as the identity, its last
    # layer zero, so the first step's gradient reaches that layer alone
    assert_trained(result, at_least=0)
    assert result['trainable_changed'] == [
        'generator.tail.5.conv.bias', 'generator.tail.5.conv.weight'
    ]
    assert result['frozen'] == 0
    assert result['pred_shape'] == [3, 32, 32] and result['pred_finite']
    low, high = result['pred_range']
    assert 0 <= low < high <= 255


@pytest.mark.slow
@pytest.mark.parametrize('task', list(HOSTS))
def test_missing_host_is_skipped_and_named(runs_without_host, task):
    result = runs_without_host[task]
    host, dist = HOSTS[task]
    assert_alone(result)
    # the other tasks are imported, this one is skipped without error
    assert result['tasks'] == {t: t != task for t in HOSTS}
    assert result['error'] == 'ImportError' and result['name'] == host
    assert dist in result['message']
    assert f'off_plugin[{task}]' in result['message']
    assert f'tools/setup_env.sh --task {task}' in result['message']


if __name__ == '__main__':
    child(*sys.argv[1:4])
