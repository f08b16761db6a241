"""
How the AsyncClient hands responses to the calls waiting for them, through a transport whose responses each test
delivers itself, in any order: one receiving task per service, timeouts, cancelled calls, late and stray responses,
errors that stand for one response and errors that stop receiving altogether.
"""

import asyncio
import logging

import pytest

from pysoa.client.aio import ClientClosedError
from pysoa.client.service_handler import InvalidJobResponseError
from pysoa.common.transport.errors import (
    MessageReceiveError,
    MessageReceiveTimeout,
    MessageSendError,
)
from pysoa.common.transport.redis_gateway.core import ExpiredMessageReceived
from pysoa.common.types import JobResponse
from tests.unit.client_aio.support import (
    hand_delivered_client,
    run_async,
    transport_of,
    wait_until,
)


@run_async
async def test_responses_arriving_in_any_order_reach_the_calls_that_sent_their_requests() -> None:
    async with hand_delivered_client() as client:
        calls = [asyncio.ensure_future(client.call_action('svc', 'echo', {'n': n})) for n in range(3)]
        transport = transport_of(client)
        await wait_until(lambda: len(transport.sent) == 3, 'three requests')
        first, second, third = transport.request_ids()
        transport.deliver(third, n='third')
        transport.deliver(first, n='first')
        transport.deliver(second, n='second')

        responses = await asyncio.gather(*calls)

    assert [r.body for r in responses] == [{'n': 'first'}, {'n': 'second'}, {'n': 'third'}]


@run_async
async def test_request_ids_are_never_reused() -> None:
    async with hand_delivered_client() as client:
        transport = transport_of(client)
        for n in range(3):
            call = asyncio.ensure_future(client.call_action('svc', 'echo'))
            await wait_until(lambda n=n: len(transport.sent) == n + 1, 'the request')  # type: ignore[misc]
            transport.deliver(transport.request_ids()[-1])
            await call

    ids = transport.request_ids()
    assert len(set(ids)) == 3
    assert ids == sorted(ids)


@run_async
async def test_a_call_raises_message_receive_timeout_when_no_response_comes_within_its_timeout() -> None:
    async with hand_delivered_client() as client:
        with pytest.raises(MessageReceiveTimeout, match=r'within 0\.05 seconds'):
            await client.call_actions('svc', [{'action': 'echo'}], timeout=0.05)  # type: ignore[arg-type]

        assert client.handlers['svc'].waiting == 0


@run_async
async def test_without_a_timeout_a_call_waits_for_the_transports_receive_timeout() -> None:
    async with hand_delivered_client(receive_timeout_in_seconds=0.05) as client:
        with pytest.raises(MessageReceiveTimeout, match=r'within 0\.05 seconds'):
            await client.call_action('svc', 'echo')


@run_async
async def test_a_late_response_of_a_timed_out_call_is_dropped_and_never_reaches_the_next_call(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with hand_delivered_client() as client:
        transport = transport_of(client)
        with pytest.raises(MessageReceiveTimeout):
            await client.call_action('svc', 'echo', timeout=0.05)  # type: ignore[arg-type]
        (late_id,) = transport.request_ids()

        next_call = asyncio.ensure_future(client.call_action('svc', 'echo'))
        await wait_until(lambda: len(transport.sent) == 2, 'the second request')
        transport.deliver(late_id, who='late')
        transport.deliver(transport.request_ids()[1], who='next')

        with caplog.at_level(logging.WARNING, logger='pysoa.client.client'):
            response = await next_call

    assert response.body == {'who': 'next'}
    assert f'Dropping response from service svc to request {late_id}, which nobody is waiting for' in caplog.text


@run_async
async def test_cancelling_a_call_stops_waiting_for_its_response_which_is_then_dropped() -> None:
    async with hand_delivered_client() as client:
        transport = transport_of(client)
        call = asyncio.ensure_future(client.call_action('svc', 'echo'))
        await wait_until(lambda: transport.sent, 'the request')
        handler = client.handlers['svc']
        assert handler.waiting == 1

        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        assert handler.waiting == 0

        transport.deliver(transport.request_ids()[0])
        other = asyncio.ensure_future(client.call_action('svc', 'echo'))
        await wait_until(lambda: len(transport.sent) == 2, 'the second request')
        transport.deliver(transport.request_ids()[1], who='other')

        assert (await other).body == {'who': 'other'}


@run_async
async def test_one_task_receives_for_every_waiting_call_and_stops_once_none_waited_for_a_while() -> None:
    async with hand_delivered_client() as client:
        transport = transport_of(client)
        handler = client._get_handler('svc')
        handler.idle_receive_seconds = 0.05
        calls = [asyncio.ensure_future(client.call_action('svc', 'echo')) for _ in range(5)]
        await wait_until(lambda: len(transport.sent) == 5, 'five requests')
        receiver = handler._receiver
        assert receiver is not None

        for request_id in transport.request_ids():
            transport.deliver(request_id)
        await asyncio.gather(*calls)
        await wait_until(lambda: receiver.done(), 'the receiving task to stop')

        assert handler._receiver is None
        assert transport.receives == 6  # a response for each call, then one wait that found nothing


@run_async
async def test_an_expired_response_fails_only_the_call_it_answers() -> None:
    async with hand_delivered_client() as client:
        transport = transport_of(client)
        expired = asyncio.ensure_future(client.call_action('svc', 'echo'))
        fine = asyncio.ensure_future(client.call_action('svc', 'echo'))
        await wait_until(lambda: len(transport.sent) == 2, 'two requests')
        expired_id, fine_id = transport.request_ids()
        transport.fail_next_receive(ExpiredMessageReceived('Message expired', request_id=expired_id))
        transport.deliver(fine_id, ok=True)

        with pytest.raises(MessageReceiveTimeout, match='Message expired'):
            await expired
        assert (await fine).body == {'ok': True}


@run_async
async def test_a_response_that_is_not_a_job_response_fails_only_the_call_it_answers() -> None:
    async with hand_delivered_client() as client:
        transport = transport_of(client)
        broken = asyncio.ensure_future(client.call_action('svc', 'echo'))
        fine = asyncio.ensure_future(client.call_action('svc', 'echo'))
        await wait_until(lambda: len(transport.sent) == 2, 'two requests')
        broken_id, fine_id = transport.request_ids()
        transport.deliver(broken_id, body={'actions': [], 'unknown_key': 1})
        transport.deliver(fine_id, ok=True)

        with pytest.raises(InvalidJobResponseError, match=f'invalid job response to request {broken_id}'):
            await broken
        assert (await fine).body == {'ok': True}


@run_async
async def test_a_failure_to_receive_fails_every_waiting_call_and_later_calls_still_work() -> None:
    async with hand_delivered_client() as client:
        transport = transport_of(client)
        calls = [asyncio.ensure_future(client.call_action('svc', 'echo')) for _ in range(3)]
        await wait_until(lambda: len(transport.sent) == 3, 'three requests')
        transport.fail_next_receive(MessageReceiveError('Redis went away'))

        outcomes = await asyncio.gather(*calls, return_exceptions=True)
        later = asyncio.ensure_future(client.call_action('svc', 'echo'))
        await wait_until(lambda: len(transport.sent) == 4, 'the later request')
        transport.deliver(transport.request_ids()[3], later=True)

        assert [type(o) for o in outcomes] == [MessageReceiveError] * 3
        assert (await later).body == {'later': True}


@run_async
async def test_a_stray_response_is_dropped_while_calls_wait(caplog: pytest.LogCaptureFixture) -> None:
    async with hand_delivered_client() as client:
        transport = transport_of(client)
        call = asyncio.ensure_future(client.call_action('svc', 'echo'))
        await wait_until(lambda: transport.sent, 'the request')
        with caplog.at_level(logging.WARNING, logger='pysoa.client.client'):
            transport.deliver(['not', 'an', 'id'])
            transport.deliver(123456789)
            transport.deliver(transport.request_ids()[0], mine=True)

            assert (await call).body == {'mine': True}

    assert caplog.text.count('which nobody is waiting for') == 2


@run_async
async def test_a_call_that_cannot_be_sent_raises_and_leaves_nothing_waiting() -> None:
    async with hand_delivered_client() as client:
        transport_of(client).send_errors.append(MessageSendError('queue full'))

        with pytest.raises(MessageSendError, match='queue full'):
            await client.call_action('svc', 'echo')

        assert client.handlers['svc'].waiting == 0


@run_async
async def test_parallel_calls_put_caught_send_errors_in_place_of_their_responses() -> None:
    async with hand_delivered_client() as client:
        transport = transport_of(client)
        transport.send_errors.append(MessageSendError('queue full'))
        call = asyncio.ensure_future(
            client.call_actions_parallel(
                'svc',
                [{'action': 'echo', 'body': {'n': 1}}, {'action': 'echo', 'body': {'n': 2}}],
                catch_transport_errors=True,
            )
        )
        await wait_until(lambda: transport.sent, 'the request that could be sent')
        transport.deliver(transport.request_ids()[0], n=2)

        results = list(await call)

    assert isinstance(results[0], MessageSendError)
    assert results[1].body == {'n': 2}  # type: ignore[union-attr]


@run_async
async def test_parallel_calls_raise_the_first_receive_error_unless_caught() -> None:
    async with hand_delivered_client() as client:
        transport = transport_of(client)
        call = asyncio.ensure_future(
            client.call_jobs_parallel(
                [
                    {'service_name': 'svc', 'actions': [{'action': 'echo'}]},
                    {'service_name': 'svc', 'actions': [{'action': 'echo'}]},
                ]
            )
        )
        await wait_until(lambda: len(transport.sent) == 2, 'two requests')
        transport.fail_next_receive(ExpiredMessageReceived('Message expired', request_id=transport.request_ids()[1]))

        with pytest.raises(MessageReceiveTimeout, match='Message expired'):
            await call
        assert client.handlers['svc'].waiting == 0


@run_async
async def test_parallel_calls_share_one_timeout_and_catch_it_per_job() -> None:
    async with hand_delivered_client('svc', 'other') as client:
        call = asyncio.ensure_future(
            client.call_jobs_parallel(
                [
                    {'service_name': 'svc', 'actions': [{'action': 'echo'}]},
                    {'service_name': 'other', 'actions': [{'action': 'echo'}]},
                ],
                timeout=0.1,  # type: ignore[arg-type]
                catch_transport_errors=True,
            )
        )
        svc = transport_of(client, 'svc')
        await wait_until(lambda: svc.sent, 'the request to svc')
        svc.deliver(svc.request_ids()[0], answered=True)

        results = await call

    assert isinstance(results[0], JobResponse)
    assert isinstance(results[1], MessageReceiveTimeout)


@run_async
async def test_closing_the_client_fails_waiting_calls_and_closes_the_transports() -> None:
    client = hand_delivered_client()
    call = asyncio.ensure_future(client.call_action('svc', 'echo'))
    transport = transport_of(client)
    await wait_until(lambda: transport.sent, 'the request')

    await client.close()

    with pytest.raises(ClientClosedError, match='closed while this call waited'):
        await call
    assert transport.closed
