"""The process-global request and response contract registries the stubs fill."""

from typing import Iterator

import pytest

from pysoa.client.client import Client
from pysoa.common.errors import Error
from pysoa.common.transport.errors import MessageReceiveTimeout
from pysoa.server.errors import JobError
from pysoa.test.compatibility import mock
from pysoa.test.stub_service import (
    get_stubbed_requests,
    get_stubbed_responses,
    stub_action,
)

from .stub_helpers import (
    actions,
    make_client,
)


@pytest.fixture
def client() -> Iterator[Client]:
    get_stubbed_requests().clear()
    get_stubbed_responses().clear()
    yield make_client()
    get_stubbed_requests().clear()
    get_stubbed_responses().clear()


def test_registries_are_process_global_lists() -> None:
    assert isinstance(get_stubbed_requests(), list)
    assert get_stubbed_requests() is get_stubbed_requests()
    assert get_stubbed_responses() is get_stubbed_responses()
    assert get_stubbed_requests() is not get_stubbed_responses()


def test_each_call_records_its_request(client: Client) -> None:
    with stub_action('svc', 'get_user', body={'name': 'Ann'}):
        client.call_action('svc', 'get_user', {'id': 1})
        client.call_action('svc', 'get_user')

    assert get_stubbed_requests() == [
        {'service': 'svc', 'action': 'get_user', 'body': {'id': 1}},
        {'service': 'svc', 'action': 'get_user', 'body': {}},
    ]


def test_each_response_records_its_body(client: Client) -> None:
    with stub_action('svc', 'get_user', side_effect=[{'name': 'Ann'}, {'name': 'Bob'}]):
        client.call_action('svc', 'get_user', {'id': 1})
        client.call_action('svc', 'get_user', {'id': 2})

    assert get_stubbed_responses() == [
        {'service': 'svc', 'action': 'get_user', 'body': {'name': 'Ann'}},
        {'service': 'svc', 'action': 'get_user', 'body': {'name': 'Bob'}},
    ]


def test_only_stubbed_actions_of_a_mixed_job_are_recorded(client: Client) -> None:
    with stub_action('svc', 'get_user', body={'name': 'Ann'}):
        client.call_actions('svc', actions('echo', 'get_user'))

    assert get_stubbed_requests() == [{'service': 'svc', 'action': 'get_user', 'body': {'n': 1}}]
    assert get_stubbed_responses() == [{'service': 'svc', 'action': 'get_user', 'body': {'name': 'Ann'}}]


def test_error_responses_are_recorded_too(client: Client) -> None:
    with stub_action('svc', 'get_user', errors=[Error(code='NOT_FOUND', message='Nope')]):
        client.call_action('svc', 'get_user', {'id': 1}, raise_action_errors=False)

    assert get_stubbed_responses() == [{'service': 'svc', 'action': 'get_user', 'body': {}}]


@pytest.mark.parametrize('side_effect', [JobError([Error(code='JOB', message='Failed')]), MessageReceiveTimeout()])
def test_calls_without_an_action_response_record_only_the_request(client: Client, side_effect: Exception) -> None:
    with stub_action('svc', 'get_user', side_effect=side_effect):
        client.send_request('svc', actions('get_user'))

    assert get_stubbed_requests() == [{'service': 'svc', 'action': 'get_user', 'body': {'n': 0}}]
    assert get_stubbed_responses() == []


def test_a_call_that_raises_records_its_request(client: Client) -> None:
    with stub_action('svc', 'get_user', side_effect=ValueError()):
        with pytest.raises(ValueError):
            client.call_action('svc', 'get_user', {'id': 1})

    assert get_stubbed_requests() == [{'service': 'svc', 'action': 'get_user', 'body': {'id': 1}}]


def test_request_contract_flag_off_records_no_request(client: Client) -> None:
    with stub_action('svc', 'get_user', body={'name': 'Ann'}, register_request_schema_contract=False):
        client.call_action('svc', 'get_user', {'id': 1})

    assert get_stubbed_requests() == []
    assert get_stubbed_responses() == [{'service': 'svc', 'action': 'get_user', 'body': {'name': 'Ann'}}]


def test_response_contract_flag_off_records_no_response(client: Client) -> None:
    with stub_action('svc', 'get_user', body={'name': 'Ann'}, register_response_schema_contract=False):
        client.call_action('svc', 'get_user', {'id': 1})

    assert get_stubbed_requests() == [{'service': 'svc', 'action': 'get_user', 'body': {'id': 1}}]
    assert get_stubbed_responses() == []


def test_flags_apply_per_stub(client: Client) -> None:
    with stub_action('svc', 'get_user', register_request_schema_contract=False), stub_action('svc', 'echo'):
        client.call_actions('svc', actions('get_user', 'echo'))

    assert get_stubbed_requests() == [{'service': 'svc', 'action': 'echo', 'body': {'n': 1}}]


def test_class_decorator_passes_the_flags_to_each_method_stub(client: Client) -> None:
    @stub_action(
        'svc',
        'get_user',
        body={'name': 'Ann'},
        register_request_schema_contract=False,
        register_response_schema_contract=False,
    )
    class Decorated:
        def test_call(self, stub_mock: mock.MagicMock) -> None:
            client.call_action('svc', 'get_user', {'id': 1})
            assert stub_mock.call_count == 1

    Decorated().test_call()  # type: ignore[call-arg]

    assert get_stubbed_requests() == []
    assert get_stubbed_responses() == []


def test_class_decorator_keeps_the_default_flags(client: Client) -> None:
    @stub_action('svc', 'get_user', body={'name': 'Ann'})
    class Decorated:
        def test_call(self, stub_mock: mock.MagicMock) -> None:
            client.call_action('svc', 'get_user', {'id': 1})

    Decorated().test_call()  # type: ignore[call-arg]

    assert len(get_stubbed_requests()) == len(get_stubbed_responses()) == 1
