"""
Differential tests: the same public-API snippet runs under PySOA 1.4.9 (in its own virtualenv, see
``tests/support/original_pysoa.py``) and under this project, each in a fresh interpreter, and the two results must
be equal. A snippet is Python 3.9 code that prints one JSON value on its last line of output.
"""

import json
import pathlib
import subprocess
import sys
import textwrap
from typing import (
    Any,
    Callable,
    Tuple,
)

import pytest

from tests.support.original_pysoa import clean_environment


def _run(python: str, code: str, directory: pathlib.Path) -> Any:
    result = subprocess.run(
        [python, '-c', textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=directory,
        env=clean_environment(),
    )
    assert result.returncode == 0, f'{python} failed:\n{result.stderr}'
    return json.loads(result.stdout.strip().splitlines()[-1])


#: Runs a snippet under both versions: ``(what 1.4.9 printed, what this project printed)``.
RunBoth = Callable[[str], Tuple[Any, Any]]


@pytest.fixture
def run_both(original_python: str, tmp_path: pathlib.Path) -> RunBoth:
    def run(code: str) -> Tuple[Any, Any]:
        return _run(original_python, code, tmp_path), _run(sys.executable, code, tmp_path)

    return run
