"""
Importing a :mod:`pysoa.test` module whose packages come with PySOA's ``testing`` extra, without them installed, says
to install ``pysoa[testing]``; the modules that need none of them import without it. Each case runs in a fresh
interpreter where the missing packages cannot be imported.
"""

import subprocess
import sys
from typing import Sequence

import pytest

from tests.support.server_runner import REPO_ROOT


def import_without(module: str, missing: Sequence[str]) -> subprocess.CompletedProcess[str]:
    blocked = '; '.join(f'sys.modules[{name!r}] = None' for name in missing)  # None: "cannot be imported"
    return subprocess.run(
        [sys.executable, '-c', f'import sys; {blocked}; import {module}'],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ('module', 'missing', 'package'),
    [
        ('pysoa.test.factories', 'factory', 'factory_boy'),
        ('pysoa.test.assertions', 'pytest', 'pytest'),
        ('pysoa.test.server', 'pytest', 'pytest'),
        ('pysoa.test.plan', 'pyparsing', 'pyparsing'),
        ('pysoa.test.plan', 'pytest', 'pytest'),
    ],
)
def test_a_module_needing_a_missing_testing_package_says_to_install_the_testing_extra(
    module: str,
    missing: str,
    package: str,
) -> None:
    result = import_without(module, [missing])

    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        f"ModuleNotFoundError: {module} needs {package}, which comes with PySOA's testing extra: "
        f"pip install 'pysoa[testing]'"
    )


def test_a_test_plan_grammar_module_imported_directly_says_it_too() -> None:
    result = import_without('pysoa.test.plan.grammar.tools', ['pyparsing'])

    assert "pip install 'pysoa[testing]'" in result.stderr.splitlines()[-1]


@pytest.mark.parametrize('module', ['pysoa.test.stub_service', 'pysoa.test.compatibility'])
def test_a_module_needing_no_testing_package_imports_without_them(module: str) -> None:
    result = import_without(module, ['factory', 'freezegun', 'pyparsing', 'pytest'])

    assert result.returncode == 0, result.stderr
