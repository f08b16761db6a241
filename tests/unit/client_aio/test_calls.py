"""
Every call of the AsyncClient against in-process services (the local transport): what each returns, which errors it
raises, the headers its requests carry, and that many calls at once each get their own response.
"""

import asyncio
import types
from typing import (
    Any,
    Awaitable,
    Dict,
    List,
)

import pytest

from pysoa.client.aio import (
    AsyncClient,
    ClientClosedError,
)
from pysoa.client.errors import (
    CallActionError,
    CallJobError,
    ImproperlyConfigured,
)
from pysoa.common.errors import Error
from pysoa.common.types import (
    ActionRequest,
    ActionResponse,
    JobResponse,
)
from tests.unit.client_aio.support import (
    HandDeliveredAsyncTransport,
    hand_delivered_client,
    local_config,
    run_async,
    transport_of,
    wait_until,
)


# call_action ----------------------------------------------------------------------------------------------------------


@run_async
async def test_call_action_returns_the_action_response() -> None:
    async with AsyncClient(local_config()) as client:
        response = await client.call_action('svc', 'square', {'number': 7})

    assert response == ActionResponse(action='square', errors=[], body={'square': 49})


@run_async
async def test_call_action_raises_call_action_error_with_the_failed_action() -> None:
    async with AsyncClient(local_config()) as client:
        with pytest.raises(CallActionError) as raised:
            await client.call_action('svc', 'fail')

    assert [(a.action, [e.code for e in a.errors]) for a in raised.value.actions] == [('fail', ['BROKEN'])]


@run_async
async def test_call_action_returns_the_failed_action_when_action_errors_are_not_raised() -> None:
    async with AsyncClient(local_config()) as client:
        response = await client.call_action('svc', 'fail', raise_action_errors=False)

    assert (response.action, [e.code for e in response.errors]) == ('fail', ['BROKEN'])


@run_async
async def test_call_action_raises_call_job_error_when_the_job_fails() -> None:
    async with AsyncClient(local_config()) as client:
        with pytest.raises(CallJobError) as raised:
            await client.call_action('svc', 'forbidden')

    assert [e.code for e in raised.value.errors] == ['FORBIDDEN']


@run_async
async def test_call_action_returns_the_job_errors_when_job_errors_are_not_raised() -> None:
    async with AsyncClient(local_config()) as client:
        errors: Any = await client.call_action('svc', 'forbidden', raise_job_errors=False)

    assert isinstance(errors, list)
    assert [e.code for e in errors] == ['FORBIDDEN']


# call_actions ---------------------------------------------------------------------------------------------------------


@run_async
async def test_call_actions_returns_the_job_response_with_each_action_in_order() -> None:
    async with AsyncClient(local_config()) as client:
        response = await client.call_actions(
            'svc',
            [
                ActionRequest(action='square', body={'number': 3}),
                {'action': 'echo', 'body': {'word': 'hello'}},
            ],
        )

    assert isinstance(response, JobResponse)
    assert [(a.action, a.body) for a in response.actions] == [('square', {'square': 9}), ('echo', {'word': 'hello'})]


@run_async
async def test_call_actions_stops_at_a_failed_action_unless_told_to_continue() -> None:
    actions: List[Dict[str, Any]] = [{'action': 'fail'}, {'action': 'echo', 'body': {'ran': True}}]
    async with AsyncClient(local_config()) as client:
        stopped = await client.call_actions('svc', actions, raise_action_errors=False)
        continued = await client.call_actions('svc', actions, raise_action_errors=False, continue_on_error=True)

    assert [a.action for a in stopped.actions] == ['fail']
    assert [a.action for a in continued.actions] == ['fail', 'echo']


# Parallel calls -------------------------------------------------------------------------------------------------------


@run_async
async def test_call_actions_parallel_returns_a_generator_of_the_responses_in_order() -> None:
    async with AsyncClient(local_config()) as client:
        results = await client.call_actions_parallel(
            'svc', [{'action': 'square', 'body': {'number': n}} for n in range(5)]
        )

    assert isinstance(results, types.GeneratorType)
    assert [r.body for r in results] == [{'square': n * n} for n in range(5)]


@run_async
async def test_call_actions_parallel_gives_job_errors_in_place_when_not_raised() -> None:
    async with AsyncClient(local_config()) as client:
        results = list(
            await client.call_actions_parallel(
                'svc',
                [{'action': 'echo', 'body': {'n': 1}}, {'action': 'forbidden'}],
                raise_job_errors=False,
            )
        )

    assert isinstance(results[0], ActionResponse)
    assert isinstance(results[1], list)
    assert [e.code for e in results[1] if isinstance(e, Error)] == ['FORBIDDEN']


@run_async
async def test_call_jobs_parallel_calls_several_services_and_keeps_the_order_of_the_jobs() -> None:
    async with AsyncClient(local_config()) as client:
        results = await client.call_jobs_parallel(
            [
                {'service_name': 'other', 'actions': [{'action': 'echo', 'body': {'job': 1}}]},
                {'service_name': 'svc', 'actions': [{'action': 'square', 'body': {'number': 4}}]},
                {'service_name': 'other', 'actions': [{'action': 'echo', 'body': {'job': 3}}]},
            ]
        )

    bodies = [r.actions[0].body for r in results if isinstance(r, JobResponse)]
    assert bodies == [{'job': 1}, {'square': 16}, {'job': 3}]


@run_async
async def test_call_jobs_parallel_raises_the_action_error_of_a_failed_job() -> None:
    async with AsyncClient(local_config()) as client:
        with pytest.raises(CallActionError) as raised:
            await client.call_jobs_parallel(
                [
                    {'service_name': 'svc', 'actions': [{'action': 'echo'}]},
                    {'service_name': 'other', 'actions': [{'action': 'fail'}]},
                ]
            )

    assert [a.action for a in raised.value.actions] == ['fail']


# send_request and get_all_responses -----------------------------------------------------------------------------------


@run_async
async def test_get_all_responses_yields_every_response_to_the_requests_sent() -> None:
    async with AsyncClient(local_config()) as client:
        first = await client.send_request('svc', [{'action': 'square', 'body': {'number': 2}}])
        second = await client.send_request('svc', [{'action': 'square', 'body': {'number': 3}}])
        responses = {request_id: response async for request_id, response in client.get_all_responses('svc')}

    assert {request_id: r.actions[0].body for request_id, r in responses.items()} == {
        first: {'square': 4},
        second: {'square': 9},
    }


@run_async
async def test_get_all_responses_yields_only_the_responses_of_the_current_task() -> None:
    async with AsyncClient(local_config()) as client:

        async def send_and_collect(number: int) -> List[Any]:
            await client.send_request('svc', [{'action': 'square', 'body': {'number': number}}])
            await asyncio.sleep(0)  # let the other task send too
            return [r.actions[0].body async for _, r in client.get_all_responses('svc')]

        collected = await asyncio.gather(send_and_collect(5), send_and_collect(6))

    assert list(collected) == [[{'square': 25}], [{'square': 36}]]


@run_async
async def test_get_all_responses_yields_nothing_when_nothing_was_sent() -> None:
    async with AsyncClient(local_config()) as client:
        responses = [pair async for pair in client.get_all_responses('svc')]

    assert responses == []


@run_async
async def test_a_request_suppressing_its_response_leaves_nothing_to_collect() -> None:
    async with AsyncClient(local_config()) as client:
        await client.send_request('svc', [{'action': 'echo'}], suppress_response=True)
        responses = [pair async for pair in client.get_all_responses('svc')]

        assert responses == []
        assert client.handlers['svc'].waiting == 0


# Headers --------------------------------------------------------------------------------------------------------------


@run_async
async def test_requests_carry_the_base_context_its_correlation_id_and_the_calls_switches() -> None:
    base = {'correlation_id': 'from-the-caller', 'switches': [1], 'user': 'ada'}
    async with AsyncClient(local_config(), context=base) as client:
        response = await client.call_action('svc', 'headers', switches=[2], context={'locale': 'fr', 'switches': [3]})

    context = response.body['context']
    assert (context['correlation_id'], sorted(context['switches']), context['user'], context['locale']) == (
        'from-the-caller',
        [1, 2, 3],
        'ada',
        'fr',
    )


@run_async
async def test_a_call_gives_its_own_correlation_id_or_a_new_one() -> None:
    async with AsyncClient(local_config()) as client:
        given = await client.call_action('svc', 'headers', correlation_id='chosen')
        new_one = await client.call_action('svc', 'headers')

    assert given.body['context']['correlation_id'] == 'chosen'
    assert len(new_one.body['context']['correlation_id']) == 32


@run_async
async def test_the_timeout_of_a_call_travels_in_the_control_header_with_control_extra() -> None:
    async with AsyncClient(local_config()) as client:
        response = await client.call_action('svc', 'headers', timeout=7, control_extra={'priority': 'high'})

    assert response.body['control'] == {
        'continue_on_error': False,
        'suppress_response': False,
        'timeout': 7,
        'priority': 'high',
    }


# Many calls at once ---------------------------------------------------------------------------------------------------


@run_async
async def test_many_calls_at_once_each_get_their_own_response() -> None:
    async with AsyncClient(local_config()) as client:
        responses = await asyncio.gather(*(client.call_action('svc', 'square', {'number': n}) for n in range(300)))

        assert [r.body['square'] for r in responses] == [n * n for n in range(300)]
        assert client.handlers['svc'].waiting == 0


# Configuration and closing --------------------------------------------------------------------------------------------


@run_async
async def test_calling_an_unknown_service_raises_improperly_configured() -> None:
    async with AsyncClient(local_config()) as client:
        with pytest.raises(ImproperlyConfigured, match='Unrecognized service name "nope"'):
            await client.call_action('nope', 'echo')


@run_async
async def test_a_service_name_that_is_not_a_string_raises_value_error() -> None:
    async with AsyncClient(local_config()) as client:
        with pytest.raises(ValueError, match='must be unicode'):
            await client.call_action(b'svc', 'echo')  # type: ignore[arg-type]


@run_async
async def test_calls_after_closing_raise_client_closed_error() -> None:
    client = AsyncClient(local_config())
    await client.call_action('svc', 'echo')
    await client.close()

    with pytest.raises(ClientClosedError):
        await client.call_action('svc', 'echo')
    with pytest.raises(ClientClosedError):
        await client.call_action('other', 'echo')


def test_an_invalid_configuration_raises_when_the_client_is_made() -> None:
    with pytest.raises(Exception, match='transport'):
        AsyncClient({'svc': {'transport': {'path': 'no.such.module:Transport'}}})


# The wire form --------------------------------------------------------------------------------------------------------


async def _answered(transport: HandDeliveredAsyncTransport, call: Awaitable[Any]) -> None:
    """Await a call whose request the transport delivers an answer to as soon as it is sent."""
    sent = len(transport.sent)
    task = asyncio.ensure_future(call)
    await wait_until(lambda: len(transport.sent) > sent, 'the request')
    transport.deliver(transport.request_ids()[-1])
    await task


@run_async
async def test_call_action_sends_the_job_call_actions_sends_as_copies_of_the_callers_data() -> None:
    body = {'numbers': (1, 2), 'nested': {'kept': ['x']}}
    control_extra = {'flags': {'f'}}
    context = {'extra': ('e',)}
    async with hand_delivered_client() as client:
        client.context = {'correlation_id': 'chosen', 'tags': {'a'}}
        transport = transport_of(client)
        job = [{'action': 'echo', 'body': body}]
        await _answered(
            transport, client.call_actions('svc', job, timeout=3, control_extra=control_extra, context=context)
        )
        # The service's handler exists now: call_action builds its job in wire form.
        await _answered(
            transport, client.call_action('svc', 'echo', body, timeout=3, control_extra=control_extra, context=context)
        )
    body['nested']['kept'].append('changed after the calls')  # type: ignore[index]

    (_, _, as_job, _), (_, _, as_action, _) = transport.sent
    assert as_action == as_job
    assert as_action == {
        'control': {'continue_on_error': False, 'suppress_response': False, 'timeout': 3, 'flags': ['f']},
        'context': {'correlation_id': 'chosen', 'tags': ['a'], 'switches': [], 'extra': ['e']},
        'actions': [{'action': 'echo', 'body': {'numbers': [1, 2], 'nested': {'kept': ['x']}}}],
    }
