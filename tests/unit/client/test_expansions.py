"""
Expansions end to end: objects with a ``_type`` returned by one service are filled in with related objects fetched, in
bulk, from the services their expansion routes name.
"""

import logging
from typing import (
    Any,
    Dict,
    List,
    Type,
)

import pytest

from pysoa.client.client import Client
from pysoa.common.errors import Error
from pysoa.common.transport.errors import MessageReceiveTimeout
from pysoa.server.server import Server

from .services import (
    ADDRESSES,
    EXPANSION_CONFIG,
    MODULE,
    VENUES,
    EventsServer,
    PlacesServer,
    local_service,
    recorder_of,
    transport_of,
)


def limited_service(server_class: Type[Server]) -> Dict[str, Any]:
    """In-process settings for the service that stop a runaway expansion loop after 10 requests."""
    settings = local_service(server_class)
    settings['middleware'].append({'path': f'{MODULE}:RequestLimitMiddleware', 'kwargs': {'limit': 10}})
    return settings


@pytest.fixture
def client() -> Client:
    return Client(
        {'events': limited_service(EventsServer), 'places': limited_service(PlacesServer)},
        expansion_config=EXPANSION_CONFIG,
    )


def get_events(client: Client, *ids: str, **kwargs: Any) -> List[Dict[str, Any]]:
    events: List[Dict[str, Any]] = client.call_action('events', 'get_events', {'ids': list(ids)}, **kwargs).body[
        'events'
    ]
    return events


def requests_for(client: Client, service_name: str, action_name: str) -> List[Dict[str, Any]]:
    """The bodies of the requests the client sent for an action."""
    if service_name not in client.handlers:
        return []
    return [
        action.body
        for job in recorder_of(client, service_name).job_requests
        for action in job.actions
        if action.action == action_name
    ]


# Basic expansion ----------------------------------------------------------------------------------------------------


def test_expansion_fetches_the_object_from_the_route_service(client: Client) -> None:
    [event] = get_events(client, 'e3', expansions={'event': ['venue']})

    assert event == {'_type': 'event', 'id': 'e3', 'venue_id': 'v2', 'venue': VENUES['v2']}
    assert requests_for(client, 'places', 'get_venues') == [{'venue_ids': ['v2']}]


def test_objects_not_asked_for_are_not_expanded(client: Client) -> None:
    [event] = get_events(client, 'e1', expansions={'event': ['venue']})

    assert 'host' not in event
    assert requests_for(client, 'events', 'get_people') == []


def test_several_expansions_of_one_type(client: Client) -> None:
    [event] = get_events(client, 'e1', expansions={'event': ['venue', 'host']})

    assert event['venue'] == VENUES['v1']
    assert event['host'] == {'_type': 'person', 'id': 'alice', 'friend_id': 'bob'}


def test_nested_expansion_expands_the_expanded_object(client: Client) -> None:
    [event] = get_events(client, 'e1', expansions={'event': ['venue.address']})

    assert event['venue'] == dict(VENUES['v1'], address=ADDRESSES['a1'])
    assert requests_for(client, 'places', 'get_addresses') == [{'address_ids': ['a1']}]


def test_objects_without_the_source_value_are_not_expanded(client: Client) -> None:
    [event] = get_events(client, 'e6', expansions={'event': ['venue']})

    assert 'venue' not in event
    assert 'places' not in client.handlers


def test_object_already_holding_the_destination_field_is_not_expanded(client: Client) -> None:
    [event] = get_events(client, 'e7', expansions={'event': ['venue']})

    assert event['venue'] == 'already here'
    assert 'places' not in client.handlers


def test_expansion_requests_carry_the_call_headers(client: Client) -> None:
    get_events(client, 'e1', expansions={'event': ['venue']}, correlation_id='corr', switches=[5], timeout=7)

    [(_, _, job_request, expiry)] = recorder_of(client, 'places').requests
    assert job_request.context['correlation_id'] == 'corr'
    assert job_request.context['switches'] == [5]
    assert job_request.control['timeout'] == 7
    assert expiry == 7


def test_expansion_requests_do_not_inherit_continue_on_error_from_the_call(client: Client) -> None:
    client.call_actions(
        'events',
        [{'action': 'get_events', 'body': {'ids': ['e1']}}],
        expansions={'event': ['venue']},
        continue_on_error=True,
    )

    [(_, _, job_request, _)] = recorder_of(client, 'places').requests
    assert job_request.control['continue_on_error'] is False


def test_expansions_work_for_call_actions(client: Client) -> None:
    response = client.call_actions(
        'events',
        [{'action': 'get_events', 'body': {'ids': [i]}} for i in ('e1', 'e3')],
        expansions={'event': ['venue']},
    )

    assert [action.body['events'][0]['venue'] for action in response.actions] == [VENUES['v1'], VENUES['v2']]
    assert len(requests_for(client, 'places', 'get_venues')) == 1


# Bulk requests ------------------------------------------------------------------------------------------------------


def test_values_are_deduplicated_into_one_request_per_action(client: Client) -> None:
    events = get_events(client, 'e1', 'e2', 'e3', expansions={'event': ['venue']})

    assert [event['venue'] for event in events] == [VENUES['v1'], VENUES['v1'], VENUES['v2']]
    [request] = requests_for(client, 'places', 'get_venues')
    assert sorted(request['venue_ids']) == ['v1', 'v2']


def test_expansions_of_parallel_jobs_share_the_bulk_requests(client: Client) -> None:
    results = client.call_jobs_parallel(
        [
            {'service_name': 'events', 'actions': [{'action': 'get_events', 'body': {'ids': ['e1']}}]},
            {'service_name': 'events', 'actions': [{'action': 'get_events', 'body': {'ids': ['e2', 'e3']}}]},
        ],
        expansions={'event': ['venue']},
    )

    events = [event for result in results for event in result.actions[0].body['events']]
    assert [event['venue']['id'] for event in events] == ['v1', 'v1', 'v2']
    [request] = requests_for(client, 'places', 'get_venues')
    assert sorted(request['venue_ids']) == ['v1', 'v2']


def test_expansions_work_for_parallel_actions(client: Client) -> None:
    results = list(
        client.call_actions_parallel(
            'events',
            [{'action': 'get_events', 'body': {'ids': [i]}} for i in ('e1', 'e3')],
            expansions={'event': ['venue.address']},
        )
    )

    assert [r.body['events'][0]['venue']['address'] for r in results] == [
        ADDRESSES['a1'],
        ADDRESSES['a2'],
    ]


def test_expansions_work_for_futures(client: Client) -> None:
    future = client.call_action_future('events', 'get_events', {'ids': ['e3']}, expansions={'event': ['venue']})

    assert 'places' not in client.handlers  # nothing is expanded before the result is asked for
    assert future.result().body['events'][0]['venue'] == VENUES['v2']


# Recursion --------------------------------------------------------------------------------------------------------


def test_object_graph_that_refers_back_to_itself_terminates(client: Client, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger='pysoa.client.client'):
        response = client.call_action(
            'events',
            'get_people',
            {'person_ids': ['alice']},
            expansions={
                'person': ['friend'],
            },
        )

    alice = response.body['people']['alice']
    assert alice['friend']['id'] == 'bob'
    assert alice['friend']['friend'] == {'_type': 'person', 'id': 'alice', 'friend_id': 'bob'}
    assert requests_for(client, 'events', 'get_people') == [
        {'person_ids': ['alice']},  # the call itself
        {'person_ids': ['bob']},  # alice's friend
        {'person_ids': ['alice']},  # bob's friend; alice's friend bob is not asked for again
    ]
    assert any('already requested' in record.getMessage() for record in caplog.records)


def test_expanded_objects_of_a_requested_type_are_expanded_too(client: Client) -> None:
    [event] = get_events(client, 'e1', expansions={'event': ['host'], 'person': ['friend']})

    assert event['host']['id'] == 'alice'
    assert event['host']['friend']['id'] == 'bob'


# Errors -------------------------------------------------------------------------------------------------------------


def test_unknown_expansion_name_raises_invalid_expansion_key(client: Client) -> None:
    with pytest.raises(Client.InvalidExpansionKey) as exc_info:
        get_events(client, 'e1', expansions={'event': ['nothing']})

    assert str(exc_info.value) == 'Invalid key in expansion request: nothing'


def test_unknown_expansion_type_raises_invalid_expansion_key(client: Client) -> None:
    with pytest.raises(Client.InvalidExpansionKey) as exc_info:
        get_events(client, 'e1', expansions={'spaceship': ['venue']})

    assert str(exc_info.value) == 'Invalid key in expansion request: spaceship'


def test_unknown_nested_expansion_name_raises_invalid_expansion_key(client: Client) -> None:
    with pytest.raises(Client.InvalidExpansionKey) as exc_info:
        get_events(client, 'e1', expansions={'event': ['venue.nothing']})

    assert str(exc_info.value) == 'Invalid key in expansion request: nothing'


def test_failing_route_with_raise_action_errors_raises_call_action_error(client: Client) -> None:
    with pytest.raises(Client.CallActionError) as exc_info:
        get_events(client, 'e4', expansions={'event': ['venue']})

    [action] = exc_info.value.actions
    assert action.action == 'get_venues'
    assert [error.code for error in action.errors] == ['NOT_FOUND']


def test_failing_route_without_raise_action_errors_leaves_the_object_unexpanded(client: Client) -> None:
    # The `address` expansion does not raise action errors; venue v3's address does not exist.
    [event] = get_events(client, 'e5', expansions={'event': ['venue.address']})

    assert event['venue'] == VENUES['v3']
    assert 'address' not in event['venue']


def test_job_error_on_a_route_with_raise_action_errors_raises_call_job_error(client: Client) -> None:
    with pytest.raises(Client.CallJobError) as exc_info:
        get_events(client, 'e6', expansions={'event': ['secret']})

    assert exc_info.value.errors == [Error(code='FORBIDDEN', message='This job is not allowed')]


def test_job_error_on_a_route_without_raise_action_errors_is_ignored(client: Client) -> None:
    [event] = get_events(client, 'e6', expansions={'event': ['quiet_secret']})

    assert 'secret' not in event
    assert len(requests_for(client, 'places', 'forbidden')) == 1


def test_errors_of_the_original_call_are_raised_before_expanding(client: Client) -> None:
    with pytest.raises(Client.CallActionError) as exc_info:
        client.call_action('places', 'get_venues', {'venue_ids': ['v404']}, expansions={'venue': ['address']})

    assert exc_info.value.actions[0].action == 'get_venues'
    assert requests_for(client, 'places', 'get_addresses') == []


def test_expansion_response_that_times_out_is_not_kept_for_later(client: Client) -> None:
    client.call_action('places', 'get_venues', {'venue_ids': []})  # creates the transport, so the test can make it fail
    transport_of(client, 'places').receive_errors.append(MessageReceiveTimeout('too slow'))

    with pytest.raises(MessageReceiveTimeout):
        get_events(client, 'e3', expansions={'event': ['venue']})

    # The response the expansion stopped waiting for is dropped when it comes, not handed to the next caller.
    assert list(client.get_all_responses('places')) == []


# No expansion -------------------------------------------------------------------------------------------------------


def test_client_without_expansion_config_ignores_expansions() -> None:
    client = Client({'events': local_service(EventsServer)})

    [event] = get_events(client, 'e1', expansions={'event': ['venue', 'nothing']})

    assert event == {'_type': 'event', 'id': 'e1', 'venue_id': 'v1', 'host_id': 'alice'}
    assert list(client.handlers) == ['events']


def test_call_without_expansions_expands_nothing(client: Client) -> None:
    [event] = get_events(client, 'e1')

    assert 'venue' not in event
    assert 'places' not in client.handlers
