"""The forms of ``stub_action``: context manager, decorators (alone and stacked with ``mock.patch``), start/stop."""

import asyncio
import inspect
import unittest
from typing import (
    Any,
    Type,
)

import pytest
from parameterized import parameterized

from pysoa.client.client import Client
from pysoa.common.types import ActionResponse
from pysoa.test.compatibility import mock
from pysoa.test.stub_service import (
    get_stubbed_requests,
    stub_action,
)

from . import stub_helpers
from .stub_helpers import (
    HELPERS,
    assert_client_restored,
    make_client,
)


@pytest.fixture
def client() -> Client:
    return make_client()


def get_user(client: Client, service: str = 'svc') -> Any:
    return client.call_action(service, 'get_user', {'id': 1}).body


# Context manager ----------------------------------------------------------------------------------------------------


def test_context_manager_returns_the_mock_answering_the_action(client: Client) -> None:
    with stub_action('svc', 'get_user', body={'stubbed': True}) as stub:
        assert get_user(client) == {'stubbed': True}

    assert stub.call_count == 1


def test_context_manager_restores_the_real_action_on_exit(client: Client) -> None:
    with stub_action('svc', 'get_user', body={'stubbed': True}):
        pass

    assert_client_restored(client)


def test_context_manager_restores_the_real_action_after_an_exception(client: Client) -> None:
    with pytest.raises(ZeroDivisionError):
        with stub_action('svc', 'get_user', body={'stubbed': True}):
            get_user(client)
            raise ZeroDivisionError()

    assert_client_restored(client)


def test_reentering_an_active_stub_returns_the_same_mock_until_exited_as_often(client: Client) -> None:
    stub = stub_action('svc', 'get_user', body={'stubbed': True})

    with stub as outer_mock:
        with stub as inner_mock:
            assert inner_mock is outer_mock
        assert stub.enabled
        assert get_user(client) == {'stubbed': True}

    assert not stub.enabled
    assert_client_restored(client)


def test_each_activation_gets_a_fresh_mock(client: Client) -> None:
    stub = stub_action('svc', 'get_user', body={'stubbed': True})
    with stub as first:
        get_user(client)
    with stub as second:
        pass

    assert second is not first
    assert second.call_count == 0


def test_exit_takes_the_documented_keywords_and_never_suppresses_exceptions(client: Client) -> None:
    stub = stub_action('svc', 'get_user', body={'stubbed': True})
    stub.__enter__()

    # mypy takes a dunder method's parameters as positional-only; the keywords are what the test is about
    assert stub.__exit__(exc_type=None, exc_value=None, traceback=None) is False  # type: ignore[call-arg]
    assert_client_restored(client)


def test_nested_stubs_unwind_in_order(client: Client) -> None:
    with stub_action('svc', 'get_user', body={'outer': True}):
        with stub_action('other', 'get_user', body={'inner': True}):
            assert get_user(client, 'other') == {'inner': True}
        assert get_user(client, 'other') == {'real': 'other', 'id': 1}
        assert get_user(client) == {'outer': True}

    assert_client_restored(client)


def test_service_and_action_must_be_strings() -> None:
    with pytest.raises(AssertionError):
        stub_action(b'svc', 'get_user')  # type: ignore[arg-type]
    with pytest.raises(AssertionError):
        stub_action('svc', None)  # type: ignore[arg-type]


# start() and stop() -------------------------------------------------------------------------------------------------


def test_start_returns_the_mock_and_stop_restores_the_client(client: Client) -> None:
    stub = stub_action('svc', 'get_user', body={'stubbed': True})

    stub_mock = stub.start()
    try:
        assert get_user(client) == {'stubbed': True}
        assert stub_mock.call_count == 1
    finally:
        stub.stop()

    assert_client_restored(client)


def test_stop_without_start_does_nothing(client: Client) -> None:
    stub_action('svc', 'get_user').stop()

    assert_client_restored(client)


def test_starting_an_active_stub_returns_its_mock() -> None:
    stub = stub_action('svc', 'get_user')

    try:
        assert stub.start() is stub.start()
    finally:
        stub.stop()


def test_stop_stops_the_stub_however_many_times_it_was_started(client: Client) -> None:
    stub = stub_action('svc', 'get_user', body={'stubbed': True})
    stub.start()
    stub.start()

    stub.stop()

    assert not stub.enabled
    assert_client_restored(client)


def test_stubs_stopped_out_of_order_still_restore_the_client(client: Client) -> None:
    first = stub_action('svc', 'get_user', body={'first': True})
    second = stub_action('other', 'get_user', body={'second': True})
    first.start()
    second.start()

    first.stop()
    assert get_user(client) == {'real': 'svc', 'id': 1}
    assert get_user(client, 'other') == {'second': True}
    second.stop()

    assert_client_restored(client)


# mock.patch interoperability attributes ---------------------------------------------------------------------------


def test_stub_has_the_attributes_mock_patch_decorators_use() -> None:
    stub = stub_action('svc', 'get_user')

    assert stub.attribute_name is None
    assert stub.new is mock.DEFAULT
    assert stub.is_local is False
    with stub:
        assert stub.is_local is True


def test_stub_has_the_decorating_methods_and_the_patchings_list_of_mock_patch_patchers() -> None:
    stub = stub_action('svc', 'get_user')

    assert callable(stub.decorate_callable)
    assert callable(stub.decorate_async_callable)
    assert callable(stub.decorate_class)
    assert stub.patchings == []


def test_decorator_and_exit_have_the_documented_parameter_names() -> None:
    exit_parameters = inspect.signature(stub_action.__exit__).parameters

    assert list(inspect.signature(stub_action.__call__).parameters) == ['self', 'func']
    assert list(exit_parameters) == ['self', 'exc_type', 'exc_value', 'traceback']
    assert [parameter.default for parameter in list(exit_parameters.values())[1:]] == [None, None, None]


# Function decorator -------------------------------------------------------------------------------------------------


def test_decorated_function_gets_the_mock_as_an_extra_positional_argument(client: Client) -> None:
    @stub_action('svc', 'get_user', body={'stubbed': True})
    def decorated(arg: str, stub_mock: mock.MagicMock) -> Any:
        assert arg == 'arg'
        return get_user(client), stub_mock

    body, stub_mock = decorated('arg')

    assert body == {'stubbed': True}
    assert stub_mock.call_count == 1
    assert_client_restored(client)


def test_decorator_takes_the_function_as_the_func_keyword(client: Client) -> None:
    def function(stub_mock: mock.MagicMock) -> Any:
        return get_user(client)

    decorated = stub_action('svc', 'get_user', body={'stubbed': True})(func=function)

    assert decorated() == {'stubbed': True}


def test_decorated_function_keeps_its_name_and_docstring() -> None:
    @stub_action('svc', 'get_user')
    def decorated(stub_mock: mock.MagicMock) -> None:
        """Docs."""

    assert decorated.__name__ == 'decorated'
    assert decorated.__doc__ == 'Docs.'


def test_decorated_function_restores_the_client_after_an_exception(client: Client) -> None:
    @stub_action('svc', 'get_user', body={'stubbed': True})
    def decorated(stub_mock: mock.MagicMock) -> None:
        get_user(client)
        raise ZeroDivisionError()

    with pytest.raises(ZeroDivisionError):
        decorated()

    assert_client_restored(client)


def test_decorated_function_gets_a_fresh_mock_per_call(client: Client) -> None:
    @stub_action('svc', 'get_user', body={'stubbed': True})
    def decorated(stub_mock: mock.MagicMock) -> int:
        get_user(client)
        return stub_mock.call_count

    assert decorated() == 1
    assert decorated() == 1


def test_two_stub_decorators_pass_their_mocks_innermost_first(client: Client) -> None:
    @stub_action('svc', 'get_user', body={'outer': True})
    @stub_action('other', 'get_user', body={'inner': True})
    def decorated(inner: mock.MagicMock, outer: mock.MagicMock) -> None:
        assert get_user(client, 'other') == {'inner': True}
        assert get_user(client) == {'outer': True}
        assert inner.call_count == 1
        assert outer.call_count == 1

    decorated()
    assert_client_restored(client)


def test_stub_above_mock_patch_passes_the_patch_mock_first(client: Client) -> None:
    @stub_action('svc', 'get_user', body={'stubbed': True})
    @mock.patch(f'{HELPERS}.weather')
    def decorated(mock_weather: mock.MagicMock, stub_mock: mock.MagicMock) -> None:
        mock_weather.return_value = 'rainy'
        assert stub_helpers.weather() == 'rainy'
        assert get_user(client) == {'stubbed': True}
        assert stub_mock.call_count == 1

    decorated()
    assert stub_helpers.weather() == 'sunny'
    assert_client_restored(client)


def test_mock_patch_above_stub_passes_the_stub_mock_first(client: Client) -> None:
    @mock.patch(f'{HELPERS}.weather')
    @stub_action('svc', 'get_user', body={'stubbed': True})
    def decorated(stub_mock: mock.MagicMock, mock_weather: mock.MagicMock) -> None:
        mock_weather.return_value = 'rainy'
        assert stub_helpers.weather() == 'rainy'
        assert get_user(client) == {'stubbed': True}
        assert stub_mock.call_count == 1

    decorated()
    assert stub_helpers.weather() == 'sunny'
    assert_client_restored(client)


def test_stubs_and_patches_interleaved_follow_mock_patch_order(client: Client) -> None:
    @mock.patch.object(stub_helpers, 'temperature')
    @stub_action('svc', 'get_user', body={'svc': True})
    @mock.patch(f'{HELPERS}.weather')
    @stub_action('other', 'get_user', body={'other': True})
    def decorated(
        other_mock: mock.MagicMock,
        mock_weather: mock.MagicMock,
        svc_mock: mock.MagicMock,
        mock_temperature: mock.MagicMock,
    ) -> None:
        assert get_user(client, 'other') == {'other': True}
        assert get_user(client) == {'svc': True}
        assert other_mock.call_count == svc_mock.call_count == 1
        assert stub_helpers.weather() is mock_weather.return_value
        assert stub_helpers.temperature() is mock_temperature.return_value

    decorated()
    assert_client_restored(client)


def test_patches_with_a_replacement_or_keywords_add_no_positional_argument(client: Client) -> None:
    @mock.patch(f'{HELPERS}.weather', new=lambda: 'foggy')
    @stub_action('svc', 'get_user', body={'stubbed': True})
    @mock.patch.multiple(HELPERS, temperature=mock.DEFAULT)
    def decorated(stub_mock: mock.MagicMock, temperature: mock.MagicMock) -> None:
        assert stub_helpers.weather() == 'foggy'
        assert stub_helpers.temperature() is temperature.return_value
        get_user(client)
        assert stub_mock.call_count == 1

    decorated()


def test_stacked_decorators_restore_everything_after_an_exception(client: Client) -> None:
    @stub_action('svc', 'get_user', body={'stubbed': True})
    @mock.patch(f'{HELPERS}.weather')
    @stub_action('other', 'get_user', body={'stubbed': True})
    def decorated(*_: Any) -> None:
        raise ZeroDivisionError()

    with pytest.raises(ZeroDivisionError):
        decorated()

    assert stub_helpers.weather() == 'sunny'
    assert_client_restored(client)
    assert get_user(client, 'other') == {'real': 'other', 'id': 1}


def test_decorated_coroutine_function_is_still_a_coroutine_function(client: Client) -> None:
    @stub_action('svc', 'get_user', body={'stubbed': True})
    async def decorated(stub_mock: mock.MagicMock) -> Any:
        await asyncio.sleep(0)
        return get_user(client), stub_mock.call_count

    assert asyncio.iscoroutinefunction(decorated)
    assert asyncio.run(decorated()) == ({'stubbed': True}, 1)
    assert_client_restored(client)


def test_decorating_something_not_callable_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        stub_action('svc', 'get_user')(42)  # type: ignore[call-overload]


@stub_action('svc', 'get_user', body={'stubbed': True})
@mock.patch(f'{HELPERS}.weather')
def test_pytest_passes_fixtures_to_a_decorated_test(
    mock_weather: mock.MagicMock,
    stub_mock: mock.MagicMock,
    client: Client,
) -> None:
    assert get_user(client) == {'stubbed': True}
    assert stub_mock.call_count == 1
    assert isinstance(mock_weather, mock.MagicMock)


# Method and class decorators ----------------------------------------------------------------------------------------


class TestMethodDecorator(unittest.TestCase):
    def setUp(self) -> None:
        self.client = make_client()

    @stub_action('svc', 'get_user', body={'stubbed': True})
    def test_method_gets_the_mock_after_self(self, stub_mock: mock.MagicMock) -> None:
        self.assertEqual({'stubbed': True}, get_user(self.client))
        self.assertEqual(1, stub_mock.call_count)

    @mock.patch(f'{HELPERS}.weather')
    @stub_action('svc', 'get_user', body={'stubbed': True})
    def test_method_with_mock_patch(self, stub_mock: mock.MagicMock, mock_weather: mock.MagicMock) -> None:
        self.assertEqual({'stubbed': True}, get_user(self.client))
        self.assertIs(mock_weather.return_value, stub_helpers.weather())


@stub_action(
    'svc',
    'get_user',
    body={'stubbed': True},
    register_request_schema_contract=False,
    register_response_schema_contract=False,
)
class TestClassDecorator(unittest.TestCase):
    def setUp(self) -> None:
        self.client = make_client()

    def test_first_method_gets_a_fresh_stub(self, stub_mock: mock.MagicMock) -> None:
        self.assertEqual(0, stub_mock.call_count)
        self.assertEqual({'stubbed': True}, get_user(self.client))
        self.assertEqual(1, stub_mock.call_count)

    def test_second_method_gets_a_fresh_stub(self, stub_mock: mock.MagicMock) -> None:
        self.assertEqual(0, stub_mock.call_count)
        self.assertEqual({'stubbed': True}, get_user(self.client))
        self.assertEqual(1, stub_mock.call_count)

    def test_register_flags_are_passed_to_the_method_stubs(self, stub_mock: mock.MagicMock) -> None:
        before = len(get_stubbed_requests())
        get_user(self.client)
        self.assertEqual(before, len(get_stubbed_requests()))

    @mock.patch(f'{HELPERS}.weather')
    def test_method_patches_come_before_the_class_stub(
        self,
        mock_weather: mock.MagicMock,
        stub_mock: mock.MagicMock,
    ) -> None:
        self.assertIs(mock_weather.return_value, stub_helpers.weather())
        self.assertEqual({'stubbed': True}, get_user(self.client))
        self.assertEqual(1, stub_mock.call_count)

    def helper_method(self) -> str:
        return 'not a test'


def test_class_decorator_decorates_each_test_method_with_its_own_copy() -> None:
    first = TestClassDecorator.test_first_method_gets_a_fresh_stub.patchings  # type: ignore[attr-defined]
    second = TestClassDecorator.test_second_method_gets_a_fresh_stub.patchings  # type: ignore[attr-defined]

    assert first[0] is not second[0]
    for stub in (first[0], second[0]):
        assert (stub.service, stub.action, stub.body) == ('svc', 'get_user', {'stubbed': True})
        assert stub.register_request_schema_contract is False
        assert stub.register_response_schema_contract is False
    assert not hasattr(TestClassDecorator.helper_method, 'patchings')


@stub_action('svc', 'get_user', side_effect=lambda body: ActionResponse(action='get_user', body={'pytest': True}))
class TestPytestStyleClassDecorator:
    def test_plain_class_methods_are_decorated_too(self, stub_mock: mock.MagicMock, client: Client) -> None:
        assert get_user(client) == {'pytest': True}
        assert stub_mock.call_bodies == ({'id': 1},)


# parameterized.expand over stub_action ------------------------------------------------------------------------------


def run_tests(test_case_class: Type[unittest.TestCase]) -> unittest.TestResult:
    """Run a unittest test case class, failing with the tracebacks of its errors and failures."""
    result = unittest.TestResult()
    unittest.defaultTestLoader.loadTestsFromTestCase(test_case_class).run(result)
    assert not result.errors and not result.failures, '\n'.join(text for _, text in result.errors + result.failures)
    return result


def test_parameterized_expand_over_stub_action_gives_each_case_its_parameters_and_a_fresh_mock() -> None:
    calls = []

    class ParameterizedTests(unittest.TestCase):
        @parameterized.expand([(1,), (2,)])
        @stub_action('svc', 'get_user', body={'stubbed': True})
        def test_get_user(self, user_id: int, stub_mock: mock.MagicMock) -> None:
            body = make_client().call_action('svc', 'get_user', {'id': user_id}).body
            calls.append((user_id, body, stub_mock.call_bodies))

    assert run_tests(ParameterizedTests).testsRun == 2
    assert calls == [(1, {'stubbed': True}, ({'id': 1},)), (2, {'stubbed': True}, ({'id': 2},))]
    assert_client_restored(make_client())


def test_parameterized_expand_over_stub_action_and_mock_patch_in_either_order_follows_mock_patch_order() -> None:
    def check(weather: str, mock_weather: mock.MagicMock, stub_mock: mock.MagicMock) -> None:
        mock_weather.return_value = weather
        assert stub_helpers.weather() == weather
        assert get_user(make_client()) == {'stubbed': True}
        assert stub_mock.call_count == 1

    class ParameterizedTests(unittest.TestCase):
        @parameterized.expand([('rainy',), ('foggy',)])
        @stub_action('svc', 'get_user', body={'stubbed': True})
        @mock.patch(f'{HELPERS}.weather')
        def test_stub_over_patch(self, weather: str, mock_weather: mock.MagicMock, stub_mock: mock.MagicMock) -> None:
            check(weather, mock_weather, stub_mock)

        @parameterized.expand([('rainy',), ('foggy',)])
        @mock.patch(f'{HELPERS}.weather')
        @stub_action('svc', 'get_user', body={'stubbed': True})
        def test_patch_over_stub(self, weather: str, stub_mock: mock.MagicMock, mock_weather: mock.MagicMock) -> None:
            check(weather, mock_weather, stub_mock)

    assert run_tests(ParameterizedTests).testsRun == 4
    assert stub_helpers.weather() == 'sunny'
    assert_client_restored(make_client())


def test_parameterized_expand_over_stub_action_on_coroutine_test_methods() -> None:
    calls = []

    class ParameterizedTests(unittest.IsolatedAsyncioTestCase):
        @parameterized.expand([(1,), (2,)])
        @stub_action('svc', 'get_user', body={'stubbed': True})
        async def test_get_user(self, user_id: int, stub_mock: mock.MagicMock) -> None:
            await asyncio.sleep(0)
            body = make_client().call_action('svc', 'get_user', {'id': user_id}).body
            calls.append((user_id, body, stub_mock.call_bodies))

    assert run_tests(ParameterizedTests).testsRun == 2
    assert calls == [(1, {'stubbed': True}, ({'id': 1},)), (2, {'stubbed': True}, ({'id': 2},))]
    assert_client_restored(make_client())
