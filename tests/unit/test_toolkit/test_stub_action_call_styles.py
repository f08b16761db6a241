"""Stubbed responses reach every way of calling a service, alone and mixed with real responses."""

from typing import (
    Any,
    Dict,
)

import pytest

from pysoa.client.client import Client
from pysoa.common.transport.errors import MessageReceiveTimeout
from pysoa.common.types import (
    ActionResponse,
    JobResponse,
)
from pysoa.test.stub_service import stub_action

from .stub_helpers import (
    actions,
    make_client,
)


@pytest.fixture
def client() -> Client:
    return make_client()


@pytest.fixture
def stubbed_get_user() -> Any:
    with stub_action('svc', 'get_user', side_effect=lambda body: {'stub': body.get('n')}) as stub:
        yield stub


STUBBED = ActionResponse(action='get_user', body={'stub': 0})
REAL = ActionResponse(action='echo', body={'real': 'svc', 'n': 0})


# Blocking calls -----------------------------------------------------------------------------------------------------


def test_call_action(client: Client, stubbed_get_user: Any) -> None:
    assert client.call_action('svc', 'get_user', {'n': 0}) == STUBBED


def test_call_actions(client: Client, stubbed_get_user: Any) -> None:
    response = client.call_actions('svc', actions('get_user', 'echo'))

    assert response.actions == [STUBBED, ActionResponse(action='echo', body={'real': 'svc', 'n': 1})]


def test_call_actions_parallel(client: Client, stubbed_get_user: Any) -> None:
    results = list(client.call_actions_parallel('svc', actions('get_user', 'echo', 'get_user')))

    assert results == [
        STUBBED,
        ActionResponse(action='echo', body={'real': 'svc', 'n': 1}),
        ActionResponse(action='get_user', body={'stub': 2}),
    ]


def test_call_jobs_parallel(client: Client, stubbed_get_user: Any) -> None:
    results = client.call_jobs_parallel(
        [
            {'service_name': 'svc', 'actions': actions('get_user')},
            {'service_name': 'other', 'actions': actions('get_user')},
            {'service_name': 'svc', 'actions': actions('echo', 'get_user')},
            {'service_name': 'svc', 'actions': actions('echo')},
        ]
    )

    assert results == [
        JobResponse(actions=[STUBBED]),
        JobResponse(
            context=results[1].context,
            actions=[
                ActionResponse(action='get_user', body={'real': 'other', 'n': 0}),
            ],
        ),
        JobResponse(
            context=results[2].context,
            actions=[
                REAL,
                ActionResponse(action='get_user', body={'stub': 1}),
            ],
        ),
        JobResponse(context=results[3].context, actions=[REAL]),
    ]


def test_call_jobs_parallel_catching_a_stubbed_receive_error(client: Client) -> None:
    error = MessageReceiveTimeout('lost')
    with stub_action('svc', 'get_user', side_effect=error):
        results = client.call_jobs_parallel(
            [
                {'service_name': 'svc', 'actions': actions('echo')},
                {'service_name': 'svc', 'actions': actions('get_user')},
            ],
            catch_transport_errors=True,
        )

    assert results[0].actions == [REAL]  # type: ignore[union-attr]
    assert results[1] is error


def test_call_actions_parallel_raising_a_stubbed_receive_error(client: Client) -> None:
    with stub_action('svc', 'get_user', side_effect=[{'ok': True}, MessageReceiveTimeout('lost')]):
        with pytest.raises(MessageReceiveTimeout):
            client.call_actions_parallel('svc', actions('get_user', 'get_user'))


# Futures ------------------------------------------------------------------------------------------------------------


def test_call_action_future(client: Client, stubbed_get_user: Any) -> None:
    future = client.call_action_future('svc', 'get_user', {'n': 0})

    assert stubbed_get_user.call_count == 1
    assert future.result() == STUBBED


def test_call_actions_future(client: Client, stubbed_get_user: Any) -> None:
    future = client.call_actions_future('svc', actions('echo', 'get_user'))

    assert future.result().actions == [REAL, ActionResponse(action='get_user', body={'stub': 1})]


def test_call_actions_parallel_future(client: Client, stubbed_get_user: Any) -> None:
    future = client.call_actions_parallel_future('svc', actions('get_user', 'echo'))

    assert list(future.result()) == [STUBBED, ActionResponse(action='echo', body={'real': 'svc', 'n': 1})]


def test_call_jobs_parallel_future(client: Client, stubbed_get_user: Any) -> None:
    future = client.call_jobs_parallel_future(
        [
            {'service_name': 'svc', 'actions': actions('get_user')},
            {'service_name': 'svc', 'actions': actions('echo')},
        ]
    )

    assert [result.actions for result in future.result()] == [[STUBBED], [REAL]]  # type: ignore[union-attr]


def test_futures_for_stubbed_and_real_jobs_resolve_in_any_order(client: Client, stubbed_get_user: Any) -> None:
    stubbed = client.call_action_future('svc', 'get_user', {'n': 0})
    real = client.call_action_future('svc', 'echo', {'n': 0})
    mixed = client.call_actions_future('svc', actions('echo', 'get_user'))

    assert mixed.result().actions == [REAL, ActionResponse(action='get_user', body={'stub': 1})]
    assert real.result() == REAL
    assert stubbed.result() == STUBBED


def test_future_sent_while_stubbed_resolves_after_the_stub_stopped(client: Client) -> None:
    with stub_action('svc', 'get_user', body={'stub': True}):
        future = client.call_actions_future('svc', actions('get_user', 'echo'))

    assert [action.body for action in future.result().actions] == [{'stub': True}, {'real': 'svc', 'n': 1}]


def test_future_raises_a_stubbed_receive_error_when_asked_for_the_result(client: Client) -> None:
    with stub_action('svc', 'get_user', side_effect=MessageReceiveTimeout('lost')):
        future = client.call_action_future('svc', 'get_user')
        with pytest.raises(MessageReceiveTimeout):
            future.result()


# send_request and get_all_responses ---------------------------------------------------------------------------------


def test_get_all_responses_yields_real_responses_then_stubbed_ones(client: Client, stubbed_get_user: Any) -> None:
    stubbed_id = client.send_request('svc', actions('get_user'))
    real_id = client.send_request('svc', actions('echo'))
    mixed_id = client.send_request('svc', actions('echo', 'get_user'))

    responses = list(client.get_all_responses('svc'))

    assert [request_id for request_id, _ in responses] == [real_id, mixed_id, stubbed_id]
    assert responses[0][1].actions == [REAL]
    assert responses[1][1].actions == [REAL, ActionResponse(action='get_user', body={'stub': 1})]
    assert responses[2][1] == JobResponse(actions=[STUBBED])
    assert list(client.get_all_responses('svc')) == []


def test_get_all_responses_of_an_unconfigured_stubbed_service(client: Client) -> None:
    with stub_action('ghost', 'get_user', body={'ghost': True}):
        request_id = client.send_request('ghost', [{'action': 'get_user'}])

        assert list(client.get_all_responses('ghost')) == [
            (request_id, JobResponse(actions=[ActionResponse(action='get_user', body={'ghost': True})])),
        ]


# Expansions ---------------------------------------------------------------------------------------------------------


EXPANSION_CONFIG: Dict[str, Any] = {
    'type_routes': {
        'user_route': {'service': 'ghost', 'action': 'get_users', 'request_field': 'ids', 'response_field': 'users'},
    },
    'type_expansions': {
        'event': {
            'host': {'type': 'user', 'route': 'user_route', 'source_field': 'host_id', 'destination_field': 'host'},
        },
    },
}


def test_expansions_are_fetched_from_stubbed_services() -> None:
    client = make_client(expansion_config=EXPANSION_CONFIG)
    event = {'_type': 'event', 'id': 1, 'host_id': 7}
    with (
        stub_action('ghost', 'get_events', body={'events': [event]}),
        stub_action(
            'ghost',
            'get_users',
            side_effect=lambda body: {'users': {i: {'_type': 'user', 'id': i} for i in body['ids']}},
        ) as get_users,
    ):
        response = client.call_action('ghost', 'get_events', expansions={'event': ['host']})

    assert response.body['events'] == [{'_type': 'event', 'id': 1, 'host_id': 7, 'host': {'_type': 'user', 'id': 7}}]
    assert get_users.call_bodies == ({'ids': [7]},)
