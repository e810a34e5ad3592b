"""Check the relative links of README.md and docs/**/*.md (`make docs`).

Every relative Markdown link, ``[text](path)``, ``[text](path#anchor)``,
``![alt](path)``, ``[name]: path``, must name a file or folder that exists,
relative to the page that holds it; an ``#anchor`` into a Markdown file (or
the page itself) must be one of that file's headings, slugged as GitHub and
MyST slug them. Links with a scheme (``https:``, ``mailto:``) are not
checked, nor anything inside code. Sphinx checks the links between docs
pages too; this also covers README.md and the links from docs/ to the
repository's files (configs, tools), which Sphinx does not build.

Exit status 1 with one line per broken link (``file:line: link: why``),
0 and a count when all resolve.
"""
import os
import os.path as osp
import re
import sys
from typing import Dict, Iterator, List, Set, Tuple

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SKIP_DIRS = {'_build'}

FENCE = re.compile(r'^ {0,3}(`{3,}|~{3,})')
INLINE_CODE = re.compile(r'(`+)(?!`)(.+?)(?<!`)\1(?!`)', re.S)
INLINE_LINK = re.compile(
    r'!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*(<[^>\n]*>|[^\s()]+)'
    r'(?:\s+(?:"[^"]*"|\'[^\']*\'))?\s*\)')
REF_DEF = re.compile(r'^ {0,3}\[[^\]]+\]:\s*(<[^>\n]*>|\S+)', re.M)
HEADING = re.compile(r'^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$')
SCHEME = re.compile(r'^[A-Za-z][A-Za-z0-9+.-]*:')


def markdown_files() -> List[str]:
    files = [osp.join(ROOT, 'README.md')]
    for folder, dirs, names in os.walk(osp.join(ROOT, 'docs')):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        files += [
            osp.join(folder, n) for n in sorted(names) if n.endswith('.md')
        ]
    return files


def blank_fences(text: str) -> str:
    """``text`` with the lines of fenced code blocks emptied (line numbers
    stay)."""
    lines, fence = [], None
    for line in text.split('\n'):
        match = FENCE.match(line)
        if fence is None and match:
            fence = match.group(1)
            lines.append('')
        elif fence is not None:
            if match and match.group(1)[0] == fence[0] \
                    and len(match.group(1)) >= len(fence) \
                    and not line.strip()[len(match.group(1)):].strip():
                fence = None
            lines.append('')
        else:
            lines.append(line)
    return '\n'.join(lines)


def blank_code(text: str) -> str:
    """``text`` with fenced and inline code replaced by spaces (newlines
    kept, so that offsets and line numbers stay)."""
    return INLINE_CODE.sub(lambda m: re.sub(r'[^\n]', ' ', m.group(0)),
                           blank_fences(text))


def slug(heading: str) -> str:
    """GitHub's (and MyST's) anchor of a heading."""
    text = re.sub(r'!?\[([^\]]*)\]\([^)]*\)', r'\1', heading)  # links
    text = text.replace('`', '').replace('*', '')
    text = re.sub(r'[^\w\- ]', '', text.strip().lower())
    return text.replace(' ', '-')


_anchors: Dict[str, Set[str]] = {}


def anchors(path: str) -> Set[str]:
    if path not in _anchors:
        with open(path, encoding='utf-8') as f:
            text = blank_fences(f.read())
        found: Set[str] = set()
        counts: Dict[str, int] = {}
        for line in text.split('\n'):
            match = HEADING.match(line)
            if match:
                base = slug(match.group(2))
                n = counts.get(base, 0)
                counts[base] = n + 1
                found.add(base if n == 0 else f'{base}-{n}')
        _anchors[path] = found
    return _anchors[path]


def links(text: str) -> Iterator[Tuple[int, str]]:
    code_free = blank_code(text)
    found = [(m.start(), m.group(1)) for m in INLINE_LINK.finditer(code_free)]
    found += [(m.start(), m.group(1)) for m in REF_DEF.finditer(code_free)]
    for offset, target in sorted(found):
        yield code_free.count('\n', 0, offset) + 1, target.strip('<>')


def problem(page: str, target: str) -> str:
    """Why ``target`` (a link on ``page``) is broken, or ''."""
    path, _, anchor = target.partition('#')
    path = path.split('?')[0]
    if path.startswith('/'):
        return 'absolute path: link relative to the page'
    full = osp.normpath(osp.join(osp.dirname(page), path)) if path else page
    if not osp.exists(full):
        return f'no file {osp.relpath(full, ROOT)}'
    if anchor and full.endswith('.md') and anchor not in anchors(full):
        return f'no heading #{anchor} in {osp.relpath(full, ROOT)}'
    return ''


def main() -> int:
    broken, checked = [], 0
    for page in markdown_files():
        with open(page, encoding='utf-8') as f:
            text = f.read()
        for line, target in links(text):
            if not target or SCHEME.match(target):
                continue
            checked += 1
            why = problem(page, target)
            if why:
                broken.append(
                    f'{osp.relpath(page, ROOT)}:{line}: {target}: {why}')
    for entry in broken:
        print(entry, file=sys.stderr)
    if broken:
        print(
            f'check_links: {len(broken)} broken relative link(s) of '
            f'{checked}',
            file=sys.stderr)
        return 1
    print(f'check_links: {checked} relative links in README.md and docs/, '
          'all resolve')
    return 0


if __name__ == '__main__':
    sys.exit(main())
