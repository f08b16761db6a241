"""What a stubbed action answers: ``body``, ``errors``, every form of ``side_effect``, and the mock's attributes."""

from typing import (
    Any,
    Dict,
)

import pytest

from pysoa.client.client import Client
from pysoa.client.errors import (
    CallActionError,
    CallJobError,
)
from pysoa.common.errors import Error
from pysoa.common.transport.errors import (
    MessageReceiveError,
    MessageReceiveTimeout,
)
from pysoa.common.types import (
    ActionResponse,
    JobResponse,
)
from pysoa.server.errors import (
    ActionError,
    JobError,
)
from pysoa.test.stub_service import stub_action

from .stub_helpers import make_client


NOT_FOUND = Error(code='NOT_FOUND', message='No such user', field='id', is_caller_error=True)
JOB_FAILED = Error(code='JOB_FAILED', message='The job failed')


@pytest.fixture
def client() -> Client:
    return make_client()


# body and errors ----------------------------------------------------------------------------------------------------


def test_body_is_the_response_body(client: Client) -> None:
    with stub_action('ghost', 'get_user', body={'id': 1, 'name': 'Ann'}):
        response = client.call_action('ghost', 'get_user', {'id': 1})

    assert response == ActionResponse(action='get_user', body={'id': 1, 'name': 'Ann'})


def test_error_objects_are_the_action_errors(client: Client) -> None:
    with stub_action('ghost', 'get_user', errors=[NOT_FOUND]):
        with pytest.raises(CallActionError) as info:
            client.call_action('ghost', 'get_user', {'id': 1})

    assert info.value.actions == [ActionResponse(action='get_user', errors=[NOT_FOUND])]


def test_error_dicts_become_error_objects(client: Client) -> None:
    with stub_action('ghost', 'get_user', errors=[{'code': 'NOT_FOUND', 'message': 'No such user', 'field': 'id'}]):
        response = client.call_action('ghost', 'get_user', raise_action_errors=False)

    assert response.errors == [Error(code='NOT_FOUND', message='No such user', field='id')]


def test_body_and_errors_together_make_one_response(client: Client) -> None:
    with stub_action('ghost', 'get_user', body={'partial': True}, errors=[NOT_FOUND]):
        response = client.call_action('ghost', 'get_user', raise_action_errors=False)

    assert response == ActionResponse(action='get_user', errors=[NOT_FOUND], body={'partial': True})


def test_without_body_errors_or_side_effect_the_response_is_empty(client: Client) -> None:
    with stub_action('ghost', 'get_user'):
        response = client.call_action('ghost', 'get_user')

    assert response == ActionResponse(action='get_user', body={})


def test_a_falsy_side_effect_is_ignored(client: Client) -> None:
    with stub_action('ghost', 'get_user', body={'id': 1}, side_effect=[]):
        assert client.call_action('ghost', 'get_user').body == {'id': 1}


# Callable side effects ----------------------------------------------------------------------------------------------


def test_side_effect_is_called_with_the_request_body(client: Client) -> None:
    with stub_action('ghost', 'get_user', side_effect=lambda body: {'echo': body}):
        response = client.call_action('ghost', 'get_user', {'id': 1})

    assert response.body == {'echo': {'id': 1}}


def test_side_effect_returning_an_action_response_is_used_as_it_is(client: Client) -> None:
    canned = ActionResponse(action='get_user', errors=[NOT_FOUND], body={'x': 1})

    with stub_action('ghost', 'get_user', side_effect=lambda body: canned):
        response = client.call_action('ghost', 'get_user', raise_action_errors=False)

    assert response is canned


def test_side_effect_returning_a_job_response_gives_its_first_action(client: Client) -> None:
    job = JobResponse(actions=[ActionResponse(action='get_user', body={'first': True}), ActionResponse(action='x')])

    with stub_action('ghost', 'get_user', side_effect=lambda body: job):
        response = client.call_actions('ghost', [{'action': 'get_user'}])

    assert response.actions == [ActionResponse(action='get_user', body={'first': True})]
    assert response.errors == []


def test_side_effect_returning_a_job_response_with_errors_gives_job_errors(client: Client) -> None:
    with stub_action('ghost', 'get_user', side_effect=lambda body: JobResponse(errors=[JOB_FAILED])):
        with pytest.raises(CallJobError) as info:
            client.call_action('ghost', 'get_user')
        errors = client.call_action('ghost', 'get_user', raise_job_errors=False)

    assert info.value.errors == [JOB_FAILED]
    assert errors == [JOB_FAILED]  # type: ignore[comparison-overlap]


def test_side_effect_returning_an_empty_job_response_gives_no_action_response(client: Client) -> None:
    with stub_action('ghost', 'get_user', side_effect=lambda body: JobResponse()):
        response = client.call_actions('ghost', [{'action': 'get_user'}])

    assert response == JobResponse()


@pytest.mark.parametrize('result', [None, 42, 'text', ['a', 'list']])
def test_side_effect_returning_anything_else_gives_an_empty_response(client: Client, result: Any) -> None:
    with stub_action('ghost', 'get_user', side_effect=lambda body: result):
        response = client.call_action('ghost', 'get_user', {'id': 1})

    assert response == ActionResponse(action='get_user')


# Exception side effects ---------------------------------------------------------------------------------------------


def test_action_error_side_effect_gives_action_errors(client: Client) -> None:
    with stub_action('ghost', 'get_user', side_effect=ActionError([NOT_FOUND])):
        response = client.call_action('ghost', 'get_user', raise_action_errors=False)

    assert response.errors == [NOT_FOUND]


def test_job_error_side_effect_gives_job_errors(client: Client) -> None:
    with stub_action('ghost', 'get_user', side_effect=JobError([JOB_FAILED])):
        with pytest.raises(CallJobError) as info:
            client.call_action('ghost', 'get_user')

    assert info.value.errors == [JOB_FAILED]


def test_job_error_stops_the_job(client: Client) -> None:
    with stub_action('ghost', 'first', side_effect=JobError([JOB_FAILED])), stub_action('ghost', 'second') as second:
        response = client.call_actions(
            'ghost',
            [{'action': 'first'}, {'action': 'second'}],
            raise_job_errors=False,
            continue_on_error=True,
        )

    assert response == JobResponse(errors=[JOB_FAILED])
    assert second.call_count == 0


@pytest.mark.parametrize('error', [MessageReceiveTimeout('too slow'), MessageReceiveError('broken')])
def test_receive_error_side_effect_is_raised_when_the_response_is_received(client: Client, error: Exception) -> None:
    with stub_action('ghost', 'get_user', side_effect=error) as stub:
        request_id = client.send_request('ghost', [{'action': 'get_user', 'body': {'id': 1}}])
        assert stub.call_count == 1
        with pytest.raises(type(error)) as info:
            list(client.get_all_responses('ghost'))

    assert info.value is error
    assert isinstance(request_id, int)


def test_receive_error_side_effect_is_raised_by_call_action(client: Client) -> None:
    with stub_action('ghost', 'get_user', side_effect=MessageReceiveTimeout('too slow')):
        with pytest.raises(MessageReceiveTimeout):
            client.call_action('ghost', 'get_user')


def test_receive_error_is_raised_once(client: Client) -> None:
    with stub_action('ghost', 'get_user', side_effect=MessageReceiveTimeout('too slow')):
        client.send_request('ghost', [{'action': 'get_user'}])
        with pytest.raises(MessageReceiveTimeout):
            list(client.get_all_responses('ghost'))

        assert list(client.get_all_responses('ghost')) == []


def test_other_exceptions_are_raised_by_send_request(client: Client) -> None:
    with stub_action('ghost', 'get_user', side_effect=ValueError('bad test data')):
        with pytest.raises(ValueError, match='bad test data'):
            client.send_request('ghost', [{'action': 'get_user'}])

        assert list(client.get_all_responses('ghost')) == []


def test_exception_class_side_effect_is_instantiated_and_handled(client: Client) -> None:
    with stub_action('ghost', 'get_user', side_effect=MessageReceiveTimeout):
        with pytest.raises(MessageReceiveTimeout):
            client.call_action('ghost', 'get_user')


# Iterable side effects ----------------------------------------------------------------------------------------------


def test_iterable_side_effect_gives_one_outcome_per_call(client: Client) -> None:
    outcomes = [
        {'call': 1},
        ActionResponse(action='get_user', body={'call': 2}),
        ActionError([NOT_FOUND]),
        MessageReceiveTimeout('call 4'),
    ]
    with stub_action('ghost', 'get_user', side_effect=outcomes):
        assert client.call_action('ghost', 'get_user').body == {'call': 1}
        assert client.call_action('ghost', 'get_user').body == {'call': 2}
        assert client.call_action('ghost', 'get_user', raise_action_errors=False).errors == [NOT_FOUND]
        with pytest.raises(MessageReceiveTimeout):
            client.call_action('ghost', 'get_user')
        with pytest.raises(StopIteration):
            client.call_action('ghost', 'get_user')


def test_iterable_side_effect_starts_over_for_each_activation(client: Client) -> None:
    stub = stub_action('ghost', 'get_user', side_effect=[{'call': 1}, {'call': 2}])

    with stub:
        assert client.call_action('ghost', 'get_user').body == {'call': 1}
    with stub:
        assert client.call_action('ghost', 'get_user').body == {'call': 1}


# The mock -----------------------------------------------------------------------------------------------------------


def test_mock_is_named_after_the_service_and_action() -> None:
    with stub_action('ghost', 'get_user') as stub:
        assert "name='ghost.get_user'" in repr(stub)


def test_mock_call_body_is_none_before_any_call() -> None:
    with stub_action('ghost', 'get_user') as stub:
        assert stub.call_body is None
        assert stub.call_bodies == ()
        assert stub.call_count == 0


def test_mock_records_the_request_bodies(client: Client) -> None:
    with stub_action('ghost', 'get_user') as stub:
        client.call_action('ghost', 'get_user', {'id': 1})
        client.call_action('ghost', 'get_user', {'id': 2})

    assert stub.call_body == {'id': 2}
    assert stub.call_bodies == ({'id': 1}, {'id': 2})
    assert stub.call_count == 2
    stub.assert_called_with({'id': 2})


def test_mock_is_called_with_an_empty_dict_when_there_is_no_body(client: Client) -> None:
    with stub_action('ghost', 'get_user') as stub:
        client.call_action('ghost', 'get_user')
        client.send_request('ghost', [{'action': 'get_user', 'body': None}])

    assert stub.call_bodies == ({}, {})


def test_mock_return_value_can_be_changed_while_active(client: Client) -> None:
    with stub_action('ghost', 'get_user', body={'before': True}) as stub:
        assert client.call_action('ghost', 'get_user').body == {'before': True}
        stub.return_value = {'after': True}
        assert client.call_action('ghost', 'get_user').body == {'after': True}


def test_one_stub_answers_every_call_in_a_job(client: Client) -> None:
    bodies: Dict[int, Any] = {}

    def side_effect(body: Dict[str, Any]) -> Dict[str, Any]:
        bodies[body['n']] = body
        return {'n': body['n'] * 10}

    with stub_action('ghost', 'get_user', side_effect=side_effect) as stub:
        response = client.call_actions('ghost', [{'action': 'get_user', 'body': {'n': n}} for n in range(3)])

    assert [action.body for action in response.actions] == [{'n': 0}, {'n': 10}, {'n': 20}]
    assert stub.call_count == 3
