"""
Jobs mixing stubbed and real actions (the real ones served by in-process services), errors and ``continue_on_error``,
what stays untouched, nesting, and request ids.
"""

import pytest

from pysoa.client.client import Client
from pysoa.client.errors import (
    CallActionError,
    CallJobError,
    ImproperlyConfigured,
)
from pysoa.common.errors import Error
from pysoa.common.transport.errors import MessageReceiveTimeout
from pysoa.common.types import (
    ActionResponse,
    JobResponse,
)
from pysoa.server.errors import (
    ActionError,
    JobError,
)
from pysoa.test.stub_service import stub_action

from .stub_helpers import (
    REAL_CALLS,
    REAL_ERROR,
    actions,
    assert_client_restored,
    make_client,
)


STUB_ERROR = Error(code='STUB_FAILURE', message='The stub failed')


@pytest.fixture
def client() -> Client:
    return make_client()


def bodies(response: JobResponse) -> list:  # type: ignore[type-arg]
    return [action.body for action in response.actions]


# Merging ------------------------------------------------------------------------------------------------------------


def test_stubbed_and_real_actions_come_back_in_their_original_order(client: Client) -> None:
    with stub_action('svc', 'get_user', side_effect=lambda body: {'stub': body['n']}):
        response = client.call_actions('svc', actions('echo', 'get_user', 'echo', 'get_user'))

    assert bodies(response) == [{'real': 'svc', 'n': 0}, {'stub': 1}, {'real': 'svc', 'n': 2}, {'stub': 3}]
    assert [action.action for action in response.actions] == ['echo', 'get_user', 'echo', 'get_user']


def test_only_the_real_actions_reach_the_real_service_in_one_job(client: Client) -> None:
    with stub_action('svc', 'get_user') as stub:
        client.call_actions('svc', actions('echo', 'get_user', 'echo'))

    assert REAL_CALLS == [('svc', 'echo', {'n': 0}), ('svc', 'echo', {'n': 2})]
    assert stub.call_bodies == ({'n': 1},)


def test_mixed_job_keeps_the_real_response_context(client: Client) -> None:
    with stub_action('svc', 'get_user'):
        response = client.call_actions('svc', actions('echo', 'get_user'), correlation_id='abc')

    assert response.context == {'correlation_id': 'abc'}


def test_two_stubs_of_one_service_share_a_job(client: Client) -> None:
    with stub_action('svc', 'get_user', body={'user': True}), stub_action('svc', 'echo', body={'echo': True}):
        response = client.call_actions(
            'svc',
            actions('get_user', 'fail', 'echo'),
            continue_on_error=True,
            raise_action_errors=False,
        )

    assert bodies(response) == [{'user': True}, {}, {'echo': True}]
    assert response.actions[1].errors == [REAL_ERROR]


# Errors and continue_on_error ---------------------------------------------------------------------------------------


def test_stubbed_error_stops_the_job_without_continue_on_error(client: Client) -> None:
    with stub_action('svc', 'get_user', errors=[STUB_ERROR]), stub_action('svc', 'later') as later:
        response = client.call_actions('svc', actions('echo', 'get_user', 'echo', 'later'), raise_action_errors=False)

    assert [action.action for action in response.actions] == ['echo', 'get_user']
    assert response.actions[1].errors == [STUB_ERROR]
    assert REAL_CALLS == [('svc', 'echo', {'n': 0})]
    assert later.call_count == 0


def test_stubbed_error_raises_call_action_error(client: Client) -> None:
    error = ActionError([STUB_ERROR])
    with stub_action('svc', 'get_user', side_effect=error):
        with pytest.raises(CallActionError) as info:
            client.call_actions('svc', actions('echo', 'get_user'))

    assert info.value.actions == [ActionResponse(action='get_user', errors=error.errors)]


def test_stubbed_error_with_continue_on_error_runs_the_rest(client: Client) -> None:
    with stub_action('svc', 'get_user', errors=[STUB_ERROR]), stub_action('svc', 'later', body={'ran': True}):
        response = client.call_actions(
            'svc',
            actions('get_user', 'echo', 'later'),
            raise_action_errors=False,
            continue_on_error=True,
        )

    assert [action.action for action in response.actions] == ['get_user', 'echo', 'later']
    assert response.actions[2].body == {'ran': True}
    assert REAL_CALLS == [('svc', 'echo', {'n': 1})]


def test_continue_on_error_passed_positionally_to_send_request_is_honoured(client: Client) -> None:
    with stub_action('svc', 'get_user', errors=[STUB_ERROR]):
        client.send_request('svc', actions('get_user', 'echo'), None, None, True)
        [(_, response)] = list(client.get_all_responses('svc'))

    assert [action.action for action in response.actions] == ['get_user', 'echo']


def test_continue_on_error_passed_as_keyword_to_send_request_is_honoured(client: Client) -> None:
    with stub_action('svc', 'get_user', errors=[STUB_ERROR]):
        client.send_request('svc', actions('get_user', 'echo'), continue_on_error=True)
        [(_, response)] = list(client.get_all_responses('svc'))

    assert [action.action for action in response.actions] == ['get_user', 'echo']


def test_real_error_truncates_the_merged_response_without_continue_on_error(client: Client) -> None:
    with stub_action('svc', 'get_user') as stub:
        response = client.call_actions('svc', actions('fail', 'get_user', 'echo'), raise_action_errors=False)

    assert [action.action for action in response.actions] == ['fail']
    assert response.actions[0].errors == [REAL_ERROR]
    # The stub answers at send time, before the real service has failed.
    assert stub.call_count == 1


def test_real_error_with_continue_on_error_keeps_every_action(client: Client) -> None:
    with stub_action('svc', 'get_user', body={'stub': True}):
        response = client.call_actions(
            'svc',
            actions('fail', 'get_user', 'echo'),
            raise_action_errors=False,
            continue_on_error=True,
        )

    assert [action.action for action in response.actions] == ['fail', 'get_user', 'echo']


def test_stubbed_job_error_in_a_mixed_job_is_added_to_the_job_errors(client: Client) -> None:
    with stub_action('svc', 'get_user', side_effect=JobError([STUB_ERROR])):
        with pytest.raises(CallJobError) as info:
            client.call_actions('svc', actions('echo', 'get_user', 'echo'))
        response = client.call_actions('svc', actions('echo', 'get_user', 'echo'), raise_job_errors=False)

    assert info.value.errors == [STUB_ERROR]
    assert response.errors == [STUB_ERROR]
    assert bodies(response) == [{'real': 'svc', 'n': 0}]


def test_stubbed_receive_error_in_a_mixed_job_consumes_the_real_response(client: Client) -> None:
    with stub_action('svc', 'get_user', side_effect=MessageReceiveTimeout('lost')):
        with pytest.raises(MessageReceiveTimeout):
            client.call_actions('svc', actions('echo', 'get_user'))

        assert list(client.get_all_responses('svc')) == []


# What stays untouched -----------------------------------------------------------------------------------------------


def test_other_actions_of_the_stubbed_service_stay_real(client: Client) -> None:
    with stub_action('svc', 'get_user', body={'stub': True}):
        assert client.call_action('svc', 'echo', {'a': 1}).body == {'real': 'svc', 'a': 1}


def test_the_same_action_of_other_services_stays_real(client: Client) -> None:
    with stub_action('svc', 'get_user', body={'stub': True}):
        assert client.call_action('other', 'get_user', {'a': 1}).body == {'real': 'other', 'a': 1}
        assert client.handlers['other'] is client._get_handler('other')


def test_unconfigured_services_stay_unconfigured(client: Client) -> None:
    with stub_action('ghost', 'get_user'):
        with pytest.raises(ImproperlyConfigured):
            client.call_action('nowhere', 'get_user')


def test_real_action_of_an_unconfigured_stubbed_service_is_improperly_configured(client: Client) -> None:
    with stub_action('ghost', 'get_user'):
        with pytest.raises(ImproperlyConfigured):
            client.call_actions('ghost', actions('get_user', 'other_action'))


def test_non_string_service_name_is_rejected(client: Client) -> None:
    with stub_action('svc', 'get_user'):
        with pytest.raises(ValueError, match='must be unicode'):
            client.send_request(b'svc', actions('get_user'))  # type: ignore[arg-type]


def test_stubs_answer_clients_created_by_servers(client: Client) -> None:
    with stub_action('ghost', 'get_user', side_effect=lambda body: {'ghost': body}):
        response = client.call_action('svc', 'call_ghost', {'id': 7})

    assert response.body == {'ghost_said': {'ghost': {'id': 7}}}


def test_stubbed_service_handler_passes_attributes_to_the_real_handler(client: Client) -> None:
    real_handler = client._get_handler('svc')

    with stub_action('svc', 'get_user'):
        stand_in = client._get_handler('svc')
        assert stand_in is not real_handler
        assert stand_in.transport is real_handler.transport

    assert client._get_handler('svc') is real_handler


# Nesting ------------------------------------------------------------------------------------------------------------


def test_inner_stub_of_the_same_action_wins_until_it_exits(client: Client) -> None:
    with stub_action('svc', 'get_user', body={'outer': True}) as outer:
        with stub_action('svc', 'get_user', body={'inner': True}) as inner:
            assert client.call_action('svc', 'get_user').body == {'inner': True}
        assert client.call_action('svc', 'get_user').body == {'outer': True}

    assert (outer.call_count, inner.call_count) == (1, 1)
    assert_client_restored(client)


def test_nested_stubs_of_one_service_merge_into_one_job(client: Client) -> None:
    with stub_action('svc', 'get_user', body={'outer': True}):
        with stub_action('svc', 'echo', body={'inner': True}):
            response = client.call_actions('svc', actions('get_user', 'echo', 'fail'), raise_action_errors=False)

    assert bodies(response) == [{'outer': True}, {'inner': True}, {}]
    assert response.actions[2].errors == [REAL_ERROR]
    assert_client_restored(client)


# Request ids --------------------------------------------------------------------------------------------------------


def test_stubbed_request_ids_count_down_from_zero_and_never_look_real(client: Client) -> None:
    with stub_action('svc', 'get_user'):
        first = client.send_request('svc', actions('get_user'))
        second = client.send_request('svc', actions('get_user'))
        real = client.send_request('svc', actions('echo'))
        responses = dict(client.get_all_responses('svc'))

    assert first <= 0
    assert second == first - 1
    assert real > 0
    assert set(responses) == {first, second, real}


def test_mixed_job_has_the_real_request_id(client: Client) -> None:
    with stub_action('svc', 'get_user'):
        request_id = client.send_request('svc', actions('get_user', 'echo'))
        [(received_id, response)] = list(client.get_all_responses('svc'))

    assert request_id > 0
    assert received_id == request_id
    assert len(response.actions) == 2


def test_stubbed_and_real_jobs_with_equal_looking_ids_cannot_collide(client: Client) -> None:
    # Force the real handler's next id to be what the stub counter would have handed out had it counted up.
    client._get_handler('svc').request_counter = 1
    with stub_action('svc', 'get_user', body={'stub': True}):
        results = client.call_jobs_parallel(
            [
                {'service_name': 'svc', 'actions': actions('echo')},
                {'service_name': 'svc', 'actions': actions('get_user')},
                {'service_name': 'svc', 'actions': actions('echo')},
                {'service_name': 'svc', 'actions': actions('get_user')},
            ]
        )

    assert [result.actions[0].body for result in results] == [
        {'real': 'svc', 'n': 0},
        {'stub': True},
        {'real': 'svc', 'n': 0},
        {'stub': True},
    ]


def test_suppressed_stubbed_response_is_never_received(client: Client) -> None:
    with stub_action('svc', 'get_user') as stub:
        client.send_request('svc', actions('get_user'), suppress_response=True)
        client.send_request('svc', actions('get_user', 'echo'), suppress_response=True)

        assert list(client.get_all_responses('svc')) == []
    assert stub.call_count == 2
    assert REAL_CALLS == [('svc', 'echo', {'n': 1})]
