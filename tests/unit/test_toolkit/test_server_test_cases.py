"""
The server test cases of :mod:`pysoa.test.server`: building the client (settings discovery), calling actions, the
action assertions, and the pytest-style class's unittest compatibility (assertion methods, deprecated aliases,
``setUp``/``tearDown``/``setUpClass``/``tearDownClass``, ``addCleanup``). Most tests drive a test case instance
directly; those about pytest's own handling of the classes run generated test files with ``pytester``.

The service under test is ``ToolkitServer`` (see ``conftest.py``).
"""

import inspect
import logging
import re
import textwrap
import unittest
import warnings
from types import ModuleType
from typing import (
    Any,
    Callable,
    ClassVar,
    Dict,
    List,
    Tuple,
    Type,
)

import pytest

from pysoa.client.client import Client
from pysoa.client.errors import CallActionError
from pysoa.common.errors import Error
from pysoa.common.types import (
    ActionResponse,
    Body,
)
from pysoa.server.server import Server
from pysoa.test.compatibility import mock
from pysoa.test.plan import ServicePlanTestCase
from pysoa.test.server import (
    BaseServerTestCase,
    PyTestServerTestCase,
    ServerTestCase,
    UnitTestServerTestCase,
)


@pytest.fixture
def toolkit_server(toolkit_service: ModuleType) -> Type[Server]:
    return toolkit_service.ToolkitServer  # type: ignore[no-any-return]


@pytest.fixture
def case(toolkit_server: Type[Server]) -> PyTestServerTestCase:
    """A pytest-style test case for ``ToolkitServer``, set up as pytest sets it up before a test."""

    class ToolkitTests(PyTestServerTestCase):
        server_class = toolkit_server
        server_settings = {'extra_fields_to_redact': {'from_server_settings'}}

    test_case = ToolkitTests()
    test_case.setup_method()
    return test_case


def failing_with(*errors: Body) -> Body:
    """The request body that makes the ``fail`` action fail with ``errors``."""
    return {'errors': list(errors)}


def redacted_fields(test_case: BaseServerTestCase) -> List[str]:
    """Which settings the server under test got: the ``settings`` action returns its ``extra_fields_to_redact``."""
    return test_case.call_action('settings').body['extra_fields_to_redact']  # type: ignore[no-any-return]


def run_unittest(test_case_class: Type[unittest.TestCase]) -> unittest.TestResult:
    result = unittest.TestResult()
    unittest.defaultTestLoader.loadTestsFromTestCase(test_case_class).run(result)
    return result


def reports(result: unittest.TestResult) -> str:
    """Every error and failure traceback of a unittest run."""
    return '\n'.join(text for _test, text in result.errors + result.failures)


# Building the client: setup_pysoa -------------------------------------------------------------------------------------


def make_toolkit_test_module(pytester: pytest.Pytester, test_methods: str, imports: str = '') -> None:
    """
    Writes a test module with a ``ServerTestCase`` of ``ToolkitServer`` (class ``TestToolkit``) whose body is
    ``test_methods``, after ``imports`` (both dedented).
    """
    pytester.makepyfile(
        textwrap.dedent(imports)
        + textwrap.dedent(
            """
            from pysoa.test.server import ServerTestCase

            from toolkit_service import ToolkitServer


            class TestToolkit(ServerTestCase):
                server_class = ToolkitServer
                server_settings = {}

            """
        )
        + textwrap.indent(textwrap.dedent(test_methods), '    '),
    )


def test_setup_pysoa_requires_server_class() -> None:
    class NoServerTests(BaseServerTestCase):
        server_settings = {}

    with pytest.raises(TypeError, match=r'^You must specify `server_class` in `ServerTestCase` subclasses$'):
        NoServerTests().setup_pysoa()


def test_setup_pysoa_requires_server_class_to_be_a_server_subclass() -> None:
    class NotAServerTests(BaseServerTestCase):
        server_class = dict  # type: ignore[assignment]
        server_settings = {}

    with pytest.raises(TypeError, match='`server_class` must be a subclass of `Server`'):
        NotAServerTests().setup_pysoa()


def test_setup_pysoa_requires_the_server_class_to_have_a_service_name() -> None:
    class NamelessServer(Server):
        pass

    class NamelessServerTests(BaseServerTestCase):
        server_class = NamelessServer
        server_settings = {}

    with pytest.raises(TypeError, match=r'`server_class\.service_name` must be set'):
        NamelessServerTests().setup_pysoa()


def test_setup_pysoa_sets_service_name_and_a_client_calling_the_server_in_process(
    toolkit_server: Type[Server],
) -> None:
    class ToolkitTests(BaseServerTestCase):
        server_class = toolkit_server
        server_settings = {}

    test_case = ToolkitTests()
    test_case.setup_pysoa()

    assert test_case.service_name == 'toolkit'
    assert isinstance(test_case.client, Client)
    assert test_case.client.call_action('toolkit', 'square', {'number': 3}).body == {'square': 9}


def test_setup_pysoa_turns_off_the_django_database_cleanup_of_the_local_server(case: PyTestServerTestCase) -> None:
    server = case.client._get_handler('toolkit').transport.server  # type: ignore[attr-defined]

    assert server._skip_django_database_cleanup is True


def test_settings_come_from_the_server_settings_attribute(
    toolkit_server: Type[Server],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv('PYSOA_SETTINGS_MODULE', 'toolkit_settings')

    class ToolkitTests(BaseServerTestCase):
        server_class = toolkit_server
        server_settings = {'extra_fields_to_redact': {'from_server_settings'}}

    test_case = ToolkitTests()
    test_case.setup_pysoa()

    assert redacted_fields(test_case) == ['from_server_settings']


def test_settings_come_from_the_pysoa_settings_module_without_server_settings(
    toolkit_server: Type[Server],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv('PYSOA_SETTINGS_MODULE', 'toolkit_settings')

    class ToolkitTests(BaseServerTestCase):
        server_class = toolkit_server

    test_case = ToolkitTests()
    test_case.setup_pysoa()

    assert redacted_fields(test_case) == ['from_soa_server_settings']


def test_settings_discovery_fails_without_server_settings_and_pysoa_settings_module(
    toolkit_server: Type[Server],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv('PYSOA_SETTINGS_MODULE', raising=False)

    class ToolkitTests(BaseServerTestCase):
        server_class = toolkit_server

    with pytest.raises(AssertionError, match='PYSOA_SETTINGS_MODULE environment variable is not set'):
        ToolkitTests().setup_pysoa()


def test_settings_discovery_fails_when_the_pysoa_settings_module_cannot_be_imported(
    toolkit_server: Type[Server],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv('PYSOA_SETTINGS_MODULE', 'no_such_settings_module')

    class ToolkitTests(BaseServerTestCase):
        server_class = toolkit_server

    with pytest.raises(AssertionError, match='Could not import PYSOA_SETTINGS_MODULE `no_such_settings_module`'):
        ToolkitTests().setup_pysoa()


def test_settings_of_a_django_service_come_from_django_before_the_pysoa_settings_module(
    pytester: pytest.Pytester,
    toolkit_service: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # In a subprocess: Django's settings are configured once per process.
    pytester.makepyfile(
        django_settings="""
        SECRET_KEY = 'not a secret'
        SOA_SERVER_SETTINGS = {'extra_fields_to_redact': {'from_django'}}
        """,
        test_django_service="""
        from pysoa.test.server import ServerTestCase

        from toolkit_service import ToolkitServer


        class DjangoToolkitServer(ToolkitServer):
            use_django = True


        class TestDjangoToolkit(ServerTestCase):
            server_class = DjangoToolkitServer

            def test_settings(self):
                assert self.call_action('settings').body == {'extra_fields_to_redact': ['from_django']}
        """,
    )
    monkeypatch.setenv('DJANGO_SETTINGS_MODULE', 'django_settings')
    monkeypatch.setenv('PYSOA_SETTINGS_MODULE', 'toolkit_settings')

    result = pytester.runpytest_subprocess('-p', 'no:cacheprovider')

    result.assert_outcomes(passed=1)


# call_action ----------------------------------------------------------------------------------------------------------


def test_call_action_calls_the_service_under_test(case: PyTestServerTestCase) -> None:
    response = case.call_action('square', {'number': 4})

    assert response == ActionResponse('square', body={'square': 16})


def test_call_action_passes_service_name_and_keyword_arguments_to_the_client(case: PyTestServerTestCase) -> None:
    with mock.patch.object(case.client, 'call_action') as client_call_action:
        response = case.call_action('get_user', {'id': 1}, service_name='users', switches=[5])

    client_call_action.assert_called_once_with('users', 'get_user', body={'id': 1}, switches=[5])
    assert response is client_call_action.return_value


def test_call_action_raises_call_action_error_when_the_action_fails(case: PyTestServerTestCase) -> None:
    with pytest.raises(CallActionError):
        case.call_action('square', {'number': 'four'})


# assertActionRuns... --------------------------------------------------------------------------------------------------


def test_assert_action_runs_with_and_return_errors_returns_the_errors(case: PyTestServerTestCase) -> None:
    errors = case.assertActionRunsWithAndReturnErrors('square', {})

    assert errors == [Error('MISSING', 'Missing key: number', field='number', is_caller_error=True)]


def test_assert_action_runs_with_and_return_errors_fails_when_the_action_succeeds(case: PyTestServerTestCase) -> None:
    with pytest.raises(AssertionError, match=r'DID NOT RAISE .*CallActionError'):
        case.assertActionRunsWithAndReturnErrors('square', {'number': 1})


def test_assert_action_runs_with_field_errors_passes_when_the_field_error_is_among_the_errors(
    case: PyTestServerTestCase,
) -> None:
    case.assertActionRunsWithFieldErrors('square', {'number': 'four', 'extra': True}, {'number': 'INVALID'})


def test_assert_action_runs_with_field_errors_fails_with_the_missing_field_errors(case: PyTestServerTestCase) -> None:
    with pytest.raises(AssertionError, match=re.escape("not found in response: [{'number': 'MISSING'}]")):
        case.assertActionRunsWithFieldErrors('square', {'number': 'four'}, {'number': 'MISSING'})


def test_assert_action_runs_with_field_errors_with_only_fails_with_the_unexpected_errors(
    case: PyTestServerTestCase,
) -> None:
    with pytest.raises(AssertionError, match=re.escape("[('UNKNOWN', 'Extra keys present: extra')]")):
        case.assertActionRunsWithFieldErrors(
            'square',
            {'number': 'four', 'extra': True},
            {'number': 'INVALID'},
            only=True,
        )


def test_assert_action_runs_with_only_field_errors_passes_when_they_are_the_only_errors(
    case: PyTestServerTestCase,
) -> None:
    case.assertActionRunsWithOnlyFieldErrors('square', {'number': 'four'}, {'number': 'INVALID'})


def test_assert_action_runs_with_only_field_errors_fails_with_the_unexpected_errors(case: PyTestServerTestCase) -> None:
    with pytest.raises(AssertionError, match=re.escape("[('UNKNOWN', 'Extra keys present: extra')]")):
        case.assertActionRunsWithOnlyFieldErrors('square', {'number': 'four', 'extra': True}, {'number': 'INVALID'})


def test_assert_action_runs_with_error_codes_passes_when_the_codes_are_among_the_errors(
    case: PyTestServerTestCase,
) -> None:
    case.assertActionRunsWithErrorCodes(
        'fail',
        failing_with({'code': 'NOT_FOUND'}, {'code': 'FORBIDDEN'}),
        ['FORBIDDEN', 'NOT_FOUND'],
    )


def test_assert_action_runs_with_error_codes_fails_with_the_missing_codes(case: PyTestServerTestCase) -> None:
    with pytest.raises(AssertionError, match=re.escape("Expected errors not found in response: ['NOT_FOUND']")):
        case.assertActionRunsWithErrorCodes('fail', failing_with({'code': 'FORBIDDEN'}), 'NOT_FOUND')


def test_assert_action_runs_with_error_codes_with_only_fails_with_the_unexpected_errors(
    case: PyTestServerTestCase,
) -> None:
    with pytest.raises(AssertionError, match=re.escape("[('FORBIDDEN', 'Not yours')]")):
        case.assertActionRunsWithErrorCodes(
            'fail',
            failing_with({'code': 'NOT_FOUND'}, {'code': 'FORBIDDEN', 'message': 'Not yours'}),
            'NOT_FOUND',
            only=True,
        )


def test_assert_action_runs_with_only_error_codes_passes_when_they_are_the_only_errors(
    case: PyTestServerTestCase,
) -> None:
    case.assertActionRunsWithOnlyErrorCodes('fail', failing_with({'code': 'NOT_FOUND'}), 'NOT_FOUND')


def test_assert_action_runs_with_only_error_codes_fails_with_the_unexpected_errors(case: PyTestServerTestCase) -> None:
    with pytest.raises(AssertionError, match=re.escape("[{'id': ('INVALID', 'It failed')}]")):
        case.assertActionRunsWithOnlyErrorCodes(
            'fail',
            failing_with({'code': 'NOT_FOUND'}, {'code': 'INVALID', 'field': 'id'}),
            'NOT_FOUND',
        )


@pytest.mark.parametrize(
    ('assertion', 'expectation'),
    [
        ('assertActionRunsWithAndReturnErrors', ()),
        ('assertActionRunsWithFieldErrors', ({'id': 'INVALID'},)),
        ('assertActionRunsWithOnlyFieldErrors', ({'id': 'INVALID'},)),
        ('assertActionRunsWithErrorCodes', ('INVALID',)),
        ('assertActionRunsWithOnlyErrorCodes', ('INVALID',)),
    ],
)
def test_action_assertions_pass_keyword_arguments_to_call_action(
    case: PyTestServerTestCase,
    assertion: str,
    expectation: Tuple[Any, ...],
) -> None:
    error = Error('INVALID', 'Invalid', field='id' if expectation and isinstance(expectation[0], dict) else None)
    failure = CallActionError([ActionResponse('get_user', errors=[error])])

    with mock.patch.object(case.client, 'call_action', side_effect=failure) as client_call_action:
        getattr(case, assertion)('get_user', {'id': 'x'}, *expectation, service_name='users', switches=[5])

    client_call_action.assert_called_once_with('users', 'get_user', body={'id': 'x'}, switches=[5])


# UnitTestServerTestCase -----------------------------------------------------------------------------------------------


def test_unit_test_server_test_case_builds_the_client_in_set_up(toolkit_server: Type[Server]) -> None:
    class ToolkitTests(UnitTestServerTestCase):
        server_class = toolkit_server
        server_settings = {}

        def test_square(self) -> None:
            self.assertEqual(self.call_action('square', {'number': 5}).body, {'square': 25})

    result = run_unittest(ToolkitTests)

    assert result.wasSuccessful(), reports(result)
    assert result.testsRun == 1


def test_unit_test_server_test_case_set_up_can_be_extended_with_super(toolkit_server: Type[Server]) -> None:
    class ToolkitTests(UnitTestServerTestCase):
        server_class = toolkit_server
        server_settings = {}

        def setUp(self) -> None:
            super().setUp()
            self.nine = self.call_action('square', {'number': 3}).body['square']

        def test_nine(self) -> None:
            self.assertEqual(self.nine, 9)

    result = run_unittest(ToolkitTests)

    assert result.wasSuccessful(), reports(result)


def test_unit_test_server_test_case_reports_a_missing_server_class_as_an_error() -> None:
    class NoServerTests(UnitTestServerTestCase):
        def test_nothing(self) -> None:
            pass

    result = run_unittest(NoServerTests)

    assert len(result.errors) == 1
    assert 'TypeError: You must specify `server_class` in `ServerTestCase` subclasses' in reports(result)


def test_unit_test_server_test_case_reports_an_unmet_action_assertion_with_its_message(
    toolkit_server: Type[Server],
) -> None:
    class ToolkitTests(UnitTestServerTestCase):
        server_class = toolkit_server
        server_settings = {}

        def test_not_found(self) -> None:
            self.assertActionRunsWithErrorCodes('fail', failing_with({'code': 'FORBIDDEN'}), 'NOT_FOUND')

    result = run_unittest(ToolkitTests)

    assert not result.wasSuccessful()
    assert "Expected errors not found in response: ['NOT_FOUND']" in reports(result)


# PyTestServerTestCase: set-up and tear-down -------------------------------------------------------------------------


def test_server_test_case_is_the_pytest_style_test_case() -> None:
    assert ServerTestCase is PyTestServerTestCase


def test_setup_method_builds_a_new_client_for_each_test(case: PyTestServerTestCase) -> None:
    first_client = case.client
    case.teardown_method()

    case.setup_method()

    assert case.client is not first_client
    assert case.call_action('square', {'number': 2}).body == {'square': 4}


def test_setup_method_calls_an_overridden_set_up_after_building_the_client_with_a_warning(
    toolkit_server: Type[Server],
) -> None:
    class LegacyTests(PyTestServerTestCase):
        server_class = toolkit_server
        server_settings = {}

        def setUp(self) -> None:
            self.square_in_set_up = self.call_action('square', {'number': 6}).body

    test_case = LegacyTests()
    with pytest.warns(DeprecationWarning, match='setUp is deprecated; use setup_method'):
        test_case.setup_method()

    assert test_case.square_in_set_up == {'square': 36}


def test_teardown_method_calls_an_overridden_tear_down_with_a_warning(case: PyTestServerTestCase) -> None:
    case.tearDown = mock.Mock()  # type: ignore[method-assign]

    with pytest.warns(DeprecationWarning, match='tearDown is deprecated; use teardown_method'):
        case.teardown_method()

    case.tearDown.assert_called_once_with()


def test_setup_class_and_teardown_class_call_set_up_class_and_tear_down_class_with_warnings() -> None:
    calls = []

    class LegacyTests(PyTestServerTestCase):
        @classmethod
        def setUpClass(cls) -> None:
            calls.append('setUpClass')

        @classmethod
        def tearDownClass(cls) -> None:
            calls.append('tearDownClass')

    with pytest.warns(DeprecationWarning, match='setUpClass is deprecated; use setup_class'):
        LegacyTests.setup_class()
    with pytest.warns(DeprecationWarning, match='tearDownClass is deprecated; use teardown_class'):
        LegacyTests.teardown_class()

    assert calls == ['setUpClass', 'tearDownClass']


def test_classes_without_legacy_set_up_and_tear_down_methods_get_no_deprecation_warnings(
    toolkit_server: Type[Server],
) -> None:
    class ModernTests(PyTestServerTestCase):
        server_class = toolkit_server
        server_settings = {}

    with warnings.catch_warnings():
        warnings.simplefilter('error')
        ModernTests.setup_class()
        test_case = ModernTests()
        test_case.setup_method()
        test_case.teardown_method()
        ModernTests.teardown_class()


@pytest.mark.parametrize('base', [PyTestServerTestCase, ServicePlanTestCase])
def test_legacy_set_up_and_tear_down_methods_can_call_super(
    base: Type[PyTestServerTestCase],
    toolkit_server: Type[Server],
) -> None:
    events = []

    class LegacyTests(base):  # type: ignore[valid-type,misc]
        server_class = toolkit_server
        server_settings: ClassVar[Dict[str, Any]] = {}

        @classmethod
        def setUpClass(cls) -> None:
            super().setUpClass()
            events.append('setUpClass')

        def setUp(self) -> None:
            super().setUp()
            events.append('setUp')

        def tearDown(self) -> None:
            super().tearDown()
            events.append('tearDown')

        @classmethod
        def tearDownClass(cls) -> None:
            super().tearDownClass()
            events.append('tearDownClass')

    with pytest.warns(DeprecationWarning):
        LegacyTests.setup_class()
        test_case = LegacyTests()
        test_case.setup_method()
        test_case.teardown_method()
        LegacyTests.teardown_class()

    assert events == ['setUpClass', 'setUp', 'tearDown', 'tearDownClass']


def test_pytest_runs_legacy_set_up_tear_down_and_cleanups_in_unittest_order(
    pytester: pytest.Pytester,
    toolkit_service: ModuleType,
) -> None:
    pytester.makepyfile(
        """
        from pysoa.test.server import ServerTestCase

        from toolkit_service import ToolkitServer

        EVENTS = []


        class TestLegacy(ServerTestCase):
            server_class = ToolkitServer
            server_settings = {}

            @classmethod
            def setUpClass(cls):
                EVENTS.append('setUpClass')

            @classmethod
            def tearDownClass(cls):
                EVENTS.append('tearDownClass')

            def setUp(self):
                EVENTS.append('setUp, client ready: {}'.format(hasattr(self, 'client')))
                self.addCleanup(EVENTS.append, 'cleanup added first')
                self.addCleanup(EVENTS.append, 'cleanup added last')

            def tearDown(self):
                EVENTS.append('tearDown')

            def test_square(self):
                EVENTS.append('test_square')
                self.assertEqual(self.call_action('square', {'number': 7}).body, {'square': 49})


        def test_events_after_the_class():
            assert EVENTS == [
                'setUpClass',
                'setUp, client ready: True',
                'test_square',
                'tearDown',
                'cleanup added last',
                'cleanup added first',
                'tearDownClass',
            ]
        """,
    )

    result = pytester.runpytest()

    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines_random(
        [
            '*DeprecationWarning: setUpClass is deprecated; use setup_class',
            '*DeprecationWarning: setUp is deprecated; use setup_method',
            '*DeprecationWarning: addCleanup is deprecated; use pytest fixtures with yield',
            '*DeprecationWarning: tearDown is deprecated; use teardown_method',
            '*DeprecationWarning: tearDownClass is deprecated; use teardown_class',
        ]
    )


def test_a_stub_action_decorated_test_method_gets_the_mock_and_leaves_no_stub_behind_when_it_fails(
    pytester: pytest.Pytester,
    toolkit_service: ModuleType,
) -> None:
    make_toolkit_test_module(
        pytester,
        imports="""
            from pysoa.test.assertions import raises_error_codes
            from pysoa.test.stub_service import stub_action
        """,
        test_methods="""
            @stub_action('users', 'get_user', body={'name': 'Ann'})
            def test_fails_while_stubbed(self, get_user):
                assert get_user.call_count == 0
                assert self.call_action('greet', {'user_id': 1}).body == {'greeting': 'Hi, Ann!'}

            def test_not_stubbed_afterwards(self):
                with raises_error_codes('SERVER_ERROR'):  # the service has no client routing for `users`
                    self.call_action('greet', {'user_id': 1})
        """,
    )

    result = pytester.runpytest()

    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["E   *assert {'greeting': 'Hello, Ann!'} == {'greeting': 'Hi, Ann!'}"])


def test_parameterized_expand_over_stub_action_runs_each_case_of_a_server_test_case_with_its_own_mock(
    pytester: pytest.Pytester,
    toolkit_service: ModuleType,
) -> None:
    make_toolkit_test_module(
        pytester,
        imports="""
            from parameterized import parameterized

            from pysoa.test.stub_service import stub_action
        """,
        test_methods="""
            @parameterized.expand([('Ann',), ('Bob',)])
            @stub_action('users', 'get_user')
            def test_greets_the_user(self, name, get_user):
                get_user.return_value = {'name': name}
                assert self.call_action('greet', {'user_id': 1}).body == {'greeting': 'Hello, {}!'.format(name)}
                assert get_user.call_count == 1
        """,
    )

    result = pytester.runpytest('-v')

    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines_random(
        [
            '*::test_greets_the_user_0_Ann PASSED*',
            '*::test_greets_the_user_1_Bob PASSED*',
        ]
    )


# PyTestServerTestCase: addCleanup and doCleanups --------------------------------------------------------------------


def test_add_cleanup_warns_that_it_is_deprecated(case: PyTestServerTestCase) -> None:
    with pytest.warns(DeprecationWarning, match='addCleanup is deprecated; use pytest fixtures with yield'):
        case.addCleanup(print)


@pytest.fixture
def quiet_add_cleanup(case: PyTestServerTestCase) -> Callable[..., None]:
    """``case.addCleanup`` without its deprecation warning."""

    def add_cleanup(function: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        with pytest.warns(DeprecationWarning):
            case.addCleanup(function, *args, **kwargs)

    return add_cleanup


def test_do_cleanups_calls_the_cleanups_last_added_first_with_their_arguments(
    case: PyTestServerTestCase,
    quiet_add_cleanup: Callable[..., None],
) -> None:
    calls = []
    quiet_add_cleanup(lambda *args, **kwargs: calls.append(('first', args, kwargs)), 1, flag=True)
    quiet_add_cleanup(lambda *args, **kwargs: calls.append(('second', args, kwargs)), 2)

    case.doCleanups()

    assert calls == [('second', (2,), {}), ('first', (1,), {'flag': True})]


def test_do_cleanups_calls_each_cleanup_once(
    case: PyTestServerTestCase,
    quiet_add_cleanup: Callable[..., None],
) -> None:
    cleanup = mock.Mock()
    quiet_add_cleanup(cleanup)

    case.doCleanups()
    case.doCleanups()

    cleanup.assert_called_once_with()


def test_do_cleanups_runs_every_cleanup_and_raises_the_last_failure(
    case: PyTestServerTestCase,
    quiet_add_cleanup: Callable[..., None],
) -> None:
    calls: List[str] = []
    quiet_add_cleanup(calls.append, 'added first')
    quiet_add_cleanup(_raise, KeyError('runs last'))
    quiet_add_cleanup(calls.append, 'added in the middle')
    quiet_add_cleanup(_raise, ValueError('runs first'))

    with pytest.raises(KeyError, match='runs last'):
        case.doCleanups()

    assert calls == ['added in the middle', 'added first']


def test_do_cleanups_prints_the_earlier_failures(
    case: PyTestServerTestCase,
    quiet_add_cleanup: Callable[..., None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    quiet_add_cleanup(_raise, KeyError('runs last'))
    quiet_add_cleanup(_raise, ValueError('runs first'))

    with pytest.raises(KeyError):
        case.doCleanups()

    printed = capsys.readouterr().err
    assert 'Traceback (most recent call last):' in printed
    assert 'ValueError: runs first' in printed
    assert 'runs last' not in printed


def test_teardown_method_runs_the_cleanups_even_when_tear_down_fails(
    case: PyTestServerTestCase,
    quiet_add_cleanup: Callable[..., None],
) -> None:
    cleanup = mock.Mock()
    quiet_add_cleanup(cleanup)
    case.tearDown = mock.Mock(side_effect=RuntimeError('tearDown failed'))  # type: ignore[method-assign]

    with pytest.warns(DeprecationWarning), pytest.raises(RuntimeError, match='tearDown failed'):
        case.teardown_method()

    cleanup.assert_called_once_with()


def test_setup_method_forgets_the_cleanups_of_the_previous_test(
    case: PyTestServerTestCase,
    quiet_add_cleanup: Callable[..., None],
) -> None:
    cleanup = mock.Mock()
    quiet_add_cleanup(cleanup)

    case.setup_method()
    case.doCleanups()

    cleanup.assert_not_called()


def _raise(exception: BaseException) -> None:
    raise exception


# PyTestServerTestCase: unittest's assertion methods ---------------------------------------------------------------

PASSING_ASSERTIONS = [
    ('assertEqual', (1, 1)),
    ('assertNotEqual', (1, 2)),
    ('assertMultiLineEqual', ('a\nb', 'a\nb')),
    ('assertSequenceEqual', ([1, 2], (1, 2))),
    ('assertListEqual', ([1], [1])),
    ('assertTupleEqual', ((1,), (1,))),
    ('assertSetEqual', ({1, 2}, {2, 1})),
    ('assertDictEqual', ({'a': 1}, {'a': 1})),
    ('assertCountEqual', ([1, 2, 2], [2, 1, 2])),
    ('assertAlmostEqual', (1.0, 1.00000001)),
    ('assertNotAlmostEqual', (1.0, 1.1)),
    ('assertTrue', (1,)),
    ('assertFalse', (0,)),
    ('assertIs', (None, None)),
    ('assertIsNot', ([], [])),
    ('assertIsNone', (None,)),
    ('assertIsNotNone', (0,)),
    ('assertIn', (1, [1])),
    ('assertNotIn', (2, [1])),
    ('assertIsInstance', (1, int)),
    ('assertNotIsInstance', (1, str)),
    ('assertGreater', (2, 1)),
    ('assertGreaterEqual', (1, 1)),
    ('assertLess', (1, 2)),
    ('assertLessEqual', (1, 1)),
    ('assertRegex', ('abc', 'b')),
    ('assertNotRegex', ('abc', 'x')),
]

FAILING_ASSERTIONS = [
    ('fail', ('It broke',)),
    ('assertEqual', ({'a': 1, 'b': [1, 2]}, {'a': 1, 'b': [1, 3]})),
    ('assertNotEqual', (1, 1)),
    ('assertMultiLineEqual', ('one\ntwo\n', 'one\nthree\n')),
    ('assertSequenceEqual', ([1, 2], (1, 3))),
    ('assertListEqual', ([1], [2])),
    ('assertTupleEqual', ((1,), (2,))),
    ('assertSetEqual', ({1}, {2})),
    ('assertDictEqual', ({'a': 1}, {'a': 2})),
    ('assertCountEqual', ([1, 2], [1, 1])),
    ('assertAlmostEqual', (1.0, 1.1)),
    ('assertNotAlmostEqual', (1.0, 1.00000001)),
    ('assertTrue', (0,)),
    ('assertFalse', (1,)),
    ('assertIs', ([], [])),
    ('assertIsNot', (None, None)),
    ('assertIsNone', (0,)),
    ('assertIsNotNone', (None,)),
    ('assertIn', (2, [1])),
    ('assertNotIn', (1, [1])),
    ('assertIsInstance', (1, str)),
    ('assertNotIsInstance', (1, int)),
    ('assertGreater', (1, 2)),
    ('assertGreaterEqual', (1, 2)),
    ('assertLess', (2, 1)),
    ('assertLessEqual', (2, 1)),
    ('assertRegex', ('abc', 'x')),
    ('assertNotRegex', ('abc', 'b')),
]


@pytest.mark.parametrize(('name', 'args'), PASSING_ASSERTIONS)
def test_assertion_method_passes_when_its_expectation_is_met(name: str, args: Tuple[Any, ...]) -> None:
    getattr(PyTestServerTestCase(), name)(*args)


@pytest.mark.parametrize(('name', 'args'), FAILING_ASSERTIONS)
def test_assertion_method_fails_with_the_message_of_unittest(name: str, args: Tuple[Any, ...]) -> None:
    with pytest.raises(AssertionError) as unittest_failure:
        getattr(unittest.TestCase(), name)(*args)

    with pytest.raises(AssertionError) as failure:
        getattr(PyTestServerTestCase(), name)(*args)

    assert str(failure.value) == str(unittest_failure.value)


def test_assert_equal_fails_with_a_diff_and_the_custom_message() -> None:
    with pytest.raises(AssertionError) as failure:
        PyTestServerTestCase().assertEqual({'a': 1}, {'a': 2}, 'the user changed')

    assert str(failure.value) == (
        "{'a': 1} != {'a': 2}\n- {'a': 1}\n?       ^\n\n+ {'a': 2}\n?       ^\n : the user changed"
    )


def test_assert_equal_shows_the_whole_diff_however_long() -> None:
    with pytest.raises(AssertionError) as failure:
        PyTestServerTestCase().assertEqual(list(range(500)), list(range(1, 501)))

    assert 'Diff is' not in str(failure.value)
    assert '+  500]' in str(failure.value)


def test_assert_almost_equal_accepts_places_and_delta() -> None:
    case = PyTestServerTestCase()

    case.assertAlmostEqual(1.0, 1.04, places=1)
    case.assertAlmostEqual(1.0, 1.4, delta=0.5)
    with pytest.raises(AssertionError, match=r'within 0\.1 delta'):
        case.assertAlmostEqual(1.0, 1.4, delta=0.1)


def test_assertion_methods_accept_the_msg_keyword() -> None:
    with pytest.raises(AssertionError, match=r'^0 is not true : the flag is off$'):
        PyTestServerTestCase().assertTrue(0, msg='the flag is off')


def test_pytest_shows_the_unittest_diff_of_a_failed_assert_equal(
    pytester: pytest.Pytester,
    toolkit_service: ModuleType,
) -> None:
    make_toolkit_test_module(
        pytester,
        test_methods="""
            def test_squares(self):
                squares = [self.call_action('square', {'number': n}).body['square'] for n in (1, 2, 3)]
                self.assertEqual(squares, [1, 4, 6])
        """,
    )

    result = pytester.runpytest()

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [  # `?` stands for the brackets, which fnmatch reads as a character set
            'E   *AssertionError: Lists differ: ?1, 4, 9? != ?1, 4, 6?',
            'E   *First differing element 2:',
            'E   *- ?1, 4, 9?',
            'E   *?        ^',
            'E   *+ ?1, 4, 6?',
            'E   *?        ^',
        ]
    )


# PyTestServerTestCase: assertRaises, assertRaisesRegex, assertWarns, assertWarnsRegex -----------------------------


def test_assert_raises_calls_the_callable_with_its_arguments() -> None:
    function = mock.Mock(side_effect=ValueError)

    PyTestServerTestCase().assertRaises(ValueError, function, 1, key='value')

    function.assert_called_once_with(1, key='value')


def test_assert_raises_fails_when_the_callable_raises_nothing() -> None:
    with pytest.raises(pytest.fail.Exception, match='DID NOT RAISE'):
        PyTestServerTestCase().assertRaises(ValueError, int, '1')


def test_assert_raises_lets_other_exceptions_through() -> None:
    with pytest.raises(TypeError):
        PyTestServerTestCase().assertRaises(ValueError, int, None)


def test_assert_raises_context_manager_exposes_the_exception_as_exception_and_value() -> None:
    with PyTestServerTestCase().assertRaises(ValueError) as context:
        int('x')

    assert isinstance(context.exception, ValueError)
    assert context.exception is context.value
    assert "invalid literal for int() with base 10: 'x'" in str(context.exception)


def test_assert_raises_context_manager_fails_when_the_block_raises_nothing() -> None:
    with pytest.raises(pytest.fail.Exception, match='DID NOT RAISE'):
        with PyTestServerTestCase().assertRaises(ValueError):
            pass


def test_assert_raises_regex_calls_the_callable_and_matches_the_message() -> None:
    PyTestServerTestCase().assertRaisesRegex(ValueError, 'invalid literal', int, 'x')


def test_assert_raises_regex_fails_when_the_message_does_not_match() -> None:
    with pytest.raises(AssertionError, match='Regex pattern did not match'):
        PyTestServerTestCase().assertRaisesRegex(ValueError, 'out of range', int, 'x')


def test_assert_raises_regex_context_manager_exposes_the_exception() -> None:
    with PyTestServerTestCase().assertRaisesRegex(KeyError, 'user') as context:
        raise KeyError('user')

    assert context.exception.args == ('user',)


def test_assert_raises_regex_context_manager_fails_when_the_message_does_not_match() -> None:
    with pytest.raises(AssertionError, match='Regex pattern did not match'):
        with PyTestServerTestCase().assertRaisesRegex(KeyError, 'group'):
            raise KeyError('user')


def test_assert_warns_calls_the_callable_and_expects_the_warning() -> None:
    PyTestServerTestCase().assertWarns(UserWarning, warnings.warn, 'careful', UserWarning)


def test_assert_warns_fails_when_no_warning_is_emitted() -> None:
    with pytest.raises(pytest.fail.Exception, match='DID NOT WARN'):
        PyTestServerTestCase().assertWarns(UserWarning, int, '1')


def test_assert_warns_context_manager_records_the_warnings() -> None:
    with PyTestServerTestCase().assertWarns(UserWarning) as recorded:
        warnings.warn('careful', UserWarning, stacklevel=1)

    assert [str(w.message) for w in recorded] == ['careful']


def test_assert_warns_regex_matches_the_warning_message() -> None:
    case = PyTestServerTestCase()

    case.assertWarnsRegex(UserWarning, 'care', warnings.warn, 'careful', UserWarning)
    with case.assertWarnsRegex(UserWarning, 'care'):
        warnings.warn('careful', UserWarning, stacklevel=1)


@pytest.mark.filterwarnings('ignore:careful')  # pytest.warns re-emits the warnings it did not match
def test_assert_warns_regex_fails_when_the_message_does_not_match() -> None:
    with pytest.raises(pytest.fail.Exception, match=r'DID NOT WARN|did not match'):
        with PyTestServerTestCase().assertWarnsRegex(UserWarning, 'danger'):
            warnings.warn('careful', UserWarning, stacklevel=1)


@pytest.mark.parametrize(
    ('name', 'parameters'),
    [
        ('assertRaises', ['exception', 'callable', 'args', 'kwargs']),
        ('assertRaisesRegex', ['exception', 'regex', 'callable', 'args', 'kwargs']),
        ('assertWarns', ['exception', 'callable', 'args', 'kwargs']),
        ('assertWarnsRegex', ['exception', 'regex', 'callable', 'args', 'kwargs']),
        ('failUnlessRaises', ['exception', 'callable', 'args', 'kwargs']),
        ('assertRaisesRegexp', ['exception', 'regex', 'callable', 'args', 'kwargs']),
    ],
)
def test_assert_raises_and_assert_warns_methods_have_the_documented_signatures(
    name: str,
    parameters: List[str],
) -> None:
    signature = inspect.signature(getattr(PyTestServerTestCase(), name))

    assert list(signature.parameters) == parameters
    assert signature.parameters['callable'].default is None


@pytest.mark.filterwarnings('ignore:Please use')
@pytest.mark.parametrize(
    ('name', 'expectation', 'effect'),
    [
        ('assertRaises', {'exception': KeyError}, KeyError('user')),
        ('assertRaisesRegex', {'exception': KeyError, 'regex': 'user'}, KeyError('user')),
        ('assertWarns', {'exception': UserWarning}, lambda **_: warnings.warn('user', UserWarning, stacklevel=1)),
        (
            'assertWarnsRegex',
            {'exception': UserWarning, 'regex': 'user'},
            lambda **_: warnings.warn('user', stacklevel=1),
        ),
        ('failUnlessRaises', {'exception': KeyError}, KeyError('user')),
        ('assertRaisesRegexp', {'exception': KeyError, 'regex': 'user'}, KeyError('user')),
    ],
)
def test_assert_raises_and_assert_warns_methods_take_their_arguments_by_keyword(
    name: str,
    expectation: Dict[str, Any],
    effect: Any,
) -> None:
    function = mock.Mock(side_effect=effect)

    getattr(PyTestServerTestCase(), name)(**expectation, callable=function, user_id=1)

    function.assert_called_once_with(user_id=1)


def test_assert_raises_context_manager_takes_the_exception_by_keyword() -> None:
    with PyTestServerTestCase().assertRaises(exception=KeyError) as context:
        raise KeyError('user')

    assert context.exception.args == ('user',)


def test_assert_raises_passes_a_msg_keyword_to_the_callable_like_unittest() -> None:
    function = mock.Mock(side_effect=ValueError)

    PyTestServerTestCase().assertRaises(ValueError, function, msg='hello')

    function.assert_called_once_with(msg='hello')


def test_assert_warns_context_manager_accepts_the_msg_keyword_of_unittest() -> None:
    with PyTestServerTestCase().assertWarns(UserWarning, msg='the warning is missing'):
        warnings.warn('careful', UserWarning, stacklevel=1)


# PyTestServerTestCase: assertLogs -------------------------------------------------------------------------------------


def test_assert_logs_captures_info_and_above_of_every_logger_by_default() -> None:
    with PyTestServerTestCase().assertLogs() as logs:
        logging.getLogger('toolkit.users').debug('not captured')
        logging.getLogger('toolkit.users').warning('User %s is locked', 'ann')

    assert logs.output == ['WARNING:toolkit.users:User ann is locked']
    assert logs.records[0].getMessage() == 'User ann is locked'


def test_assert_logs_captures_the_given_logger_and_its_children_at_the_given_level() -> None:
    with PyTestServerTestCase().assertLogs('toolkit', level='DEBUG') as logs:
        logging.getLogger('toolkit.users').debug('Looking up ann')
        logging.getLogger('other').error('not captured')

    assert logs.output == ['DEBUG:toolkit.users:Looking up ann']


def test_assert_logs_fails_when_nothing_is_logged_at_the_level() -> None:
    with pytest.raises(AssertionError, match=r'(?i)^no logs of level INFO or higher triggered on toolkit$'):
        with PyTestServerTestCase().assertLogs('toolkit'):
            logging.getLogger('toolkit').debug('too quiet')


# PyTestServerTestCase: deprecated aliases -----------------------------------------------------------------------------

DEPRECATED_ALIASES = [
    ('assertEquals', 'assertEqual', (1, 1)),
    ('failUnlessEqual', 'assertEqual', (1, 1)),
    ('assertNotEquals', 'assertNotEqual', (1, 2)),
    ('failIfEqual', 'assertNotEqual', (1, 2)),
    ('assertAlmostEquals', 'assertAlmostEqual', (1.0, 1.0)),
    ('failUnlessAlmostEqual', 'assertAlmostEqual', (1.0, 1.0)),
    ('assertNotAlmostEquals', 'assertNotAlmostEqual', (1.0, 2.0)),
    ('failIfAlmostEqual', 'assertNotAlmostEqual', (1.0, 2.0)),
    ('failUnless', 'assertTrue', (True,)),
    ('assert_', 'assertTrue', (True,)),
    ('failIf', 'assertFalse', (False,)),
    ('assertRegexpMatches', 'assertRegex', ('abc', 'b')),
    ('assertNotRegexpMatches', 'assertNotRegex', ('abc', 'x')),
    ('failUnlessRaises', 'assertRaises', (ValueError, int, 'x')),
    ('assertRaisesRegexp', 'assertRaisesRegex', (ValueError, 'invalid literal', int, 'x')),
]


@pytest.mark.parametrize(('alias', 'name', 'args'), DEPRECATED_ALIASES)
def test_deprecated_alias_warns_and_does_what_its_replacement_does(
    alias: str,
    name: str,
    args: Tuple[Any, ...],
) -> None:
    case = PyTestServerTestCase()

    with mock.patch.object(case, name, wraps=getattr(case, name)) as replacement:
        with pytest.warns(DeprecationWarning) as recorded:
            getattr(case, alias)(*args)

    assert [str(w.message) for w in recorded] == [f'Please use {name} instead. This will be removed in PySOA 2.0.']
    replacement.assert_called_once_with(*args)


@pytest.mark.parametrize(
    ('alias', 'args', 'message'),
    [
        ('assertEquals', (1, 2), '1 != 2'),
        ('failIf', (True,), 'True is not false'),
        ('assertNotRegexpMatches', ('abc', 'b'), "Regex matched: 'b' matches 'b' in 'abc'"),
    ],
)
def test_deprecated_alias_fails_like_its_replacement(alias: str, args: Tuple[Any, ...], message: str) -> None:
    with pytest.warns(DeprecationWarning), pytest.raises(AssertionError, match=f'^{re.escape(message)}$'):
        getattr(PyTestServerTestCase(), alias)(*args)
