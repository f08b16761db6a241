"""
The pytest plugin that runs test plans (:mod:`pysoa.test.plan`), loaded automatically through its ``pytest11`` entry
point. Each :class:`~pysoa.test.plan.ServicePlanTestCase` subclass collects its ``test*`` methods plus one test per
test case of its fixture files, ``<test file>::<class>::<fixture>::<test name>``.

Command line options (group "pysoa test plans"):

* ``--pysoa-fixture NAME``: run only the test cases of this fixture (file name without extension); repeatable;
* ``--pysoa-test-case NAME``: run only the test cases with this name or description; repeatable;
* ``--pysoa-test-case-regex PATTERN``: run only the test cases whose name or description starts with a match;
  repeatable, and not together with ``--pysoa-test-case``;
* ``--pysoa-disable-tb-prune``: keep PySOA's own frames in the tracebacks of failing test cases.

When any of the filters is given, tests that are not test plan test cases are deselected too.

The plugin does nothing unless a test module imports :mod:`pysoa.test.plan`.
"""

import os
import re
import sys
from types import TracebackType
from typing import (
    Any,
    Dict,
    Iterable,
    List,
    Optional,
    Tuple,
    Union,
)

import pytest


__all__ = (
    'PLUGIN_STATISTICS',
    'PlanFixture',
    'PlanTestItem',
    'ServicePlanClass',
    'pytest_addoption',
    'pytest_collection_modifyitems',
    'pytest_configure',
    'pytest_pycollect_makeitem',
    'pytest_runtest_teardown',
)

PLUGIN_STATISTICS: Dict[str, int] = {
    'fixture_tests_collected': 0,
    'fixture_tests_executed': 0,
    'fixture_tests_skipped': 0,
}
"""Counters of the test plan test cases collected, executed and skipped in this process."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup('pysoa test plans')
    group.addoption(
        '--pysoa-fixture',
        action='append',
        dest='pysoa_fixture',
        metavar='NAME',
        default=[],
        help='Only run the test plan test cases of this fixture (its file name without extension); may be repeated.',
    )
    group.addoption(
        '--pysoa-test-case',
        action='append',
        dest='pysoa_test_case',
        metavar='NAME',
        default=[],
        help='Only run the test plan test cases with this name or description; may be repeated.',
    )
    group.addoption(
        '--pysoa-test-case-regex',
        action='append',
        dest='pysoa_test_case_regex',
        metavar='PATTERN',
        default=[],
        help='Only run the test plan test cases whose name or description starts with a match '
        'of this regular expression; may be repeated.',
    )
    group.addoption(
        '--pysoa-disable-tb-prune',
        action='store_true',
        dest='pysoa_disable_tb_prune',
        default=False,
        help="Keep PySOA's own frames in the tracebacks of failing test plan test cases.",
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption('pysoa_test_case', None) and config.getoption('pysoa_test_case_regex', None):
        raise pytest.UsageError('use of mutually exclusive arguments: --pysoa-test-case, --pysoa-test-case-regex')
    for pattern in config.getoption('pysoa_test_case_regex', None) or []:
        try:
            re.compile(pattern)
        except re.error as e:
            raise pytest.UsageError(f'--pysoa-test-case-regex: invalid regular expression `{pattern}`: {e}') from None


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(collector: Union[pytest.Module, pytest.Class], name: str, obj: object) -> Any:
    plan_module = sys.modules.get('pysoa.test.plan')
    if plan_module is None or not isinstance(obj, type):
        return None  # fast path: nothing imported the test plans, so nothing can be one
    base = plan_module.ServicePlanTestCase
    if obj is base or not issubclass(obj, base) or not getattr(obj, '__test__', True):
        return None
    defined_here = getattr(obj, '__module__', None) == getattr(collector.obj, '__name__', None)
    if not (collector.istestclass(obj, name) or defined_here):
        return None
    return ServicePlanClass.from_parent(collector, name=name, obj=obj)


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: Optional[pytest.Item]) -> None:
    if isinstance(item, PlanTestItem) and item.plan_data.is_last_fixture_case:
        # A skipped last test case never set up or tore down anything: tear its fixture down now, before the next
        # fixture is set up (after a last test case that ran, teardown_method already did).
        item.cls._tear_down_open_plan_fixture(item.plan_data.fixture_file)


def _first_line(text: str) -> str:
    return text.split('\n', 1)[0]


def pytest_collection_modifyitems(config: pytest.Config, items: List[pytest.Item]) -> None:
    fixtures = set(config.getoption('pysoa_fixture', None) or [])
    names = set(config.getoption('pysoa_test_case', None) or [])
    regexes = [re.compile('^' + pattern) for pattern in config.getoption('pysoa_test_case_regex', None) or []]
    if not (fixtures or names or regexes):
        return

    def selected(item: pytest.Item) -> bool:
        if not isinstance(item, PlanTestItem):
            return False
        data = item.plan_data
        candidates = (data.name, _first_line(data.description), data.description)
        return (
            (not fixtures or data.fixture_name in fixtures)
            and (not names or any(candidate in names for candidate in candidates))
            and (not regexes or any(regex.match(candidate) for regex in regexes for candidate in candidates[:2]))
        )

    keep = [item for item in items if selected(item)]
    if len(keep) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if not selected(item)])
        items[:] = keep


def _format_collection_error(error: BaseException) -> str:
    message = str(error.args[0]) if error.args else str(error)
    text = getattr(error, 'text', None)
    offset = getattr(error, 'offset', None)
    if isinstance(error, SyntaxError) and text:
        message += '\n    ' + text.rstrip().expandtabs(1)
        if offset:
            message += '\n    ' + ' ' * (offset - 1) + '^'
    return message


class ServicePlanClass(pytest.Class):
    """A :class:`~pysoa.test.plan.ServicePlanTestCase` subclass: its ``test*`` methods and its fixtures."""

    def collect(self) -> Iterable[Union[pytest.Item, pytest.Collector]]:
        from pysoa.test.plan.errors import (
            FixtureLoadError,
            FixtureSyntaxError,
            StatusError,
        )

        if getattr(self.obj, '__unittest_skip__', False):
            # Honoured for the whole class, as unittest does: its ordinary tests are skipped too, and its hooks not run.
            self.add_marker(pytest.mark.skip(reason=getattr(self.obj, '__unittest_skip_why__', '')))
        collected = list(super().collect())
        try:
            plan_tests = list(self.obj.get_fixture_test_information())
            fixtures: Dict[str, List[Tuple[str, Any]]] = {}
            for data in plan_tests:
                fixtures.setdefault(data.fixture_file, []).append((self._bind(data), data))
        except (FixtureLoadError, FixtureSyntaxError, StatusError, ImportError) as e:
            raise self.CollectError(_format_collection_error(e)) from e
        for file_name, tests in fixtures.items():
            collected.append(
                PlanFixture.from_parent(self, name=tests[0][1].fixture_name, plan_tests=tests, path=_path(file_name))
            )
        return collected

    def _bind(self, data: Any) -> str:
        """Put the test case's function on the class as ``plan__<fixture>__<test name>``."""
        from pysoa.test.plan.errors import StatusError

        attribute = f'plan__{data.fixture_name}__{data.name}'
        existing = getattr(self.obj, attribute, None)
        existing_data = getattr(existing, '_pysoa_plan_test_data', None)
        if existing is not None and (
            existing_data is None or (existing_data.fixture_file, existing_data.name) != (data.fixture_file, data.name)
        ):
            raise StatusError(
                f'Duplicate test name {attribute} in {self.obj.__name__}: test case `{data.name}` of '
                f'{data.fixture_file} clashes with '
                + (f'the one in {existing_data.fixture_file}' if existing_data else 'an existing attribute')
            )
        function = data.callable
        function.__name__ = function.__qualname__ = attribute
        setattr(self.obj, attribute, function)
        return attribute


def _path(file_name: str) -> Any:
    from pathlib import Path

    return Path(os.path.abspath(file_name))


class PlanFixture(pytest.Collector):
    """The test cases of one fixture file."""

    def __init__(self, *, plan_tests: List[Tuple[str, Any]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.plan_tests = plan_tests

    def collect(self) -> Iterable[Union[pytest.Item, pytest.Collector]]:
        items = []
        for attribute, data in self.plan_tests:
            item = PlanTestItem.from_parent(self, name=data.name, plan_data=data, plan_attribute=attribute)
            if data.skip:
                item.add_marker(pytest.mark.skip(reason=data.skip))
                PLUGIN_STATISTICS['fixture_tests_skipped'] += 1
            PLUGIN_STATISTICS['fixture_tests_collected'] += 1
            items.append(item)
        return items


class PlanTestItem(pytest.Function):
    """One test case of a fixture file, run as a method of (a fresh instance of) its test plan class."""

    def __init__(self, *, plan_data: Any, plan_attribute: str, **kwargs: Any) -> None:
        self.plan_data = plan_data
        self._plan_attribute = plan_attribute
        super().__init__(**kwargs)

    @property
    def instance(self) -> Any:
        try:
            return self._plan_instance
        except AttributeError:
            class_node = self.getparent(pytest.Class)
            assert class_node is not None
            self._plan_instance: Any = class_node.newinstance()  # type: ignore[no-untyped-call]
            self._plan_instance._pysoa_plan_test_data = self.plan_data
            return self._plan_instance

    def _getobj(self) -> Any:
        return getattr(self.instance, self._plan_attribute)

    def reportinfo(self) -> Tuple[Any, Optional[int], str]:
        return (
            _path(self.plan_data.fixture_file),
            self.plan_data.line_number - 1,
            f'{self.plan_data.fixture_name}::{self.plan_data.name}',
        )

    def runtest(self) -> None:
        PLUGIN_STATISTICS['fixture_tests_executed'] += 1
        super().runtest()

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException]) -> Any:  # type: ignore[override]
        if not self.config.getoption('pysoa_disable_tb_prune', False):
            pruned = _prune(excinfo.tb)
            if pruned is not None:
                excinfo = pytest.ExceptionInfo.from_exc_info((excinfo.type, excinfo.value, pruned))
        return super().repr_failure(excinfo)


def _library_directories() -> Tuple[str, ...]:
    """PySOA's directory and those of the libraries test plans run on (mock, freezegun, pyparsing, pytest)."""
    import unittest

    import _pytest
    import pluggy

    import pysoa

    modules: List[Any] = [pysoa, unittest, _pytest, pluggy]
    modules.extend(sys.modules[name] for name in ('freezegun', 'pyparsing') if name in sys.modules)
    return tuple(os.path.dirname(os.path.abspath(module.__file__)) + os.sep for module in modules)


def _prune(tb: Optional[TracebackType]) -> Optional[TracebackType]:
    """The traceback without library frames, or None if nothing would be left."""
    libraries = _library_directories()
    kept = []
    while tb is not None:
        if not os.path.abspath(tb.tb_frame.f_code.co_filename).startswith(libraries):
            kept.append(tb)
        tb = tb.tb_next
    pruned: Optional[TracebackType] = None
    for entry in reversed(kept):
        pruned = TracebackType(pruned, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return pruned
