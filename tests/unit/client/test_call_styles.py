"""Every way of calling a service: one action, a job, parallel actions and jobs, futures, and raw requests."""

import types

from pysoa.client.client import (
    Client,
    FutureSOAResponse,
)
from pysoa.common.types import (
    ActionRequest,
    ActionResponse,
    JobResponse,
)

from .services import (
    recorder_of,
    transport_of,
)


# call_action --------------------------------------------------------------------------------------------------------


def test_call_action_returns_the_action_response(client: Client) -> None:
    response = client.call_action('svc', 'square', {'number': 7})

    assert response == ActionResponse(action='square', body={'square': 49})


def test_call_action_sends_one_job_with_one_action(client: Client) -> None:
    client.call_action('svc', 'echo', {'a': 1})

    [job_request] = recorder_of(client, 'svc').job_requests
    assert job_request.actions == [ActionRequest(action='echo', body={'a': 1})]
    assert job_request.control['continue_on_error'] is False


def test_call_action_without_body_sends_an_empty_body(client: Client) -> None:
    response = client.call_action('svc', 'echo')

    assert response.body == {}
    assert recorder_of(client, 'svc').job_requests[0].actions == [ActionRequest(action='echo', body={})]


def test_call_action_with_empty_response_body(client: Client) -> None:
    assert client.call_action('svc', 'empty') == ActionResponse(action='empty', body={})


# call_actions -------------------------------------------------------------------------------------------------------


def test_call_actions_returns_the_job_response_with_actions_in_order(client: Client) -> None:
    response = client.call_actions(
        'svc',
        [
            {'action': 'square', 'body': {'number': 2}},
            ActionRequest(action='echo', body={'b': 2}),
            {'action': 'empty'},
        ],
    )

    assert isinstance(response, JobResponse)
    assert response.errors == []
    assert response.actions == [
        ActionResponse(action='square', body={'square': 4}),
        ActionResponse(action='echo', body={'b': 2}),
        ActionResponse(action='empty', body={}),
    ]


def test_call_actions_sends_all_actions_in_one_job(client: Client) -> None:
    client.call_actions('svc', [{'action': 'echo', 'body': {'n': 1}}, {'action': 'echo', 'body': {'n': 2}}])

    [job_request] = recorder_of(client, 'svc').job_requests
    assert [action.body for action in job_request.actions] == [{'n': 1}, {'n': 2}]


def test_call_actions_response_echoes_the_correlation_id(client: Client) -> None:
    response = client.call_actions('svc', [{'action': 'echo'}], correlation_id='abc')

    assert response.context['correlation_id'] == 'abc'


def test_call_actions_stops_at_the_first_failing_action_by_default(client: Client) -> None:
    response = client.call_actions(
        'svc',
        [{'action': 'echo'}, {'action': 'fail'}, {'action': 'echo'}],
        raise_action_errors=False,
    )

    assert [action.action for action in response.actions] == ['echo', 'fail']
    assert recorder_of(client, 'svc').job_requests[0].control['continue_on_error'] is False


def test_call_actions_with_continue_on_error_runs_the_remaining_actions(client: Client) -> None:
    response = client.call_actions(
        'svc',
        [{'action': 'echo'}, {'action': 'fail'}, {'action': 'echo'}],
        continue_on_error=True,
        raise_action_errors=False,
    )

    assert [action.action for action in response.actions] == ['echo', 'fail', 'echo']
    assert [bool(action.errors) for action in response.actions] == [False, True, False]
    assert recorder_of(client, 'svc').job_requests[0].control['continue_on_error'] is True


# call_actions_parallel ----------------------------------------------------------------------------------------------


def test_call_actions_parallel_returns_a_generator_of_action_responses_in_order(client: Client) -> None:
    results = client.call_actions_parallel(
        'svc',
        [
            {'action': 'square', 'body': {'number': 3}},
            ActionRequest(action='echo', body={'x': 'y'}),
            {'action': 'square', 'body': {'number': 4}},
        ],
    )

    assert isinstance(results, types.GeneratorType)
    assert list(results) == [
        ActionResponse(action='square', body={'square': 9}),
        ActionResponse(action='echo', body={'x': 'y'}),
        ActionResponse(action='square', body={'square': 16}),
    ]


def test_call_actions_parallel_sends_one_job_per_action_before_receiving_any(client: Client) -> None:
    client.call_actions_parallel('svc', [{'action': 'echo'}, {'action': 'empty'}])

    recorder = recorder_of(client, 'svc')
    first_id, second_id = (request_id for request_id, _, _, _ in recorder.requests)
    assert [[a.action for a in job.actions] for job in recorder.job_requests] == [['echo'], ['empty']]
    assert recorder.events == [('send', first_id), ('send', second_id), ('receive', first_id), ('receive', second_id)]


def test_call_actions_parallel_with_no_actions_yields_nothing(client: Client) -> None:
    assert list(client.call_actions_parallel('svc', [])) == []


# call_jobs_parallel -------------------------------------------------------------------------------------------------


def test_call_jobs_parallel_returns_job_responses_in_job_order_across_services(client: Client) -> None:
    results = client.call_jobs_parallel(
        [
            {'service_name': 'svc', 'actions': [{'action': 'echo', 'body': {'job': 1}}]},
            {'service_name': 'other', 'actions': [{'action': 'echo', 'body': {'job': 2}}]},
            {'service_name': 'svc', 'actions': [{'action': 'echo', 'body': {'job': 3}}, {'action': 'empty'}]},
            {'service_name': 'other', 'actions': [{'action': 'square', 'body': {'number': 5}}]},
        ]
    )

    assert all(isinstance(result, JobResponse) for result in results)
    assert [[action.body for action in result.actions] for result in results] == [
        [{'job': 1}],
        [{'job': 2}],
        [{'job': 3}, {}],
        [{'square': 25}],
    ]
    assert len(recorder_of(client, 'svc').requests) == 2
    assert len(recorder_of(client, 'other').requests) == 2


def test_call_jobs_parallel_passes_continue_on_error_to_every_job(client: Client) -> None:
    results = client.call_jobs_parallel(
        [
            {'service_name': 'svc', 'actions': [{'action': 'fail'}, {'action': 'echo'}]},
            {'service_name': 'other', 'actions': [{'action': 'fail'}, {'action': 'echo'}]},
        ],
        continue_on_error=True,
        raise_action_errors=False,
    )

    assert [len(result.actions) for result in results] == [2, 2]


def test_call_jobs_parallel_with_no_jobs_returns_an_empty_list(client: Client) -> None:
    assert client.call_jobs_parallel([]) == []


# Futures ------------------------------------------------------------------------------------------------------------


def test_call_action_future_sends_at_once_and_resolves_to_the_action_response(client: Client) -> None:
    future = client.call_action_future('svc', 'square', {'number': 6})

    assert isinstance(future, FutureSOAResponse)
    assert len(transport_of(client, 'svc').sent) == 1
    assert recorder_of(client, 'svc').responses == []
    assert future.result() == ActionResponse(action='square', body={'square': 36})


def test_call_actions_future_resolves_to_the_job_response(client: Client) -> None:
    future = client.call_actions_future('svc', [{'action': 'echo', 'body': {'a': 1}}, {'action': 'empty'}])

    response = future.result()

    assert isinstance(response, JobResponse)
    assert [action.body for action in response.actions] == [{'a': 1}, {}]


def test_call_actions_parallel_future_resolves_to_a_generator_of_action_responses(client: Client) -> None:
    future = client.call_actions_parallel_future('svc', [{'action': 'echo', 'body': {'n': 1}}, {'action': 'empty'}])

    assert len(transport_of(client, 'svc').sent) == 2
    assert list(future.result()) == [ActionResponse(action='echo', body={'n': 1}), ActionResponse(action='empty')]


def test_call_jobs_parallel_future_resolves_to_the_list_of_job_responses(client: Client) -> None:
    future = client.call_jobs_parallel_future(
        [
            {'service_name': 'other', 'actions': [{'action': 'echo', 'body': {'n': 1}}]},
            {'service_name': 'svc', 'actions': [{'action': 'echo', 'body': {'n': 2}}]},
        ]
    )

    assert len(transport_of(client, 'svc').sent) == 1
    assert len(transport_of(client, 'other').sent) == 1
    results = future.result()
    assert [result.actions[0].body for result in results] == [{'n': 1}, {'n': 2}]  # type: ignore[union-attr]


# send_request and get_all_responses ---------------------------------------------------------------------------------


def test_send_request_returns_the_request_id_and_get_all_responses_yields_each_response(client: Client) -> None:
    first = client.send_request('svc', [{'action': 'echo', 'body': {'n': 1}}])
    second = client.send_request('svc', [ActionRequest(action='echo', body={'n': 2})])

    responses = dict(client.get_all_responses('svc'))

    assert sorted(responses) == sorted([first, second])
    assert responses[first].actions == [ActionResponse(action='echo', body={'n': 1})]
    assert responses[second].actions == [ActionResponse(action='echo', body={'n': 2})]


def test_get_all_responses_yields_nothing_when_no_request_is_outstanding(client: Client) -> None:
    client.send_request('svc', [{'action': 'echo'}])
    list(client.get_all_responses('svc'))

    assert list(client.get_all_responses('svc')) == []


def test_get_all_responses_passes_the_receive_timeout_to_the_transport(client: Client) -> None:
    client.send_request('svc', [{'action': 'echo'}])

    list(client.get_all_responses('svc', receive_timeout_in_seconds=9))

    assert set(transport_of(client, 'svc').receive_timeouts) == {9}


def test_send_request_passes_the_message_expiry_to_the_transport(client: Client) -> None:
    client.send_request('svc', [{'action': 'echo'}], message_expiry_in_seconds=12)

    [(_, _, _, expiry)] = transport_of(client, 'svc').sent
    assert expiry == 12


def test_send_request_with_suppress_response_gets_no_response(client: Client) -> None:
    client.send_request('svc', [{'action': 'echo'}], suppress_response=True)

    assert recorder_of(client, 'svc').job_requests[0].control['suppress_response'] is True
    assert list(client.get_all_responses('svc')) == []


def test_suppressed_response_does_not_disturb_later_calls(client: Client) -> None:
    client.send_request('svc', [{'action': 'echo', 'body': {'n': 1}}], suppress_response=True)

    assert client.call_action('svc', 'echo', {'n': 2}).body == {'n': 2}


def test_send_request_does_not_perform_expansions(client: Client) -> None:
    client.send_request('svc', [{'action': 'echo', 'body': {'_type': 'event', 'venue_id': 'v1'}}])

    [(_, response)] = list(client.get_all_responses('svc'))
    assert response.actions[0].body == {'_type': 'event', 'venue_id': 'v1'}


def test_response_to_a_sent_request_received_by_another_call_is_kept_for_get_all_responses(client: Client) -> None:
    request_id = client.send_request('svc', [{'action': 'echo', 'body': {'sent': True}}])

    assert client.call_action('svc', 'echo', {'called': True}).body == {'called': True}

    [(response_id, response)] = list(client.get_all_responses('svc'))
    assert response_id == request_id
    assert response.actions[0].body == {'sent': True}


# Timeouts -----------------------------------------------------------------------------------------------------------


def test_call_timeout_is_the_message_expiry_and_the_receive_timeout(client: Client) -> None:
    client.call_action('svc', 'echo', timeout=5)

    [(_, _, _, expiry)] = transport_of(client, 'svc').sent
    assert expiry == 5
    assert set(transport_of(client, 'svc').receive_timeouts) == {5}


def test_call_without_timeout_leaves_expiry_and_receive_timeout_to_the_transport(client: Client) -> None:
    client.call_actions('svc', [{'action': 'echo'}])

    [(_, _, _, expiry)] = transport_of(client, 'svc').sent
    assert expiry is None
    assert set(transport_of(client, 'svc').receive_timeouts) == {None}


def test_future_result_timeout_overrides_the_call_timeout_for_receiving(client: Client) -> None:
    future = client.call_jobs_parallel_future(
        [{'service_name': 'svc', 'actions': [{'action': 'echo'}]}],
        timeout=5,
    )

    future.result(2)

    assert set(transport_of(client, 'svc').receive_timeouts) == {2}
    assert transport_of(client, 'svc').sent[0][3] == 5
