"""FutureSOAResponse: caching of results and exceptions, state queries, and several futures outstanding at once."""

import traceback
from typing import (
    Any,
    List,
    Optional,
)

import pytest

from pysoa.client.client import (
    Client,
    FutureSOAResponse,
)
from pysoa.common.transport.errors import (
    MessageReceiveError,
    MessageReceiveTimeout,
)
from pysoa.common.types import (
    ActionResponse,
    JobResponse,
)

from .services import (
    recorder_of,
    transport_of,
)


class CountingGetResponse:
    """A ``get_response`` callable that returns or raises the given outcomes in turn and counts its calls."""

    def __init__(self, *outcomes: Any) -> None:
        self.outcomes = list(outcomes)
        self.timeouts: List[Optional[int]] = []

    def __call__(self, timeout: Optional[int]) -> Any:
        self.timeouts.append(timeout)
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


# FutureSOAResponse on its own ---------------------------------------------------------------------------------------


def test_result_passes_its_timeout_to_get_response() -> None:
    get_response = CountingGetResponse('response')

    assert FutureSOAResponse(get_response).result(3) == 'response'
    assert get_response.timeouts == [3]


def test_result_is_cached_after_the_first_call() -> None:
    get_response = CountingGetResponse(['response'])
    future = FutureSOAResponse(get_response)

    first = future.result()
    second = future.result()

    assert first == ['response']
    assert second is first
    assert len(get_response.timeouts) == 1


@pytest.mark.parametrize('falsy', [None, [], {}, 0, ''], ids=repr)
def test_falsy_result_is_cached_too(falsy: Any) -> None:
    get_response = CountingGetResponse(falsy)
    future = FutureSOAResponse(get_response)

    assert future.result() == falsy
    assert future.result() == falsy
    assert len(get_response.timeouts) == 1
    assert future.done()


def test_exception_is_cached_and_raised_again() -> None:
    error = ValueError('bad')
    get_response = CountingGetResponse(error)
    future = FutureSOAResponse(get_response)

    with pytest.raises(ValueError) as first:
        future.result()
    with pytest.raises(ValueError) as second:
        future.result()

    assert first.value is error
    assert second.value is error
    assert len(get_response.timeouts) == 1


def test_exception_raised_again_keeps_the_traceback_of_the_first_raise() -> None:
    future = FutureSOAResponse(CountingGetResponse(ValueError('bad')))
    traceback_lengths = []

    for _ in range(3):
        with pytest.raises(ValueError) as exc_info:
            future.result()
        traceback_lengths.append(len(traceback.extract_tb(exc_info.value.__traceback__)))

    assert traceback_lengths[0] == traceback_lengths[1] == traceback_lengths[2]


def test_receive_timeout_is_not_cached_so_a_retry_can_succeed() -> None:
    get_response = CountingGetResponse(MessageReceiveTimeout('slow'), 'response')
    future = FutureSOAResponse(get_response)

    with pytest.raises(MessageReceiveTimeout):
        future.result()
    assert future.running()

    assert future.result() == 'response'
    assert len(get_response.timeouts) == 2


def test_other_transport_errors_are_cached() -> None:
    error = MessageReceiveError('broken')
    get_response = CountingGetResponse(error, 'response')
    future = FutureSOAResponse(get_response)

    with pytest.raises(MessageReceiveError):
        future.result()

    assert future.exception() is error
    assert len(get_response.timeouts) == 1


def test_new_future_is_running_and_not_done() -> None:
    future = FutureSOAResponse(CountingGetResponse('response'))

    assert future.running()
    assert not future.done()


def test_future_is_done_after_result() -> None:
    future = FutureSOAResponse(CountingGetResponse('response'))

    future.result()

    assert future.done()
    assert not future.running()


def test_exception_waits_for_the_outcome_and_returns_none_on_success() -> None:
    get_response = CountingGetResponse('response')
    future = FutureSOAResponse(get_response)

    assert future.exception(4) is None
    assert get_response.timeouts == [4]
    assert future.done()
    assert future.result() == 'response'
    assert len(get_response.timeouts) == 1


def test_exception_returns_the_exception_instead_of_raising_it() -> None:
    error = KeyError('missing')
    future = FutureSOAResponse(CountingGetResponse(error))

    assert future.exception() is error
    assert future.done()
    with pytest.raises(KeyError):
        future.result()


def test_exception_returns_the_exception_cached_by_result() -> None:
    error = KeyError('missing')
    get_response = CountingGetResponse(error)
    future = FutureSOAResponse(get_response)
    with pytest.raises(KeyError):
        future.result()

    assert future.exception() is error
    assert len(get_response.timeouts) == 1


def test_exception_raises_a_receive_timeout_instead_of_returning_it() -> None:
    future = FutureSOAResponse(CountingGetResponse(MessageReceiveTimeout('slow'), 'response'))

    with pytest.raises(MessageReceiveTimeout):
        future.exception()

    assert future.running()
    assert future.exception() is None


# Client futures -----------------------------------------------------------------------------------------------------


def test_client_future_receives_only_once(client: Client) -> None:
    future = client.call_action_future('svc', 'echo', {'a': 1})

    assert future.result() is future.result()
    assert len(recorder_of(client, 'svc').responses) == 1


def test_client_future_caches_a_call_error(client: Client) -> None:
    future = client.call_action_future('svc', 'fail')

    first = future.exception()

    assert isinstance(first, Client.CallActionError)
    with pytest.raises(Client.CallActionError) as exc_info:
        future.result()
    assert exc_info.value is first


def test_client_future_receive_timeout_can_be_retried(client: Client) -> None:
    future = client.call_action_future('svc', 'echo', {'a': 1})
    transport_of(client, 'svc').receive_errors.append(MessageReceiveTimeout('not yet'))

    with pytest.raises(MessageReceiveTimeout):
        future.result()
    assert future.running()

    assert future.result() == ActionResponse(action='echo', body={'a': 1})


def test_future_that_failed_stops_waiting_for_its_response(client: Client) -> None:
    future = client.call_action_future('svc', 'echo', {'a': 1})
    transport_of(client, 'svc').receive_errors.append(MessageReceiveError('connection lost'))

    assert isinstance(future.exception(), MessageReceiveError)

    # Its response, still in the transport, is dropped when it comes, not handed to the next caller.
    assert list(client.get_all_responses('svc')) == []


def test_parallel_future_receive_timeout_can_be_retried(client: Client) -> None:
    future = client.call_jobs_parallel_future(
        [
            {'service_name': 'svc', 'actions': [{'action': 'echo', 'body': {'n': 1}}]},
            {'service_name': 'other', 'actions': [{'action': 'echo', 'body': {'n': 2}}]},
        ]
    )
    transport_of(client, 'other').receive_errors.append(MessageReceiveTimeout('not yet'))

    with pytest.raises(MessageReceiveTimeout):
        future.result()

    results = future.result()
    assert [result.actions[0].body for result in results] == [{'n': 1}, {'n': 2}]  # type: ignore[union-attr]


def test_future_over_no_jobs_caches_its_empty_list(client: Client) -> None:
    future = client.call_jobs_parallel_future([])

    assert future.result() == []
    assert future.result() is future.result()


def test_future_over_no_parallel_actions_caches_its_empty_generator(client: Client) -> None:
    future = client.call_actions_parallel_future('svc', [])

    generator = future.result()

    assert future.result() is generator
    assert list(generator) == []


def test_call_action_future_with_job_errors_not_raised_caches_the_error_list(client: Client) -> None:
    future = client.call_action_future('svc', 'forbidden', raise_job_errors=False)

    errors = future.result()

    assert isinstance(errors, list)
    assert future.result() is errors


# Several outstanding futures on one service (the responses share one transport) ------------------------------------


def test_two_futures_on_one_service_resolved_in_reverse_order(client: Client) -> None:
    first = client.call_action_future('svc', 'echo', {'n': 1})
    second = client.call_action_future('svc', 'echo', {'n': 2})

    assert second.result().body == {'n': 2}
    assert first.result().body == {'n': 1}


def test_three_futures_on_one_service_resolved_in_any_order(client: Client) -> None:
    futures = [client.call_action_future('svc', 'square', {'number': n}) for n in (1, 2, 3)]

    assert futures[1].result().body == {'square': 4}
    assert futures[2].result().body == {'square': 9}
    assert futures[0].result().body == {'square': 1}


def test_each_response_is_received_from_the_transport_once(client: Client) -> None:
    futures = [client.call_action_future('svc', 'echo', {'n': n}) for n in (1, 2, 3)]

    for future in reversed(futures):
        future.result()

    sent_ids = [request_id for request_id, _, _, _ in recorder_of(client, 'svc').requests]
    received_ids = [request_id for request_id, _ in recorder_of(client, 'svc').responses]
    assert received_ids == sent_ids


def test_futures_of_different_call_styles_on_one_service(client: Client) -> None:
    action_future = client.call_action_future('svc', 'echo', {'style': 'action'})
    actions_future = client.call_actions_future('svc', [{'action': 'echo', 'body': {'style': 'actions'}}])
    parallel_future = client.call_actions_parallel_future('svc', [{'action': 'echo', 'body': {'style': 'parallel'}}])

    assert [r.body for r in parallel_future.result()] == [{'style': 'parallel'}]  # type: ignore[union-attr]
    assert actions_future.result().actions[0].body == {'style': 'actions'}
    assert action_future.result().body == {'style': 'action'}


def test_future_and_blocking_parallel_call_interleaved(client: Client) -> None:
    future = client.call_action_future('svc', 'echo', {'from': 'future'})

    results = client.call_jobs_parallel(
        [
            {'service_name': 'svc', 'actions': [{'action': 'echo', 'body': {'from': 'job 1'}}]},
            {'service_name': 'other', 'actions': [{'action': 'echo', 'body': {'from': 'job 2'}}]},
            {'service_name': 'svc', 'actions': [{'action': 'echo', 'body': {'from': 'job 3'}}]},
        ]
    )

    assert [r.actions[0].body for r in results] == [
        {'from': 'job 1'},
        {'from': 'job 2'},
        {'from': 'job 3'},
    ]
    assert future.result().body == {'from': 'future'}


def test_parallel_future_and_blocking_call_interleaved(client: Client) -> None:
    parallel = client.call_actions_parallel_future('svc', [{'action': 'square', 'body': {'number': n}} for n in (2, 3)])

    assert client.call_action('svc', 'echo', {'blocking': True}).body == {'blocking': True}

    assert [r.body for r in parallel.result()] == [{'square': 4}, {'square': 9}]  # type: ignore[union-attr]


def test_blocking_call_between_futures_leaves_their_responses_for_them(client: Client) -> None:
    first = client.call_actions_future('svc', [{'action': 'echo', 'body': {'n': 1}}])
    second = client.call_actions_future('svc', [{'action': 'echo', 'body': {'n': 2}}])

    response = client.call_actions('svc', [{'action': 'echo', 'body': {'n': 3}}])

    assert isinstance(response, JobResponse)
    assert response.actions[0].body == {'n': 3}
    assert first.result().actions[0].body == {'n': 1}
    assert second.result().actions[0].body == {'n': 2}
