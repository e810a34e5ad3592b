# Copyright (c) off_plugin authors. All rights reserved.
"""Packaging of off_plugin, in the style of the OpenMMLab packages.

The supported way to set up a working stack is ``bash tools/setup_env.sh``
(see README.md): the OpenMMLab 2023 releases need an exact set of versions
(requirements/constraints.txt) and some of them must be installed without
their declared dependencies (requirements/mminstall.txt).
"""
import os.path as osp
import re

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def get_version() -> str:
    with open(osp.join(HERE, 'off_plugin', 'version.py')) as f:
        return re.search(r"__version__ = '([^']+)'", f.read()).group(1)


def parse_requirements(fname: str) -> list:
    """Requirement lines of ``requirements/<fname>``, comments and ``-r``
    includes left out."""
    with open(osp.join(HERE, 'requirements', fname)) as f:
        lines = (line.split('#', 1)[0].strip() for line in f)
        return [line for line in lines if line and not line.startswith('-')]


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
    packages=find_packages(exclude=('configs', 'tools', 'tests')),
    # `mim` reads configs, tools and the model index from <package>/.mim:
    # links in the checkout, copies in a wheel.
    package_data={
        'off_plugin': [
            '.mim/model-index.yml', '.mim/configs/**/*.py',
            '.mim/configs/**/*.yml', '.mim/configs/**/*.md',
            '.mim/tools/*.py', '.mim/tools/*.sh'
        ]
    },
    python_requires='>=3.9',
    classifiers=[
        'Development Status :: 3 - Alpha',
        'Operating System :: OS Independent',
        'Programming Language :: Python :: 3',
        'Programming Language :: Python :: 3.9',
        'Programming Language :: Python :: 3.10',
        'Programming Language :: Python :: 3.11',
        'Programming Language :: Python :: 3.12',
    ],
    license='Apache-2.0',
    install_requires=parse_requirements('runtime.txt'),
    extras_require={
        'all': parse_requirements('runtime.txt') +
        parse_requirements('tests.txt') + parse_requirements('mim.txt'),
        'tests': parse_requirements('tests.txt'),
        'mim': parse_requirements('mminstall.txt') +
        parse_requirements('mim.txt'),
    },
    zip_safe=False)
