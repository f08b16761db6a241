"""
The sample project in ``tests/sample_project`` (a service, ``greeting_service``, and its tests, written as a PySOA user
writes them) passes when its users run it: with pytest and with ``python -m unittest``, from the project's root.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import (
    Dict,
    Tuple,
)

import pytest


SAMPLE_PROJECT = Path(__file__).resolve().parents[2] / 'sample_project'

PYTEST_TESTS = 13
"""The tests of ``tests/sample_project/tests``: 8 pytest-style and 5 ``unittest.TestCase`` tests."""

UNITTEST_TESTS = 5
"""``python -m unittest`` runs the ``unittest.TestCase`` tests only."""


def clean_environment() -> Dict[str, str]:
    """The environment without the variables of this test run that could change how the sample project runs."""
    return {
        name: value
        for name, value in os.environ.items()
        if name not in ('PYTEST_ADDOPTS', 'PYTEST_PLUGINS', 'PYSOA_SETTINGS_MODULE', 'PYTHONPATH')
    }


def run_in_project(*arguments: str, project: Path = SAMPLE_PROJECT) -> 'subprocess.CompletedProcess[str]':
    """Run Python with these arguments in the project's root directory, as the project's developers do."""
    return subprocess.run(
        [sys.executable, *arguments],
        cwd=project,
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )


PYTEST_COMMAND = ('-m', 'pytest', 'tests', '-q', '-p', 'no:cacheprovider')
UNITTEST_COMMAND = ('-m', 'unittest', 'discover', '-s', 'tests')

UNMET_EXPECTATION_TEST = """
from pysoa.test.server import UnitTestServerTestCase

from greeting_service.server import GreetingServer
from greeting_service.settings import SOA_SERVER_SETTINGS


class UnmetExpectationTests(UnitTestServerTestCase):
    server_class = GreetingServer
    server_settings = SOA_SERVER_SETTINGS

    def test_wrong_error_code(self):
        self.assertActionRunsWithErrorCodes('hello', {}, 'NOT_FOUND')
"""


def test_the_sample_project_passes_under_pytest() -> None:
    result = run_in_project(*PYTEST_COMMAND)

    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(rf'^{PYTEST_TESTS} passed\b', result.stdout, re.MULTILINE), result.stdout


def test_the_sample_project_passes_under_unittest() -> None:
    result = run_in_project(*UNITTEST_COMMAND)

    assert result.returncode == 0, result.stdout + result.stderr
    assert f'Ran {UNITTEST_TESTS} tests in ' in result.stderr, result.stderr
    assert result.stderr.rstrip().endswith('OK'), result.stderr


def test_the_sample_service_starts_from_its_main_module() -> None:
    result = run_in_project('-m', 'greeting_service', '--help')

    assert result.returncode == 0, result.stdout + result.stderr
    assert '--fork' in result.stdout


@pytest.mark.parametrize('command', [PYTEST_COMMAND, UNITTEST_COMMAND], ids=['pytest', 'unittest'])
def test_an_unmet_expectation_fails_the_run_with_a_readable_message(command: Tuple[str, ...], tmp_path: Path) -> None:
    project = tmp_path / 'sample_project'
    shutil.copytree(SAMPLE_PROJECT, project, ignore=shutil.ignore_patterns('__pycache__'))
    (project / 'tests' / 'test_unmet_expectation.py').write_text(UNMET_EXPECTATION_TEST)

    result = run_in_project(*command, project=project)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "Expected errors not found in response: ['NOT_FOUND']" in result.stdout + result.stderr
