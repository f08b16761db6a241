"""
The Python examples of the documentation pass ``mypy --strict``: the happy path is typed, without ``cast`` or
``Optional`` narrowing in the reader's code.

Each page's ``.. code-block:: python`` blocks are written, in order, into one module of a folder of their own, which
mypy checks as a whole. RST comments, invisible in the built pages, steer that:

* ``.. type-check file: thermo/actions.py`` puts the next block in that file instead (a multi-file example);
* ``.. type-check skip`` leaves the next block out (pseudo-code, or an excerpt of a settings dict);
* ``.. type-check context:`` followed by indented code adds that code before the next block: names an excerpt
  takes from its surroundings (``client: Client``, say).
"""

import pathlib
import re
import subprocess
import sys
import textwrap
from typing import (
    Dict,
    Iterator,
    List,
    Optional,
    Tuple,
)

import pytest


REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]

CHECKED_PAGES = [
    'README.rst',
    'docs/index.rst',
    'docs/getting_started.rst',
    'docs/guide/jobs_and_actions.rst',
    'docs/guide/schemas.rst',
    'docs/guide/errors.rst',
    'docs/guide/client_call_styles.rst',
    'docs/guide/context_and_switches.rst',
    'docs/guide/expansions.rst',
    'docs/command_line.rst',
    'docs/production.rst',
]
"""The pages whose examples are checked; their examples call services and write actions on the happy path."""

_CODE_BLOCK = re.compile(r'^(?P<indent>\s*)\.\. code-block:: python\s*$')
_FILE = re.compile(r'^\s*\.\. type-check file: (?P<path>\S+)\s*$')
_SKIP = re.compile(r'^\s*\.\. type-check skip\s*$')
_CONTEXT = re.compile(r'^(?P<indent>\s*)\.\. type-check context:\s*$')
_PAGE_MODULE = 'page_examples.py'


def _indented_block(lines: List[str], start: int, indent: int) -> Tuple[str, int]:
    """The lines from ``start`` indented deeper than ``indent`` (blank lines included), dedented; and the next index."""
    end = start
    while end < len(lines) and (not lines[end].strip() or len(lines[end]) - len(lines[end].lstrip()) > indent):
        end += 1
    return textwrap.dedent('\n'.join(lines[start:end])).strip('\n'), end


def page_files(text: str) -> Dict[str, str]:
    """The Python files a page's examples make, by relative path."""
    files: Dict[str, List[str]] = {}
    lines = text.split('\n')
    target: Optional[str] = None
    skip = False
    context: List[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        file_match, context_match, block_match = _FILE.match(line), _CONTEXT.match(line), _CODE_BLOCK.match(line)
        if file_match:
            target = file_match.group('path')
        elif _SKIP.match(line):
            skip = True
        elif context_match:
            code, index = _indented_block(lines, index, len(context_match.group('indent')))
            context.append(code)
        elif block_match:
            while index < len(lines) and (not lines[index].strip() or lines[index].strip().startswith(':')):
                index += 1  # the directive's options and the blank line after them
            code, index = _indented_block(lines, index, len(block_match.group('indent')))
            if not skip:
                files.setdefault(target or _PAGE_MODULE, []).extend([*context, code])
            target, skip, context = None, False, []
    return {path: '\n\n\n'.join(parts) + '\n' for path, parts in files.items()}


@pytest.fixture(scope='module')
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    return tmp_path_factory.mktemp('mypy-cache')


def _write(folder: pathlib.Path, files: Dict[str, str]) -> Iterator[pathlib.Path]:
    for relative_path, code in files.items():
        path = folder / relative_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(code, encoding='utf-8')
        yield path


@pytest.mark.parametrize('page', CHECKED_PAGES)
def test_the_python_examples_of_the_page_pass_mypy_strict(
    page: str,
    tmp_path: pathlib.Path,
    mypy_cache: pathlib.Path,
) -> None:
    files = page_files((REPO_ROOT / page).read_text(encoding='utf-8'))
    assert files, f'{page} has no Python example to check'
    written = list(_write(tmp_path, files))

    result = subprocess.run(
        [
            sys.executable,
            '-m',
            'mypy',
            '--strict',
            '--config-file',
            str(REPO_ROOT / 'pyproject.toml'),
            '--cache-dir',
            str(mypy_cache),
            '--explicit-package-bases',
            '--no-error-summary',
            *(str(path) for path in written),
        ],
        cwd=REPO_ROOT,
        env={'MYPYPATH': str(tmp_path), 'PATH': '/usr/bin:/bin'},
        capture_output=True,
        text=True,
        timeout=300,
    )

    report = result.stdout.replace(f'{tmp_path}/', '')
    assert result.returncode == 0, f'The examples of {page} fail mypy --strict:\n{report}{result.stderr}\n' + '\n'.join(
        f'--- {path}\n{code}' for path, code in files.items()
    )


def test_a_page_module_gathers_the_blocks_in_order_with_their_context() -> None:
    text = (
        'Intro.\n\n'
        '.. type-check context:\n\n'
        '    client = make_client()\n\n'
        '.. code-block:: python\n\n'
        '    client.call_action("a", "b")\n\n'
        '.. type-check skip\n\n'
        '.. code-block:: python\n\n'
        '    pseudo code\n\n'
        '.. type-check file: pkg/mod.py\n\n'
        '.. code-block:: python\n'
        '    :caption: pkg/mod.py\n\n'
        '    X = 1\n'
        '    Y = 2\n\n'
        'More text.\n'
    )

    assert page_files(text) == {
        _PAGE_MODULE: 'client = make_client()\n\n\nclient.call_action("a", "b")\n',
        'pkg/mod.py': 'X = 1\nY = 2\n',
    }
