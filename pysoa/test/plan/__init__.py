"""
Test plans: functional tests of a service written as ``.pysoa`` fixture files, run by pytest.

A test plan is a :class:`ServicePlanTestCase` subclass naming the server and where its fixtures are::

    class TestMyServicePlans(ServicePlanTestCase):
        server_class = MyServer
        server_settings = {}
        fixture_path = os.path.join(os.path.dirname(__file__), 'plans')

Every test case of every fixture file becomes a pytest test, ``<test file>::<class>::<fixture>::<test name>``. A
fixture file holds test cases separated by blank lines; each starts with its name and description and then lists
*action cases*, the calls the test case makes (``action.index``: the ``index``-th call of ``action``, default 0)::

    test name: greet_in_french
    test description: Greets in French
    greet: input: name: Ada
    greet: input: language: fr
    greet: expect: no errors
    greet: expect: attribute value: greeting: Bonjour, Ada!
    greet.1: input: name: [[GREET.greeting]]
    greet.1: expect: attribute value: greeting: Hello, Bonjour, Ada!!
    greet.2: input: language: es
    greet.2: expect: error: code=MISSING, field=name

The directives (``A`` is the action prefix ``action[.index]: [global]``, ``[type]`` an optional data type):

* ``# comment``: ignored.
* ``test name: name``: the test case's name (letters, digits and underscores); ``test description: text``: what it
  checks; ``test skip [global]: reason``: skip it (with ``global``, also every later test case of the file).
* ``A [job control | job context] input [type]: path: value``: a value in the request body (or in the job's control
  or context header).
* ``A expect: [not] [exact] [job] error: code=C[, field=F][, message=text]``: an error of the action (with ``job``,
  of the job) must be there (with ``not``, must not be; with ``exact``, these must be all the errors).
* ``A expect: no errors``: neither the job nor the action may fail.
* ``A expect [type]: [not] attribute value: path: value``: the response body must (with ``not``, must not) hold the
  value; it may have other keys and list items.
* ``A expect any [type]: attribute value: path``: the path must hold a value of the type (``str`` by default);
  ``A expect NONE: attribute value: path``: it must hold None; ``A expect not present: attribute value: path``: it
  must not exist.
* ``[A] mock: target: path: [exception | delete] value``: patch ``target`` (``package.module.Name``) with a
  ``MagicMock`` for the test case (with ``A``, for that action only) and set ``path`` (``return_value``,
  ``side_effect``, ``return_value.method.return_value``...) to a JSON value (``{"mock.ANY": true}`` is
  ``mock.ANY``), an exception class (a builtin, or ``package.module:Name``), or delete it. Several ``side_effect``
  lines for one path give successive results.
* ``[A] mock: target: expect [not] called [path]: [[args...], {kwargs}]``: the mock (or ``path`` inside it) must have
  been called with these arguments (one line per call, in order, and no other calls), or not at all.
* ``[A] stub action: service: action: body [type]: path: value``: stub another service's action
  (:class:`pysoa.test.stub_service.stub_action`) with this response body; ``... error: code=C, field=F,
  message=text``: with this error instead (``field=none`` for none); ``... expect called:``: it must have been
  called with an empty body (``expect called [type]: path: value`` lines build the body it must have been called
  with); ``... expect not called:``: it must not have been called.
* ``[A] freeze time: value``: freeze the clock (with freezegun) at ``now`` (to the second) or a time like
  ``2020-01-31T13:45:00Z``, for the test case (with ``A``, for that action); the dates and times relative to the clock
  that it holds (``now``, ``utc_now 1``, ``today``...) are taken at the frozen time.

Lines with ``global`` may stand in their own block: they apply to the test case they are in and every later one of
the file; a global action case only runs in test cases that use the same ``action.index``, and the test case's own
lines override it path by path.

Values run to the end of the line (surrounding spaces and tabs are stripped). A line ending in a backslash continues
on the next line if that one is indented: the backslash, the line break and the indentation are removed, so ::

    greet: input: name: Ada \\
        Lovelace

sets the name ``Ada Lovelace``. (A trailing backslash followed by an unindented or blank line stays part of the value,
and comments never continue, so plans written without continuations read as before.) Paths are dotted
(``a.b.0.c``: digits index lists; ``{a.b}`` is one key containing a dot, ``{0}`` a key made of digits). Data types:
see :mod:`pysoa.test.plan.grammar.data_types`. ``[[ACTION.path]]`` in a value is replaced by a value from an earlier
response of the test case (``[[GREET.greeting]]`` is ``greeting`` in the response of ``greet.0``) or from
``model_constants``. Dates and times relative to the clock (``now``, ``today``...) are taken when their test case
starts, or for the values of an action case, when the action case starts.

Hooks run in this order (override them, calling ``super()`` first): ``setup_class``; for each test ``setup_method``
(and, before the first test of a fixture, ``set_up_test_fixture``), ``set_up_test_case``, for each action case
``set_up_test_case_action`` / ``tear_down_test_case_action``, ``tear_down_test_case``, ``teardown_method`` (and,
after the last test of a fixture, ``tear_down_test_fixture``; if that test is skipped, it runs when the test would have
ended); ``teardown_class``.

Test-only actions: if the service has no action ``X`` but the test class defines ``_process_stub_action_X(self,
body)``, calls to ``X`` are answered by that method (its return value is the response body).
"""

import contextlib
import copy
import os
import re
import sys
import traceback
from types import TracebackType
from typing import (
    Any,
    Callable,
    ClassVar,
    ContextManager,
    Dict,
    Iterable,
    Iterator,
    List,
    NamedTuple,
    Optional,
    Pattern,
    Sequence,
    Tuple,
    Type,
    Union,
)

from pysoa.test._testing_extra import missing_testing_extra


try:
    import pyparsing  # noqa: F401  (the test plan grammar, imported below, is built on it)
    import pytest
except ImportError as e:
    raise missing_testing_extra(e, __name__) from e

from pysoa.common.types import JobResponse
from pysoa.test.plan._tracebacks import raise_at_fixture_line
from pysoa.test.plan.errors import (
    FIXTURE_LINE_ATTRIBUTE,
    FixtureLoadError,
    StatusError,
    set_fixture_line,
)
from pysoa.test.server import PyTestServerTestCase


__all__ = (
    'FixtureTestCaseData',
    'ServicePlanTestCase',
)


class FixtureTestCaseData(NamedTuple):
    """One test case of a fixture file, as collected into a pytest test."""

    name: str
    description: str
    fixture_name: str
    fixture_file: str
    line_number: int
    skip: Optional[str]
    callable: Callable[[Any], None]
    test_fixture: List[Dict[str, Any]]
    is_first_fixture_case: bool
    is_last_fixture_case: bool


class _FixtureState:
    """A fixture that has been set up: its results so far, and the test instance that set it up."""

    def __init__(self, test_fixture: List[Dict[str, Any]], owner: 'ServicePlanTestCase') -> None:
        self.test_fixture = test_fixture
        self.owner = owner
        self.results: List[Dict[str, Any]] = []


@contextlib.contextmanager
def _at_fixture_line(line: int) -> Iterator[None]:
    """Tag an exception escaping the block with the fixture line (unless a more precise line was tagged already)."""
    try:
        yield
    except BaseException as e:
        set_fixture_line(e, line)
        raise


def _directive_line(case: Dict[str, Any], directive: Any, default: int) -> int:
    return case.get('directive_lines', {}).get(directive.name(), default)  # type: ignore[no-any-return]


class ServicePlanTestCase(PyTestServerTestCase):
    """
    Runs the test cases of ``.pysoa`` fixture files against ``server_class`` (see the module documentation).

    :cvar fixture_path: The directory searched (recursively) for fixture files.
    :cvar fixture_regex: Fixture file names match (``re.search``) this pattern; default: ``*.pysoa`` files not
                         starting with a dot.
    :cvar custom_fixtures: Fixture file paths to use instead of searching ``fixture_path``.
    :cvar model_constants: Extra values for ``[[NAME.path]]`` substitutions.
    """

    fixture_path: ClassVar[Optional[str]] = None
    fixture_regex: ClassVar[Union[str, Pattern[str]]] = re.compile(r'^[^.].*?\.(:?pysoa)$')
    custom_fixtures: ClassVar[Sequence[str]] = ()
    model_constants: ClassVar[Dict[str, Any]] = {}

    _pysoa_plan_test_data: Optional[FixtureTestCaseData] = None  # set by the pytest plugin on each test's instance

    # Collection ------------------------------------------------------------------------------------------------------

    @classmethod
    def get_fixture_file_names(cls) -> List[str]:
        """
        The fixture files of this test plan: ``custom_fixtures`` if set, else the files under ``fixture_path``
        matching ``fixture_regex``, sorted by path.

        :raises FixtureLoadError: If ``fixture_path`` is not a directory or holds no fixture files.
        """
        if cls.custom_fixtures:
            return list(cls.custom_fixtures)
        if not cls.fixture_path:
            return []
        if not os.path.isdir(cls.fixture_path):
            raise FixtureLoadError(f'Fixture path `{cls.fixture_path}` (of {cls.__name__}) is not a directory')
        regex = re.compile(cls.fixture_regex) if isinstance(cls.fixture_regex, str) else cls.fixture_regex
        file_names = [
            os.path.join(directory, file_name)
            for directory, _, file_names in os.walk(cls.fixture_path)
            for file_name in file_names
            if regex.search(file_name)
        ]
        if not file_names:
            raise FixtureLoadError(
                f'Could not find any fixture files matching `{regex.pattern}` in `{cls.fixture_path}` '
                f'(of {cls.__name__})'
            )
        return sorted(file_names)

    @classmethod
    def get_fixture_test_information(cls) -> Iterator[FixtureTestCaseData]:
        """
        Parse the fixture files and yield one :class:`FixtureTestCaseData` per test case, in file order.

        :raises FixtureLoadError: If a fixture file cannot be found or read, or holds no test cases.
        :raises pysoa.test.plan.errors.FixtureSyntaxError: If a fixture file is malformed.
        """
        from pysoa.test.plan.parser import ServiceTestPlanFixtureParser

        for file_name in cls.get_fixture_file_names():
            fixture_name = os.path.splitext(os.path.basename(file_name))[0]
            test_fixture = ServiceTestPlanFixtureParser(file_name, fixture_name).parse_test_fixture()
            for index, test_case in enumerate(test_fixture):
                function = _make_test_function(test_case)
                data = FixtureTestCaseData(
                    name=test_case['name'],
                    description=test_case['description'],
                    fixture_name=fixture_name,
                    fixture_file=file_name,
                    line_number=test_case['line_number'],
                    skip=test_case.get('skip'),
                    callable=function,
                    test_fixture=test_fixture,
                    is_first_fixture_case=index == 0,
                    is_last_fixture_case=index == len(test_fixture) - 1,
                )
                function._pysoa_plan_test_data = data  # type: ignore[attr-defined]
                yield data

    # pytest hooks ----------------------------------------------------------------------------------------------------

    @classmethod
    def _fixture_states(cls) -> Dict[str, _FixtureState]:
        if '_pysoa_plan_fixture_states' not in cls.__dict__:
            cls._pysoa_plan_fixture_states = {}  # type: ignore[attr-defined]
        return cls.__dict__['_pysoa_plan_fixture_states']  # type: ignore[no-any-return]

    @classmethod
    def _tear_down_open_plan_fixture(cls, file_name: str) -> None:
        """Tears down the fixture of this file if it is still set up (its last test case did not run)."""
        state = cls._fixture_states().get(file_name)
        if state is not None:
            state.owner._tear_down_plan_fixture(file_name)

    @classmethod
    def teardown_class(cls) -> None:
        """Tears down the fixtures whose last test case did not run (deselected, for instance)."""
        try:
            for file_name in list(cls._fixture_states()):
                cls._tear_down_open_plan_fixture(file_name)
        finally:
            super().teardown_class()

    def _current_plan_test(self, method: Any) -> Optional[FixtureTestCaseData]:
        return self._pysoa_plan_test_data or getattr(method, '_pysoa_plan_test_data', None)

    def setup_method(self, method: Any = None) -> None:
        """Sets up the client and, before the first test case of a fixture runs, the fixture."""
        super().setup_method(method)
        data = self._current_plan_test(method)
        if data is None or data.fixture_file in self._fixture_states():
            return
        self.set_up_test_fixture(data.test_fixture)
        for directive in _directives():
            directive.set_up_test_fixture(data.test_fixture)
        self._fixture_states()[data.fixture_file] = _FixtureState(data.test_fixture, self)

    def teardown_method(self, method: Any = None) -> None:
        """After the last test case of a fixture, tears the fixture down."""
        try:
            data = self._current_plan_test(method)
            if data is not None and data.is_last_fixture_case:
                self._tear_down_plan_fixture(data.fixture_file)
        finally:
            super().teardown_method(method)

    def _tear_down_plan_fixture(self, file_name: str) -> None:
        state = self._fixture_states().pop(file_name, None)
        if state is None:
            return
        steps: List[Callable[[], None]] = [
            lambda directive=directive: directive.tear_down_test_fixture(state.test_fixture)  # type: ignore[misc]
            for directive in _directives()
        ]
        steps.append(lambda: self.tear_down_test_fixture(state.test_fixture))
        self._run_tear_downs([(step, None) for step in steps], failed=False)

    # Overridable hooks -----------------------------------------------------------------------------------------------

    def set_up_test_fixture(self, test_fixture: List[Dict[str, Any]], **kwargs: Any) -> None:
        """Called before the first test case of a fixture runs."""

    def tear_down_test_fixture(self, test_fixture: List[Dict[str, Any]], **kwargs: Any) -> None:
        """Called after the last test case of a fixture ran."""

    def set_up_test_case(self, test_case: Dict[str, Any], test_fixture: List[Dict[str, Any]], **kwargs: Any) -> None:
        """Called before each test case."""

    def tear_down_test_case(self, test_case: Dict[str, Any], test_fixture: List[Dict[str, Any]], **kwargs: Any) -> None:
        """Called after each test case (also when it failed)."""

    def set_up_test_case_action(
        self,
        action_name: str,
        action_case: Dict[str, Any],
        test_case: Dict[str, Any],
        test_fixture: List[Dict[str, Any]],
        **kwargs: Any,
    ) -> None:
        """Called before each action case is called."""

    def tear_down_test_case_action(
        self,
        action_name: str,
        action_case: Dict[str, Any],
        test_case: Dict[str, Any],
        test_fixture: List[Dict[str, Any]],
        **kwargs: Any,
    ) -> None:
        """Called after each action case (also when it failed)."""

    @staticmethod
    def add_error(exc_type: Type[BaseException], exc_value: BaseException, tb: Optional[TracebackType]) -> None:
        """Report an error that happened after the test had already failed (printed to stderr)."""
        print('Another error happened while tearing down the failed test:', file=sys.stderr)
        traceback.print_exception(exc_type, exc_value, tb, file=sys.stderr, chain=False)

    # Running ---------------------------------------------------------------------------------------------------------

    def _run_plan_test(self, data: FixtureTestCaseData, parsed_test_case: Dict[str, Any]) -> None:
        state = self._fixture_states().get(data.fixture_file)
        test_case = copy.deepcopy(parsed_test_case)
        try:
            if state is None:
                raise set_fixture_line(
                    StatusError(f'Test fixture {data.fixture_name} not set up (does setup_method call super()?)'),
                    test_case['line_number'],
                )
            state.results.append(self._run_test_case(test_case, data.test_fixture))
            if data.is_last_fixture_case:
                for directive in _directives():
                    with _at_fixture_line(test_case['line_number']):
                        directive.assert_test_fixture_results(state.results, data.test_fixture)
        except (Exception, pytest.fail.Exception) as e:
            line = getattr(e, FIXTURE_LINE_ATTRIBUTE, None)
            if line is None:
                raise
            raise_at_fixture_line(e, data.fixture_file, test_case['first_line'], line, test_case['name'])

    def _run_tear_downs(self, steps: Iterable[Tuple[Callable[[], None], Optional[int]]], failed: bool) -> None:
        """Run every step; errors after an earlier failure are reported with ``add_error``, else the first raised."""
        first_error: Optional[BaseException] = None
        for step, line in steps:
            try:
                with _at_fixture_line(line) if line else contextlib.nullcontext():
                    step()
            except Exception as e:
                if failed or first_error is not None:
                    self.add_error(type(e), e, e.__traceback__)
                else:
                    first_error = e
        if first_error is not None:
            raise first_error

    def _run_test_case(self, test_case: Dict[str, Any], test_fixture: List[Dict[str, Any]]) -> Dict[str, Any]:
        from pysoa.test.plan.grammar.data_types import resolve_clock_values

        directives = _directives()
        results: Dict[str, Any] = {}
        line = test_case['line_number']
        failed = False
        try:
            with _at_fixture_line(line):
                for key, value in test_case.items():
                    if key not in test_case['actions']:  # the action cases' values are taken when each starts
                        test_case[key] = resolve_clock_values(value)
                self.set_up_test_case(test_case, test_fixture)
            for directive in directives:
                with _at_fixture_line(_directive_line(test_case, directive, line)):
                    directive.set_up_test_case(test_case, test_fixture)
            for action_path in test_case['actions']:
                self._run_action_case(action_path, test_case, test_fixture, results)
            for directive in directives:
                with _at_fixture_line(_directive_line(test_case, directive, line)):
                    directive.assert_test_case_results(results, test_case, test_fixture)
        except BaseException:
            failed = True
            raise
        finally:
            steps: List[Tuple[Callable[[], None], Optional[int]]] = [
                (
                    lambda d=directive: d.tear_down_test_case(test_case, test_fixture),  # type: ignore[misc]
                    _directive_line(test_case, directive, line),
                )
                for directive in reversed(directives)
            ]
            steps.append((lambda: self.tear_down_test_case(test_case, test_fixture), line))
            self._run_tear_downs(steps, failed)
        return results

    def _substitution_sources(self, results: Dict[str, Any]) -> Tuple[Dict[str, Any], Dict[str, Any]]:
        responses: Dict[str, Dict[int, Any]] = {}
        for action_path, action_response in results.items():
            action, _, index = action_path.rpartition('.')
            responses.setdefault(action, {})[int(index)] = action_response.body
        return responses, self.model_constants

    def _run_action_case(
        self, action_path: str, test_case: Dict[str, Any], test_fixture: List[Dict[str, Any]], results: Dict[str, Any]
    ) -> None:
        from pysoa.test.plan.grammar.data_types import resolve_clock_values
        from pysoa.test.plan.grammar.tools import substitute_variables

        directives = _directives()
        action_case = test_case[action_path]
        action_name = action_case['action_name']
        line = action_case['line_number']
        with _at_fixture_line(line):
            resolve_clock_values(action_case)
            for key in ('inputs', 'job_control_inputs', 'job_context_inputs'):
                if key in action_case:
                    substitute_variables(action_case[key], *self._substitution_sources(results))
            self.set_up_test_case_action(action_name, action_case, test_case, test_fixture)
        failed = False
        try:
            for directive in directives:
                with _at_fixture_line(_directive_line(action_case, directive, line)):
                    directive.set_up_test_case_action(action_name, action_case, test_case, test_fixture)
            with _at_fixture_line(line):
                job_response = self._call_plan_action(action_name, action_case)
                action_response = job_response.actions[0] if job_response.actions else None
                if action_response is not None:
                    results[action_path] = action_response
                for key, value in action_case.items():
                    if not key.startswith('_'):
                        action_case[key] = substitute_variables(value, *self._substitution_sources(results))
            for directive in directives:
                with _at_fixture_line(_directive_line(action_case, directive, line)):
                    directive.assert_test_case_action_results(
                        action_name,
                        action_case,
                        test_case,
                        test_fixture,
                        action_response,
                        job_response,
                        action_path,
                    )
        except BaseException:
            failed = True
            raise
        finally:
            steps: List[Tuple[Callable[[], None], Optional[int]]] = [
                (
                    lambda d=directive: d.tear_down_test_case_action(  # type: ignore[misc]
                        action_name,
                        action_case,
                        test_case,
                        test_fixture,
                    ),
                    _directive_line(action_case, directive, line),
                )
                for directive in reversed(directives)
            ]
            steps.append(
                (
                    lambda: self.tear_down_test_case_action(action_name, action_case, test_case, test_fixture),
                    line,
                )
            )
            self._run_tear_downs(steps, failed)

    def _call_plan_action(self, action_name: str, action_case: Dict[str, Any]) -> JobResponse:
        """Call the action as a job of its own, returning errors rather than raising them."""
        with self._test_only_action(action_name):
            return self.client.call_actions(
                self.service_name,
                [{'action': action_name, 'body': action_case.get('inputs', {})}],
                raise_job_errors=False,
                raise_action_errors=False,
                context=action_case.get('job_context_inputs') or None,
                control_extra=action_case.get('job_control_inputs') or None,
            )

    def _test_only_action(self, action_name: str) -> ContextManager[Any]:
        """A stub serving ``action_name`` with ``_process_stub_action_<action_name>`` if the service lacks it."""
        handler = getattr(self, f'_process_stub_action_{action_name}', None)
        server_class = self.server_class
        if (
            handler is None
            or action_name in ('status', 'introspect')
            or (server_class is not None and action_name in server_class.action_class_map)
        ):
            return contextlib.nullcontext()
        from pysoa.test.stub_service import stub_action

        return stub_action(self.service_name, action_name, side_effect=handler)


def _directives() -> List[Any]:
    """A fresh instance of every directive (directives keep no state)."""
    from pysoa.test.plan.grammar.directive import get_all_directives

    return [directive() for directive in get_all_directives()]


def _make_test_function(test_case: Dict[str, Any]) -> Callable[[Any], None]:
    def run_test_case(self: ServicePlanTestCase) -> None:
        self._run_plan_test(run_test_case._pysoa_plan_test_data, test_case)  # type: ignore[attr-defined]

    run_test_case.__doc__ = test_case['description'].split('\n')[0]
    return run_test_case
