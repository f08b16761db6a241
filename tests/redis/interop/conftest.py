"""
Fixtures for the interoperability tests with PySOA 1.4.9, the original library this project re-implements.

The original is never a dependency of this project: the ``original_python`` fixture installs ``pysoa==1.4.9`` from
PyPI into a virtualenv of its own (with Python 3.9 or 3.8, which the original runs on), cached in ``.venv-interop/``
at the repository root so that later runs reuse it. The tests skip when PyPI cannot be reached to build it; any
other failure to build it fails them.
"""

import glob
import os
import pathlib
import shutil
import subprocess
import sys
from typing import (
    Callable,
    Dict,
    Iterator,
    List,
    Optional,
    Tuple,
)

import pytest

from tests.redis.interop.helpers import (
    WIRES,
    OriginalClient,
    Wire,
    clean_environment,
)


REPO_ROOT = pathlib.Path(__file__).resolve().parents[3]
VENV_CACHE = REPO_ROOT / '.venv-interop'
ORIGINAL_VERSION = '1.4.9'
SUPPORTED_PYTHONS = ('3.9', '3.8')

#: What pip prints when it cannot reach the package index (as opposed to, say, failing to build a package).
NETWORK_FAILURE_MARKERS = (
    'NewConnectionError',
    'Failed to establish a new connection',
    'Temporary failure in name resolution',
    'Name or service not known',
    'nodename nor servname provided',
    'Network is unreachable',
    'No route to host',
    'Connection refused',
    'ConnectTimeoutError',
    'ReadTimeoutError',
    'ProxyError',
    'Max retries exceeded',
)


# The original's virtualenv --------------------------------------------------------------------------------------------

def _python_version(python: str) -> Optional[str]:
    """``'3.9'`` for a working Python 3.9 with ``venv``, and so on; ``None`` if it does not run (a broken shim)."""
    try:
        result = subprocess.run(
            [python, '-I', '-c', 'import sys, venv; print("%d.%d" % sys.version_info[:2])'],
            capture_output=True, text=True, timeout=30, cwd='/',
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def find_original_interpreter() -> Tuple[str, str]:
    """
    A Python the original runs on, and its full version: ``$PYSOA_INTEROP_PYTHON`` if set, else the newest pyenv
    3.9, ``python3.9`` on the ``PATH``, the same for 3.8, and last this interpreter if it is one of those versions.
    """
    override = os.environ.get('PYSOA_INTEROP_PYTHON')
    candidates: List[str] = []
    if override:
        candidates.append(override)
    else:
        pyenv_roots = list(filter(None, [os.environ.get('PYENV_ROOT'), os.path.expanduser('~/.pyenv')]))
        for version in SUPPORTED_PYTHONS:
            for root in pyenv_roots:
                candidates += sorted(glob.glob(f'{root}/versions/{version}.*/bin/python{version}'), reverse=True)
            candidates.append(shutil.which(f'python{version}') or '')
        candidates.append(sys.executable)
    for candidate in filter(None, candidates):
        if _python_version(candidate) in SUPPORTED_PYTHONS:
            full_version = subprocess.run(
                [candidate, '-I', '-c', 'import platform; print(platform.python_version())'],
                capture_output=True, text=True, check=True, cwd='/',
            ).stdout.strip()
            return candidate, full_version
    pytest.fail(
        f'The interop tests need Python {" or ".join(SUPPORTED_PYTHONS)} (with venv) to run PySOA '
        f'{ORIGINAL_VERSION}, and none of {[c for c in candidates if c]} works. Install one (for example '
        f'`pyenv install 3.9`) or set $PYSOA_INTEROP_PYTHON to one.',
        pytrace=False,
    )


def _build_virtualenv(directory: pathlib.Path, base_python: str) -> None:
    subprocess.run([base_python, '-I', '-m', 'venv', str(directory)], check=True, cwd='/', env=clean_environment())
    install = subprocess.run(
        [
            str(directory / 'bin' / 'python'), '-I', '-m', 'pip', 'install', '--disable-pip-version-check',
            '--timeout', '30', '--retries', '2', f'pysoa=={ORIGINAL_VERSION}',
        ],
        capture_output=True, text=True, cwd='/', env=clean_environment(),
    )
    if install.returncode == 0:
        return
    output = install.stdout + install.stderr
    network_failures = [marker for marker in NETWORK_FAILURE_MARKERS if marker in output]
    if network_failures:
        pytest.skip(
            f'PyPI cannot be reached to install pysoa=={ORIGINAL_VERSION} for the interop tests '
            f'({network_failures[0]}): {output.strip().splitlines()[-1]}',
        )
    pytest.fail(f'Installing pysoa=={ORIGINAL_VERSION} for the interop tests failed:\n{output}', pytrace=False)


@pytest.fixture(scope='session')
def original_python() -> str:
    """The interpreter of a virtualenv holding PySOA 1.4.9 (built once, then reused from ``.venv-interop/``)."""
    base_python, full_version = find_original_interpreter()
    directory = VENV_CACHE / f'pysoa-{ORIGINAL_VERSION}-python-{full_version}'
    complete_marker = directory / 'interop-venv-complete'  # written last: a half-built virtualenv lacks it
    if not complete_marker.exists():
        shutil.rmtree(directory, ignore_errors=True)
        try:
            _build_virtualenv(directory, base_python)
        except BaseException:
            shutil.rmtree(directory, ignore_errors=True)
            raise
        complete_marker.write_text(f'pysoa=={ORIGINAL_VERSION} on Python {full_version}\n')
    python = directory / 'bin' / 'python'
    check = subprocess.run(
        [str(python), '-I', '-c', 'import pysoa.version; print(pysoa.version.__version__)'],
        capture_output=True, text=True, cwd='/', env=clean_environment(),
    )
    assert check.stdout.strip() == ORIGINAL_VERSION, f'{directory} is broken (delete it to rebuild):\n{check.stderr}'
    return str(python)


# Fixtures of the tests ------------------------------------------------------------------------------------------------

@pytest.fixture(params=WIRES, ids=lambda w: f'protocol-{w.protocol_version}-{w.serializer}')
def wire(request: pytest.FixtureRequest) -> Wire:
    """Each protocol version (2 and 3) with each serializer (MessagePack and JSON)."""
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def make_original_client(
    original_python: str,
    tmp_path: pathlib.Path,
) -> Iterator[Callable[[Dict[str, object]], OriginalClient]]:
    """Starts clients of the original (:class:`OriginalClient`) with a given config; stops them after the test."""
    clients: List[OriginalClient] = []

    def make(config: Dict[str, object]) -> OriginalClient:
        clients.append(OriginalClient(original_python, config, tmp_path))
        return clients[-1]

    yield make
    for client in clients:
        client.close()
