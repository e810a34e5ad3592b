# Copyright (c) off_plugin authors. All rights reserved.
"""Packaging of off_plugin, in the style of the OpenMMLab packages.

The supported way to set up a working stack is ``bash tools/setup_env.sh``
(``--task recognition`` etc. for one task; see README.md): the OpenMMLab
2023 releases need an exact set of versions (requirements/constraints.txt)
and some of them must be installed without their declared dependencies
(requirements/mminstall.txt).

Extras, one per task: ``off_plugin[recognition]`` (MMAction2),
``[detection]`` (MMDetection), ``[restoration]`` (MMagic); ``[deploy]``
(ONNX export and ONNX Runtime, ``--backend onnxruntime``), ``[openvino]``
(``deploy`` and OpenVINO, which runs the exported files: ``--backend
openvino``); ``[all]`` (the three, ``openvino``, ``mim`` and the tests).
Each task's extra holds mmcv-lite, mmengine, the task's host and what they
import (requirements/<task>.txt). mmcv-lite has no compiled ops: detection
and restoration also need ``pip install --no-deps ./mmcv_ext``
(mmcv._ext on torchvision's kernels), or a compiled mmcv (``pip install
--no-build-isolation mmcv==2.1.0`` after torch) in place of mmcv-lite.
"""
import os.path as osp
import re

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def get_version() -> str:
    with open(osp.join(HERE, 'off_plugin', 'version.py')) as f:
        return re.search(r"__version__ = '([^']+)'", f.read()).group(1)


TASKS = ('recognition', 'detection', 'restoration')


def parse_requirements(fname: str, tag: str = '') -> list:
    """Requirement lines of ``requirements/<fname>``, those of its ``-r``
    includes in place, comments left out. ``tag``: only the lines ending in
    ``# <tag>`` (``''``: the untagged ones; see requirements/mminstall.txt)."""
    requirements = []
    with open(osp.join(HERE, 'requirements', fname)) as f:
        for line in f:
            line, _, comment = (part.strip() for part in line.partition('#'))
            if line.startswith('-r '):
                requirements += parse_requirements(line[3:].strip(), tag)
            elif line and not line.startswith('-') and comment == tag:
                requirements.append(line)
    return requirements


def task_requirements(task: str) -> list:
    """mmcv-lite, mmengine, the task's host and what they import."""
    return (parse_requirements('mminstall.txt', tag='mmcv-lite') +
            parse_requirements('mminstall.txt') +
            parse_requirements('mminstall.txt', tag=task) +
            parse_requirements(f'{task}.txt'))


def extras() -> dict:
    """One extra per task, ``deploy`` (ONNX export and ONNX Runtime),
    ``openvino`` (``deploy`` and OpenVINO: it runs the exported files,
    whose metadata ``onnx`` reads), ``all`` (the three, ``deploy``,
    ``openvino``, ``mim`` and the tests), ``mim`` and ``tests``."""
    mim = (
        parse_requirements('mminstall.txt', tag='mim') +
        parse_requirements('mim.txt'))
    tests = parse_requirements('tests.txt')
    deploy = parse_requirements('deploy.txt')
    openvino = deploy + parse_requirements('openvino.txt')
    tasks = {task: task_requirements(task) for task in TASKS}
    every = [req for reqs in tasks.values()
             for req in reqs] + openvino + mim + tests
    return dict(
        tasks,
        all=list(dict.fromkeys(every)),
        deploy=deploy,
        openvino=openvino,
        mim=mim,
        tests=tests)


def readme() -> str:
    with open(osp.join(HERE, 'README.md'), encoding='utf-8') as f:
        return f.read()


setup(
    name='off_plugin',
    version=get_version(),
    description='Optical Flow guided Feature (OFF) for MMAction2, '
    'MMDetection and MMagic',
    long_description=readme(),
    long_description_content_type='text/markdown',
    keywords='computer vision, video, optical flow guided feature, '
    'action recognition, video object detection, artifact removal',
    packages=find_packages(exclude=('configs', 'demo', 'tools', 'tests')),
    # `mim` reads configs, tools and the model index from <package>/.mim:
    # links in the checkout, copies in a wheel.
    package_data={
        'off_plugin': [
            '.mim/model-index.yml', '.mim/configs/**/*.py',
            '.mim/configs/**/*.yml', '.mim/configs/**/*.md',
            '.mim/tools/**/*.py', '.mim/tools/**/*.sh', '.mim/demo/*.py'
        ]
    },
    python_requires='>=3.10',
    classifiers=[
        'Development Status :: 3 - Alpha',
        'Operating System :: OS Independent',
        'Programming Language :: Python :: 3',
        'Programming Language :: Python :: 3.10',
        'Programming Language :: Python :: 3.11',
        'Programming Language :: Python :: 3.12',
        'Programming Language :: Python :: 3.13',
    ],
    license='Apache-2.0',
    install_requires=parse_requirements('runtime.txt'),
    extras_require=extras(),
    zip_safe=False)
