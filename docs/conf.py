# Sphinx configuration of off_plugin's documentation (`make docs`).
# Markdown pages through MyST; the built-in alabaster theme, so the build
# needs nothing but requirements/docs.txt and no network.
import os.path as osp
import re

HERE = osp.dirname(osp.abspath(__file__))


def _version() -> str:
    scope: dict = {}
    with open(osp.join(HERE, '..', 'off_plugin', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


project = 'off_plugin'
author = 'off_plugin authors'
copyright = '2026, off_plugin authors'
release = _version()
version = release

extensions = ['myst_parser']
source_suffix = {'.md': 'markdown'}
root_doc = 'index'
exclude_patterns = ['_build', 'check_links.py']

# `[text](page.md#a-heading)` links work as on GitHub: anchors of the
# headings of levels 1-3, slugged the same way.
myst_heading_anchors = 3

html_theme = 'alabaster'
html_title = f'off_plugin {release}'
html_static_path: list = []

# Links from these pages to Markdown files outside docs/ (the configs'
# READMEs, mmcv_ext/README.md, the README) are relative links that work on
# GitHub; Sphinx does not build those files, and MyST warns
# "Unknown source document" for each (myst.xref_missing) and renders the
# link text without a link. Ignore exactly those targets, the ones outside
# docs/: docs/check_links.py (run by `make docs` after the build) checks
# that each names an existing file. Links between docs pages still warn.
REPO = osp.dirname(HERE)
nitpick_ignore_regex = [('myst', re.escape(REPO) + r'/(?!docs/).+')]
