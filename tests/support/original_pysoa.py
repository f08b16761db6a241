"""
PySOA 1.4.9, the original library this project re-implements, as a peer to compare with: never a dependency.

The ``original_python`` fixture installs ``pysoa[test_plans]==1.4.9`` (the extra brings what its test plans need)
from PyPI into a virtualenv of its own (with Python 3.9 or 3.8, which the original runs on), every package at the
version pinned in ``requirements/interop-lock.txt``, cached in ``.venv-interop/`` at the repository root so that later
runs reuse it (and rebuilt when the lock changes). Tests that use it skip when PyPI cannot be reached to build it; any
other failure to build it fails them.
"""

import glob
import hashlib
import os
import pathlib
import shutil
import subprocess
import sys
from typing import (
    Dict,
    List,
    Optional,
    Tuple,
)

import pytest


def clean_environment() -> Dict[str, str]:
    """This process's environment without what would make a child Python import this project's ``pysoa``."""
    return {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'PYTHONHOME', 'VIRTUAL_ENV')}


REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
VENV_CACHE = REPO_ROOT / '.venv-interop'
INTEROP_LOCK = REPO_ROOT / 'requirements' / 'interop-lock.txt'
ORIGINAL_VERSION = '1.4.9'
#: With the ``test_plans`` extra, so that the differential tests can run 1.4.9's test-plan toolkit too.
ORIGINAL_REQUIREMENT = f'pysoa[test_plans]=={ORIGINAL_VERSION}'
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
            capture_output=True,
            text=True,
            timeout=30,
            cwd='/',
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
                capture_output=True,
                text=True,
                check=True,
                cwd='/',
            ).stdout.strip()
            return candidate, full_version
    pytest.fail(
        f'The interop tests need Python {" or ".join(SUPPORTED_PYTHONS)} (with venv) to run PySOA '
        f'{ORIGINAL_VERSION}, and none of {[c for c in candidates if c]} works. Install one (for example '
        f'`pyenv install 3.9`) or set $PYSOA_INTEROP_PYTHON to one.',
        pytrace=False,
    )


def _digest(path: pathlib.Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _build_virtualenv(directory: pathlib.Path, base_python: str) -> None:
    subprocess.run([base_python, '-I', '-m', 'venv', str(directory)], check=True, cwd='/', env=clean_environment())
    # Every package at the version in the lock file, pip and the build tools included, so that a release of any of
    # them cannot change what the interop tests run against.
    install = subprocess.run(
        [
            str(directory / 'bin' / 'python'),
            '-I',
            '-m',
            'pip',
            'install',
            '--disable-pip-version-check',
            '--timeout',
            '30',
            '--retries',
            '2',
            '-c',
            str(INTEROP_LOCK),
            'pip',
            'setuptools',
            'wheel',
            ORIGINAL_REQUIREMENT,
        ],
        capture_output=True,
        text=True,
        cwd='/',
        env=clean_environment(),
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
    wanted = f'{ORIGINAL_REQUIREMENT} on Python {full_version}, lock {_digest(INTEROP_LOCK)}\n'
    if not complete_marker.exists() or complete_marker.read_text() != wanted:
        shutil.rmtree(directory, ignore_errors=True)
        try:
            _build_virtualenv(directory, base_python)
        except BaseException:
            shutil.rmtree(directory, ignore_errors=True)
            raise
        complete_marker.write_text(wanted)
    python = directory / 'bin' / 'python'
    check = subprocess.run(
        [str(python), '-I', '-c', 'import pysoa.version; print(pysoa.version.__version__)'],
        capture_output=True,
        text=True,
        cwd='/',
        env=clean_environment(),
    )
    assert check.stdout.strip() == ORIGINAL_VERSION, f'{directory} is broken (delete it to rebuild):\n{check.stderr}'
    return str(python)
