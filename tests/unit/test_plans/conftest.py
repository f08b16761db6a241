"""
Shared by the test plan tests: pytest's ``pytester`` (registered here: ``pytest_plugins`` is only allowed in the
rootdir's conftest), and helpers that set up a pytester project with the ``plans`` service and plan files.
"""

import os
import shutil
from typing import (
    Callable,
    Dict,
)

import pytest

# Imported here once: pytester's in-process runs drop the modules they import, so each run would import them again.
import pysoa.test.plan.grammar.directives
import pysoa.test.plan.parser  # noqa: F401
import tests.unit.test_plans.service  # noqa: F401


HERE = os.path.dirname(os.path.abspath(__file__))

TEST_MODULE = """
import os

from pysoa.test.plan import ServicePlanTestCase
from tests.unit.test_plans.service import PlansServer


class TestPlans(ServicePlanTestCase):
    server_class = PlansServer
    server_settings = {}
    fixture_path = os.path.join(os.path.dirname(__file__), 'plans')
"""


PYTEST_ARGUMENTS = ('-p', 'no:cacheprovider', '-p', 'no:hypothesispytest', '-p', 'no:faker')
"""For pytester runs: without the plugins that only slow each run down (hypothesis imports itself at every run)."""


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.import_plugin('pytester')


@pytest.fixture
def plan_project(pytester: pytest.Pytester) -> Callable[..., pytest.Pytester]:
    """
    ``plan_project(plans={'name.pysoa': text}, test_module=TEST_MODULE)`` writes a test module with a plan class
    for the ``plans`` service and the plan files into the pytester directory.
    """
    pytester.syspathinsert(os.path.dirname(os.path.dirname(os.path.dirname(HERE))))

    def make(plans: Dict[str, str], test_module: str = TEST_MODULE, copy_from: str = '') -> pytest.Pytester:
        directory = pytester.path / 'plans'
        directory.mkdir(exist_ok=True)
        if copy_from:
            for name in os.listdir(copy_from):
                shutil.copy(os.path.join(copy_from, name), directory / name)
        for name, text in plans.items():
            (directory / name).write_text(text, encoding='utf-8')
        pytester.makepyfile(test_plans=test_module)
        return pytester

    return make
