"""How failures reach the caller: job and action errors, their exceptions, and transport errors."""

import logging
from typing import Any

import pytest

from pysoa.client.client import Client
from pysoa.client.errors import (
    CallActionError,
    CallJobError,
    ImproperlyConfigured,
    InvalidExpansionKey,
    PySOAClientError,
)
from pysoa.common.errors import (
    Error,
    PySOAError,
)
from pysoa.common.transport.errors import (
    MessageReceiveError,
    MessageReceiveTimeout,
    MessageSendError,
    PySOATransportError,
)
from pysoa.common.types import (
    ActionResponse,
    JobResponse,
)

from .conftest import make_config
from .services import (
    MODULE,
    transport_of,
)


BROKEN = Error(code='BROKEN', message='It is broken', field='thing', is_caller_error=True)
FORBIDDEN = Error(code='FORBIDDEN', message='This job is not allowed', is_caller_error=False)


# The exception classes ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize('exception_class', [CallActionError, CallJobError, ImproperlyConfigured, InvalidExpansionKey])
def test_client_errors_are_pysoa_errors(exception_class: Any) -> None:
    assert issubclass(exception_class, PySOAClientError)
    assert issubclass(exception_class, PySOAError)


def test_call_job_error_holds_the_errors_and_lists_their_reprs() -> None:
    errors = [Error(code='A', message='first'), Error(code='B', message='second', field='f')]

    error = CallJobError(errors)

    assert error.errors == errors
    assert str(error) == f'Error executing job:\n{errors[0]!r}\n{errors[1]!r}'
    assert repr(error) == str(error)


def test_call_job_error_without_errors() -> None:
    error = CallJobError()

    assert error.errors == []
    assert str(error) == 'Error executing job:\n'


def test_call_action_error_holds_the_actions_and_lists_their_errors() -> None:
    actions = [
        ActionResponse(action='one', errors=[Error(code='A', message='first')]),
        ActionResponse(action='two', errors=[Error(code='B', message='second'), Error(code='C', message='third')]),
    ]

    error = CallActionError(actions)

    assert error.actions == actions
    assert str(error) == (f'Error calling action(s):\none: {actions[0].errors!r}\ntwo: {actions[1].errors!r}')


def test_call_action_error_repr_is_the_default_exception_repr() -> None:
    actions = [ActionResponse(action='one', errors=[Error(code='A', message='first')])]

    assert repr(CallActionError(actions)) == f'CallActionError({actions!r})'


def test_call_action_error_without_actions() -> None:
    error = CallActionError()

    assert error.actions == []
    assert str(error) == 'Error calling action(s):\n'


# Action errors ------------------------------------------------------------------------------------------------------


def test_failing_action_raises_call_action_error(client: Client) -> None:
    with pytest.raises(Client.CallActionError) as exc_info:
        client.call_action('svc', 'fail')

    assert exc_info.value.actions == [ActionResponse(action='fail', errors=[BROKEN])]
    assert str(exc_info.value) == f'Error calling action(s):\nfail: {[BROKEN]!r}'


def test_call_action_error_holds_only_the_failing_actions(client: Client) -> None:
    with pytest.raises(Client.CallActionError) as exc_info:
        client.call_actions(
            'svc',
            [{'action': 'echo'}, {'action': 'fail'}, {'action': 'empty'}, {'action': 'fail'}],
            continue_on_error=True,
        )

    assert [action.action for action in exc_info.value.actions] == ['fail', 'fail']
    assert all(action.errors == [BROKEN] for action in exc_info.value.actions)


def test_action_errors_not_raised_are_returned_in_the_action_response(client: Client) -> None:
    response = client.call_action('svc', 'fail', raise_action_errors=False)

    assert response == ActionResponse(action='fail', errors=[BROKEN])


def test_action_errors_not_raised_are_returned_in_the_job_response(client: Client) -> None:
    response = client.call_actions('svc', [{'action': 'echo'}, {'action': 'fail'}], raise_action_errors=False)

    assert response.errors == []
    assert response.actions[1].errors == [BROKEN]


def test_request_schema_violations_are_caller_errors_with_fields(client: Client) -> None:
    with pytest.raises(Client.CallActionError) as exc_info:
        client.call_action('svc', 'square', {'number': 'seven', 'extra': True})

    errors = sorted(exc_info.value.actions[0].errors, key=lambda e: e.code)
    assert [(e.code, e.field, e.is_caller_error) for e in errors] == [
        ('INVALID', 'number', True),
        ('UNKNOWN', None, True),  # Conformity gives no field for an unexpected key
    ]


def test_missing_request_field_is_reported_as_missing(client: Client) -> None:
    response = client.call_action('svc', 'square', {}, raise_action_errors=False)

    [error] = response.errors
    assert (error.code, error.field, error.is_caller_error) == ('MISSING', 'number', True)


def test_unknown_action_gives_an_unknown_error(client: Client) -> None:
    response = client.call_action('svc', 'no_such_action', raise_action_errors=False)

    [error] = response.errors
    assert error.code == 'UNKNOWN'
    assert error.field == 'action'
    assert error.is_caller_error is True


def test_action_raising_an_exception_gives_a_server_error_with_traceback(client: Client) -> None:
    with pytest.raises(Client.CallActionError) as exc_info:
        client.call_action('svc', 'explode')

    [error] = exc_info.value.actions[0].errors
    assert error.code == 'SERVER_ERROR'
    assert error.message == 'Internal server error: kaboom'
    assert error.traceback is not None
    assert 'ValueError: kaboom' in error.traceback
    assert error.is_caller_error is False


def test_first_failing_job_of_a_parallel_call_raises_its_action_error(client: Client) -> None:
    with pytest.raises(Client.CallActionError) as exc_info:
        client.call_jobs_parallel(
            [
                {'service_name': 'svc', 'actions': [{'action': 'echo'}]},
                {'service_name': 'other', 'actions': [{'action': 'square', 'body': {}}]},
                {'service_name': 'svc', 'actions': [{'action': 'fail'}]},
            ]
        )

    assert [action.action for action in exc_info.value.actions] == ['square']


def test_parallel_action_errors_not_raised_are_in_the_responses(client: Client) -> None:
    results = list(
        client.call_actions_parallel(
            'svc',
            [{'action': 'fail'}, {'action': 'echo', 'body': {'a': 1}}],
            raise_action_errors=False,
        )
    )

    assert results == [ActionResponse(action='fail', errors=[BROKEN]), ActionResponse(action='echo', body={'a': 1})]


# Job errors ---------------------------------------------------------------------------------------------------------


def test_job_error_raises_call_job_error(client: Client) -> None:
    with pytest.raises(Client.JobError) as exc_info:
        client.call_actions('svc', [{'action': 'echo'}, {'action': 'forbidden'}])

    assert isinstance(exc_info.value, CallJobError)
    assert exc_info.value.errors == [FORBIDDEN]
    assert str(exc_info.value) == f'Error executing job:\n{FORBIDDEN!r}'


def test_job_error_is_raised_before_action_errors_are_considered(client: Client) -> None:
    with pytest.raises(Client.CallJobError):
        client.call_actions('svc', [{'action': 'forbidden'}], raise_action_errors=True)


def test_call_action_with_job_errors_not_raised_returns_the_error_list(client: Client) -> None:
    # (call_action is annotated as returning an ActionResponse; with raise_job_errors=False it may not.)
    result: Any = client.call_action('svc', 'forbidden', raise_job_errors=False)

    assert result == [FORBIDDEN]


def test_call_actions_with_job_errors_not_raised_returns_the_job_response(client: Client) -> None:
    response = client.call_actions('svc', [{'action': 'forbidden'}], raise_job_errors=False)

    assert isinstance(response, JobResponse)
    assert response.errors == [FORBIDDEN]
    assert response.actions == []


def test_parallel_actions_with_job_errors_not_raised_yield_error_lists(client: Client) -> None:
    results = list(
        client.call_actions_parallel(
            'svc',
            [{'action': 'echo'}, {'action': 'forbidden'}, {'action': 'fail'}],
            raise_job_errors=False,
            raise_action_errors=False,
        )
    )

    assert results == [
        ActionResponse(action='echo'),
        [FORBIDDEN],
        ActionResponse(action='fail', errors=[BROKEN]),
    ]


def test_parallel_jobs_with_job_errors_not_raised_return_job_responses_with_errors(client: Client) -> None:
    results = client.call_jobs_parallel(
        [
            {'service_name': 'svc', 'actions': [{'action': 'forbidden'}]},
            {'service_name': 'other', 'actions': [{'action': 'echo'}]},
        ],
        raise_job_errors=False,
    )

    assert [result.errors for result in results] == [[FORBIDDEN], []]


def test_first_failing_job_of_a_parallel_call_raises_its_job_error(client: Client) -> None:
    with pytest.raises(Client.CallJobError) as exc_info:
        client.call_actions_parallel('svc', [{'action': 'fail'}, {'action': 'forbidden'}], raise_action_errors=False)

    assert exc_info.value.errors == [FORBIDDEN]


# Transport errors ---------------------------------------------------------------------------------------------------


@pytest.fixture
def flaky_client() -> Client:
    """Like ``client``, but both transports refuse to send jobs containing the action ``unsendable``."""
    return Client(make_config(unsendable_actions=['unsendable']))


def test_send_error_propagates_from_the_call(flaky_client: Client) -> None:
    with pytest.raises(MessageSendError):
        flaky_client.call_action('svc', 'unsendable')


def test_send_error_propagates_from_a_future_call_at_once(flaky_client: Client) -> None:
    with pytest.raises(MessageSendError):
        flaky_client.call_actions_future('svc', [{'action': 'unsendable'}])


def test_send_error_propagates_from_a_parallel_call_without_catching(flaky_client: Client) -> None:
    with pytest.raises(MessageSendError):
        flaky_client.call_jobs_parallel(
            [
                {'service_name': 'svc', 'actions': [{'action': 'echo'}]},
                {'service_name': 'other', 'actions': [{'action': 'unsendable'}]},
            ]
        )


def test_caught_send_error_takes_the_place_of_its_job_response(flaky_client: Client) -> None:
    results = flaky_client.call_jobs_parallel(
        [
            {'service_name': 'svc', 'actions': [{'action': 'echo', 'body': {'n': 1}}]},
            {'service_name': 'other', 'actions': [{'action': 'unsendable'}]},
            {'service_name': 'svc', 'actions': [{'action': 'unsendable'}]},
            {'service_name': 'other', 'actions': [{'action': 'echo', 'body': {'n': 4}}]},
        ],
        catch_transport_errors=True,
    )

    first, second, third, fourth = results
    assert isinstance(first, JobResponse) and first.actions[0].body == {'n': 1}
    assert isinstance(second, MessageSendError)
    assert isinstance(third, MessageSendError)
    assert second is not third
    assert isinstance(fourth, JobResponse) and fourth.actions[0].body == {'n': 4}


def test_caught_send_error_takes_the_place_of_its_action_response(flaky_client: Client) -> None:
    results = list(
        flaky_client.call_actions_parallel(
            'svc',
            [{'action': 'unsendable'}, {'action': 'echo', 'body': {'n': 2}}],
            catch_transport_errors=True,
        )
    )

    assert isinstance(results[0], MessageSendError)
    assert results[1] == ActionResponse(action='echo', body={'n': 2})


def test_receive_error_propagates_without_catching(client: Client) -> None:
    future = client.call_jobs_parallel_future([{'service_name': 'svc', 'actions': [{'action': 'echo'}]}])
    error = MessageReceiveError('connection lost')
    transport_of(client, 'svc').receive_errors.append(error)

    with pytest.raises(MessageReceiveError) as exc_info:
        future.result()

    assert exc_info.value is error


def test_caught_receive_error_fills_every_unanswered_slot_of_that_service(client: Client) -> None:
    future = client.call_jobs_parallel_future(
        [
            {'service_name': 'svc', 'actions': [{'action': 'echo', 'body': {'n': 1}}]},
            {'service_name': 'other', 'actions': [{'action': 'echo', 'body': {'n': 2}}]},
            {'service_name': 'svc', 'actions': [{'action': 'echo', 'body': {'n': 3}}]},
        ],
        catch_transport_errors=True,
    )
    error = MessageReceiveError('connection lost')
    transport_of(client, 'svc').receive_errors.append(error)

    first, second, third = future.result()

    assert first is error
    assert third is error
    assert isinstance(second, JobResponse) and second.actions[0].body == {'n': 2}


def test_caught_receive_error_in_parallel_actions_is_yielded_in_place(client: Client) -> None:
    future = client.call_actions_parallel_future(
        'svc',
        [{'action': 'echo'}, {'action': 'echo'}],
        catch_transport_errors=True,
    )
    error = MessageReceiveTimeout('too slow')
    transport_of(client, 'svc').receive_errors.append(error)

    assert list(future.result()) == [error, error]


def test_blocking_parallel_call_catches_receive_errors(client: Client) -> None:
    client.call_action('svc', 'echo')  # creates the transport, so the test can make it fail
    error = MessageReceiveError('connection lost')
    transport_of(client, 'svc').receive_errors.append(error)

    results = list(client.call_actions_parallel('svc', [{'action': 'echo'}], catch_transport_errors=True))

    assert results == [error]


def test_receive_error_propagates_from_a_single_call(client: Client) -> None:
    client.call_action('svc', 'echo')  # creates the transport, so the test can make it fail
    transport_of(client, 'svc').receive_errors.append(MessageReceiveError('connection lost'))

    with pytest.raises(MessageReceiveError):
        client.call_action('svc', 'echo', raise_action_errors=False)


def test_missing_response_raises_a_transport_error(client: Client) -> None:
    # The server honours suppress_response from control_extra, so the client waits for a response that never comes.
    with pytest.raises(PySOATransportError) as exc_info:
        client.call_actions('svc', [{'action': 'echo'}], control_extra={'suppress_response': True})

    [(request_id, _, _, _)] = transport_of(client, 'svc').sent
    assert str(exc_info.value) == f'The transport has no response for request {request_id} to service svc'


def test_missing_parallel_response_raises_a_transport_error(client: Client) -> None:
    with pytest.raises(PySOATransportError) as exc_info:
        client.call_jobs_parallel(
            [{'service_name': 'svc', 'actions': [{'action': 'echo'}]}],
            control_extra={'suppress_response': True},
        )

    [(request_id, _, _, _)] = transport_of(client, 'svc').sent
    assert str(exc_info.value) == f'There was no response for service svc, request {request_id}'


def test_response_nobody_waits_for_is_dropped_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    config = make_config()
    config['svc']['middleware'].insert(0, {'path': f'{MODULE}:RequestIdShiftingMiddleware'})
    client = Client(config)

    with caplog.at_level(logging.WARNING, logger='pysoa.client.client'):
        with pytest.raises(PySOATransportError):
            client.call_action('svc', 'echo')

    [(shifted_id, _, _, _)] = transport_of(client, 'svc').sent
    assert [record.getMessage() for record in caplog.records if record.name == 'pysoa.client.client'] == [
        f'Dropping response from service svc to request {shifted_id}, which nobody is waiting for',
    ]
