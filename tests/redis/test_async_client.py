"""
The AsyncClient over a real Redis (standard backend), against servers of this project in threads and processes: it
speaks the synchronous transport's wire (queue names, frames, expiry, capacity checks, chunked responses), many calls
share one reply queue and one receiving connection, each response reaches its call with no receiving task (without
middleware), a lone call sends its request with the wait for its response, and it recovers from lost connections and
scripts Redis forgot.
"""

import asyncio
import logging
import re
import time
from typing import (
    Any,
    Dict,
    Iterator,
    List,
)

import msgpack
import pytest
import uvloop

from pysoa.client.aio import (
    AsyncClient,
    ClientClosedError,
)
from pysoa.client.client import Client
from pysoa.client.errors import CallActionError
from pysoa.client.service_handler import InvalidJobResponseError
from pysoa.common._wire import job_request_to_dict
from pysoa.common.transport.errors import (
    MessageReceiveError,
    MessageReceiveTimeout,
    MessageSendError,
    MessageTooLarge,
)
from pysoa.common.transport.redis_gateway._async_client import AsyncRedisClientTransport
from pysoa.common.transport.redis_gateway._framing import parse_frame
from pysoa.common.transport.redis_gateway.core import UndeliverableMessageError
from pysoa.common.types import (
    ActionRequest,
    JobRequest,
)
from tests.redis.services import (
    REQUEST_QUEUE_KEY,
    SERVER_CLASS_PATH,
    SERVICE,
    V3_MSGPACK_PREFIX,
    RecordingMetricsRecorder,
    RedisTestServer,
    client_settings,
    server_settings,
    standard_kwargs,
)
from tests.support.redis_processes import (
    RedisServer,
    free_port,
    wait_for,
)
from tests.support.server_runner import (
    ServerProcess,
    ThreadedServer,
)
from tests.unit.client_aio.support import (
    MODULE as SUPPORT_MODULE,
)
from tests.unit.client_aio.support import (
    run_async,
)


def async_client(redis_server: RedisServer, **transport_kwargs: Any) -> AsyncClient:
    return AsyncClient({SERVICE: client_settings(standard_kwargs(redis_server.port, **transport_kwargs))})


def queued_requests(redis_server: RedisServer) -> List[Dict[str, Any]]:
    """The envelopes of the requests waiting on the service's queue, oldest first."""
    with redis_server.client() as connection:
        frames = connection.lrange(REQUEST_QUEUE_KEY, 0, -1)
    return [msgpack.unpackb(parse_frame(frame).payload, raw=False) for frame in frames]


def client_connections(redis_server: RedisServer) -> Dict[str, Dict[str, Any]]:
    """Every client connection to the Redis but the one asking, by the last command it ran."""
    with redis_server.client() as connection:
        me = connection.client_id()
        return {c['cmd']: c for c in connection.client_list() if int(c['id']) != me}


@pytest.fixture
def threaded_server(redis_server: RedisServer) -> Iterator[ThreadedServer]:
    with ThreadedServer(RedisTestServer, server_settings(standard_kwargs(redis_server.port))) as server:
        yield server


# Round trips ----------------------------------------------------------------------------------------------------------


@run_async
async def test_calls_get_their_responses_from_a_server_process(redis_server: RedisServer) -> None:
    with ServerProcess(SERVER_CLASS_PATH, server_settings(standard_kwargs(redis_server.port))):
        async with async_client(redis_server) as client:
            response = await client.call_action(SERVICE, 'echo', {'hello': 'world'})
            job = await client.call_actions(SERVICE, [{'action': 'echo', 'body': {'n': 1}}, {'action': 'whoami'}])

    assert response.body == {'hello': 'world'}
    assert [a.action for a in job.actions] == ['echo', 'whoami']


@run_async
async def test_action_errors_come_back_as_call_action_error(
    redis_server: RedisServer,
    threaded_server: ThreadedServer,
) -> None:
    async with async_client(redis_server) as client:
        with pytest.raises(CallActionError) as raised:
            await client.call_action(SERVICE, 'fail')

    assert [e.code for e in raised.value.actions[0].errors] == ['BROKEN']


@run_async
async def test_many_calls_at_once_each_get_their_own_response(
    redis_server: RedisServer,
    threaded_server: ThreadedServer,
) -> None:
    async with async_client(redis_server) as client:
        responses = await asyncio.gather(*(client.call_action(SERVICE, 'echo', {'n': n}) for n in range(500)))

    assert [r.body['n'] for r in responses] == list(range(500))


# The wire -------------------------------------------------------------------------------------------------------------


@run_async
async def test_requests_are_framed_and_queued_as_the_synchronous_client_queues_them(redis_server: RedisServer) -> None:
    Client({SERVICE: client_settings(standard_kwargs(redis_server.port))}).send_request(SERVICE, [{'action': 'echo'}])
    async with async_client(redis_server) as client:
        await client.send_request(SERVICE, [{'action': 'echo'}])
    with redis_server.client() as connection:
        sync_frame, async_frame = connection.lrange(REQUEST_QUEUE_KEY, 0, -1)
        time_to_live = connection.ttl(REQUEST_QUEUE_KEY)

    prefix = b'pysoa-redis/3//content-type:application/msgpack;'
    assert sync_frame.startswith(prefix)
    assert async_frame.startswith(prefix)
    sync_request, async_request = (msgpack.unpackb(parse_frame(f).payload) for f in (sync_frame, async_frame))
    assert sorted(async_request) == sorted(sync_request) == ['body', 'meta', 'request_id']
    assert sorted(async_request['meta']) == sorted(sync_request['meta']) == ['__expiry__', 'client_version', 'reply_to']
    assert re.fullmatch(r'service\.redis_test\.[0-9a-f]{32}![0-9a-f]{12}', async_request['meta']['reply_to'])
    assert async_request['body']['actions'] == sync_request['body']['actions'] == [{'action': 'echo', 'body': {}}]
    assert 55 <= time_to_live <= 60


@run_async
async def test_every_call_of_a_client_names_the_same_reply_queue(redis_server: RedisServer) -> None:
    async with async_client(redis_server) as client:
        calls = [asyncio.ensure_future(client.call_action(SERVICE, 'echo', {'n': n})) for n in range(20)]
        await asyncio.to_thread(wait_for, lambda: len(queued_requests(redis_server)) == 20, 10, '20 requests')
        reply_queues = {request['meta']['reply_to'] for request in queued_requests(redis_server)}

        with ThreadedServer(RedisTestServer, server_settings(standard_kwargs(redis_server.port))):
            responses = await asyncio.gather(*calls)

    assert len(reply_queues) == 1
    assert [r.body for r in responses] == [{'n': n} for n in range(20)]


@run_async
async def test_a_calls_timeout_sets_the_requests_expiry_and_the_queues_time_to_live(redis_server: RedisServer) -> None:
    async with async_client(redis_server) as client:
        before = time.time()
        with pytest.raises(MessageReceiveTimeout):
            await client.call_action(SERVICE, 'echo', timeout=1)
    with redis_server.client() as connection:
        time_to_live = connection.ttl(REQUEST_QUEUE_KEY)
    (request,) = queued_requests(redis_server)

    assert before + 1 <= request['meta']['__expiry__'] <= before + 2
    assert request['body']['control']['timeout'] == 1
    assert 9 <= time_to_live <= 11


@run_async
async def test_a_call_without_response_says_where_its_request_and_response_were(redis_server: RedisServer) -> None:
    async with async_client(redis_server) as client:
        with pytest.raises(MessageReceiveTimeout) as raised:
            await client.call_action(SERVICE, 'echo', timeout=1)

    message = str(raised.value)
    assert message.startswith(
        'No response from service redis_test arrived within 1 seconds (on reply queue pysoa:service.redis_test.'
    )
    assert f'The request went to queue pysoa:service.redis_test on Redis 127.0.0.1:{redis_server.port}' in message


@run_async
async def test_a_request_that_expired_in_the_queue_is_never_run(redis_server: RedisServer) -> None:
    async with async_client(redis_server) as client:
        with pytest.raises(MessageReceiveTimeout):
            await client.call_action(SERVICE, 'whoami', timeout=1)
        await asyncio.sleep(1.1)

        with ThreadedServer(RedisTestServer, server_settings(standard_kwargs(redis_server.port))) as server:
            response = await client.call_action(SERVICE, 'echo', {'after': True})
            metrics = server.server.metrics

    assert response.body == {'after': True}
    assert isinstance(metrics, RecordingMetricsRecorder)
    assert metrics.counter_total('server.transport.redis_gateway.receive.error.message_expired') == 1
    assert queued_requests(redis_server) == []


@run_async
async def test_a_full_queue_fails_the_send_once_its_retries_are_spent(redis_server: RedisServer) -> None:
    async with async_client(redis_server, queue_capacity=1, queue_full_retries=1) as client:
        await client.send_request(SERVICE, [{'action': 'echo'}])

        with pytest.raises(MessageSendError, match=r'Redis queue service\.redis_test was full after 1 retries'):
            await client.call_action(SERVICE, 'echo')

    assert len(queued_requests(redis_server)) == 1


@run_async
async def test_a_request_larger_than_the_maximum_message_size_is_refused(redis_server: RedisServer) -> None:
    async with async_client(redis_server, maximum_message_size_in_bytes=1000) as client:
        with pytest.raises(MessageTooLarge):
            await client.call_action(SERVICE, 'echo', {'data': 'x' * 2000})

    assert queued_requests(redis_server) == []


@run_async
async def test_a_request_queue_key_of_another_type_makes_the_request_undeliverable(redis_server: RedisServer) -> None:
    with redis_server.client() as connection:
        connection.set(REQUEST_QUEUE_KEY, 'not a list')

    async with async_client(redis_server) as client:
        with pytest.raises(UndeliverableMessageError):
            await client.call_action(SERVICE, 'echo')


@run_async
async def test_a_refusal_reaches_a_call_that_did_not_wait_for_its_request_to_be_accepted(
    redis_server: RedisServer,
    threaded_server: ThreadedServer,
) -> None:
    async with async_client(redis_server) as client:
        await client.call_action(SERVICE, 'echo')  # connected: later calls wait only for their responses
        with redis_server.client() as connection:
            connection.set(REQUEST_QUEUE_KEY, 'not a list')

        with pytest.raises(UndeliverableMessageError):
            await client.call_action(SERVICE, 'echo')
        assert client.handlers[SERVICE].waiting == 0


@run_async
async def test_a_large_response_arrives_in_chunks_and_is_reassembled(redis_server: RedisServer) -> None:
    settings = server_settings(
        standard_kwargs(
            redis_server.port,
            chunk_messages_larger_than_bytes=102400,
            maximum_message_size_in_bytes=1048576,
        )
    )
    with ThreadedServer(RedisTestServer, settings):
        async with async_client(redis_server, maximum_message_size_in_bytes=1048576) as client:
            big, small = await asyncio.gather(
                client.call_action(SERVICE, 'big', {'size': 400000}),
                client.call_action(SERVICE, 'echo', {'small': True}),
            )

    assert big.body == {'data': 'x' * 400000}
    assert small.body == {'small': True}


@run_async
async def test_a_cancelled_calls_late_response_is_dropped_and_the_next_call_gets_its_own(
    redis_server: RedisServer,
) -> None:
    async with async_client(redis_server) as client:
        await client.send_request(SERVICE, [{'action': 'echo', 'body': {'n': 0}}], suppress_response=True)
        cancelled = asyncio.ensure_future(client.call_action(SERVICE, 'echo', {'n': 1}))
        await asyncio.to_thread(wait_for, lambda: len(queued_requests(redis_server)) == 2, 10, 'two requests')
        cancelled.cancel()
        await asyncio.wait([cancelled])
        assert client.handlers[SERVICE].waiting == 0

        with ThreadedServer(RedisTestServer, server_settings(standard_kwargs(redis_server.port))):
            response = await client.call_action(SERVICE, 'echo', {'n': 2})

    assert cancelled.cancelled()
    assert response.body == {'n': 2}


@run_async
async def test_a_response_that_is_not_a_job_response_fails_its_call_with_invalid_job_response_error(
    redis_server: RedisServer,
) -> None:
    async with async_client(redis_server) as client:
        call = asyncio.ensure_future(client.call_action(SERVICE, 'echo'))
        await asyncio.to_thread(wait_for, lambda: queued_requests(redis_server), 10, 'the request')
        (request,) = queued_requests(redis_server)
        envelope = {'request_id': request['request_id'], 'meta': {}, 'body': {'not_a_job_response': True}}
        with redis_server.client() as connection:
            connection.rpush('pysoa:' + request['meta']['reply_to'], V3_MSGPACK_PREFIX + msgpack.packb(envelope))

        with pytest.raises(InvalidJobResponseError, match=f'invalid job response to request {request["request_id"]}'):
            await call
        assert client.handlers[SERVICE].waiting == 0


# Connections ----------------------------------------------------------------------------------------------------------


@run_async
async def test_responses_waiting_together_are_taken_off_the_reply_queue_in_one_command(
    redis_server: RedisServer,
) -> None:
    async with async_client(redis_server) as client:
        sent = [await client.send_request(SERVICE, [{'action': 'echo', 'body': {'n': n}}]) for n in range(100)]
        transport = client.handlers[SERVICE].transport
        reply_queue_key = 'pysoa:' + transport.reply_queue_name  # type: ignore[attr-defined]
        with redis_server.client() as connection:
            connection.config_resetstat()
            with ThreadedServer(RedisTestServer, server_settings(standard_kwargs(redis_server.port))):
                # Blocking the event loop on purpose: the client's BLPOP, already waiting, takes the first response,
                # and the others pile up on the reply queue.
                wait_for(lambda: connection.llen(reply_queue_key) == 99, 15, '99 responses on the reply queue')
                received = {request_id: r async for request_id, r in client.get_all_responses(SERVICE)}
            commands = connection.info('commandstats')

    assert {request_id: r.actions[0].body['n'] for request_id, r in received.items()} == dict(zip(sent, range(100)))
    assert commands['cmdstat_blmpop']['calls'] <= 3


@run_async
async def test_without_blmpop_responses_are_taken_with_lpop_and_blpop(redis_without_blmpop: RedisServer) -> None:
    with ThreadedServer(RedisTestServer, server_settings(standard_kwargs(redis_without_blmpop.port))):
        async with async_client(redis_without_blmpop) as client:
            responses = await asyncio.gather(*(client.call_action(SERVICE, 'echo', {'n': n}) for n in range(50)))
            more = await client.call_action(SERVICE, 'echo', {'n': 50})
    with redis_without_blmpop.client() as connection:
        commands = connection.info('commandstats')

    assert [r.body['n'] for r in [*responses, more]] == list(range(51))
    assert commands['cmdstat_lpop']['calls'] >= 2


@run_async
async def test_a_client_uses_one_connection_to_send_and_one_to_receive(
    redis_server: RedisServer,
    threaded_server: ThreadedServer,
) -> None:
    def client_connections() -> int:
        with redis_server.client() as connection:
            return len(connection.client_list()) - 1  # this one

    before = client_connections()
    client = async_client(redis_server)
    await asyncio.gather(*(client.call_action(SERVICE, 'echo', {'n': n}) for n in range(50)))
    during = client_connections()
    await client.close()
    after = await asyncio.to_thread(wait_for, lambda: client_connections() == before, 10, 'connections to close')

    assert during - before == 2
    assert after


@run_async
async def test_calls_go_on_after_redis_closes_the_clients_connections(
    redis_server: RedisServer,
    threaded_server: ThreadedServer,
) -> None:
    async with async_client(redis_server) as client:
        assert (await client.call_action(SERVICE, 'echo', {'n': 1})).body == {'n': 1}
        with redis_server.client() as connection:
            connection.client_kill_filter(_type='normal', skipme=True)

        response = await client.call_action(SERVICE, 'echo', {'n': 2})

    assert response.body == {'n': 2}


@run_async
async def test_the_enqueue_script_is_loaded_again_when_redis_forgot_it(
    redis_server: RedisServer,
    threaded_server: ThreadedServer,
) -> None:
    async with async_client(redis_server) as client:
        await client.call_action(SERVICE, 'echo')
        with redis_server.client() as connection:
            connection.script_flush()

        response = await client.call_action(SERVICE, 'echo', {'again': True})

    assert response.body == {'again': True}


@run_async
async def test_an_unreachable_redis_fails_the_send() -> None:
    port = free_port()
    async with AsyncClient({SERVICE: client_settings(standard_kwargs(port))}) as client:
        with pytest.raises(MessageSendError, match='Unknown error sending message for service redis_test'):
            await client.call_action(SERVICE, 'echo')


@run_async
async def test_ten_thousand_calls_can_wait_at_once_on_one_client(redis_server: RedisServer) -> None:
    async with async_client(redis_server, queue_capacity=20000) as client:
        calls = [asyncio.ensure_future(client.call_action(SERVICE, 'echo', {'n': n}, timeout=60)) for n in range(10000)]
        await asyncio.to_thread(wait_for, lambda: len(queued_requests(redis_server)) == 10000, 30, '10,000 requests')
        assert client.handlers[SERVICE].waiting == 10000

        with ThreadedServer(RedisTestServer, server_settings(standard_kwargs(redis_server.port))):
            responses = await asyncio.gather(*calls)

        assert [r.body['n'] for r in responses] == list(range(10000))
        assert client.handlers[SERVICE].waiting == 0


# How responses reach their calls ------------------------------------------------------------------------------------


@run_async
async def test_responses_reach_their_calls_with_no_receiving_task(redis_server: RedisServer) -> None:
    tasks_before = asyncio.all_tasks()
    async with async_client(redis_server) as client:
        await client.send_request(SERVICE, [{'action': 'echo'}], suppress_response=True)  # connects
        calls = [asyncio.ensure_future(client.call_action(SERVICE, 'echo', {'n': n})) for n in range(20)]
        await asyncio.to_thread(wait_for, lambda: len(queued_requests(redis_server)) == 21, 10, 'the requests')
        tasks_while_waiting = asyncio.all_tasks() - tasks_before - set(calls)

        with ThreadedServer(RedisTestServer, server_settings(standard_kwargs(redis_server.port))):
            responses = await asyncio.gather(*calls)

    assert tasks_while_waiting == set()
    assert [r.body['n'] for r in responses] == list(range(20))


@run_async
async def test_a_lone_call_sends_its_request_with_the_wait_for_its_response(
    redis_server: RedisServer,
    threaded_server: ThreadedServer,
) -> None:
    async with async_client(redis_server) as client:
        await client.call_action(SERVICE, 'echo', {'n': 0})
        # The first call connected twice: to send requests (its last command the enqueue script), and to wait on the
        # reply queue. Closing the first shows that the calls after it do not need it.
        with redis_server.client() as connection:
            connection.client_kill_filter(_id=client_connections(redis_server)['evalsha']['id'])
            before = connection.info('stats')['total_connections_received']

            responses = [await client.call_action(SERVICE, 'echo', {'n': n}) for n in range(1, 6)]

            assert connection.info('stats')['total_connections_received'] == before
    assert [r.body['n'] for r in responses] == [1, 2, 3, 4, 5]


@run_async
async def test_a_failed_wait_on_the_reply_queue_is_tried_again_on_a_new_connection(redis_server: RedisServer) -> None:
    async with async_client(redis_server) as client:
        call = asyncio.ensure_future(client.call_action(SERVICE, 'echo', {'n': 1}, timeout=20))
        await asyncio.to_thread(wait_for, lambda: 'blmpop' in client_connections(redis_server), 10, 'the wait')
        with redis_server.client() as connection:
            connection.client_kill_filter(_id=client_connections(redis_server)['blmpop']['id'])
        await asyncio.to_thread(wait_for, lambda: 'blmpop' in client_connections(redis_server), 10, 'a new wait')

        with ThreadedServer(RedisTestServer, server_settings(standard_kwargs(redis_server.port))):
            response = await call

    assert response.body == {'n': 1}


@run_async
async def test_waiting_calls_fail_with_a_receive_error_when_the_wait_on_the_reply_queue_fails_twice(
    redis_server: RedisServer,
    threaded_server: ThreadedServer,
) -> None:
    async with async_client(redis_server) as client:
        await client.call_action(SERVICE, 'echo')
        reply_queue_key = 'pysoa:' + client.handlers[SERVICE].transport.reply_queue_name  # type: ignore[attr-defined]
        with redis_server.client() as connection:
            connection.set(reply_queue_key, 'not a list')
        started = time.monotonic()

        with pytest.raises(MessageReceiveError, match='Unknown error receiving message for service') as raised:
            await client.call_action(SERVICE, 'echo', timeout=20)

    assert 'WRONGTYPE' in str(raised.value.args)
    assert time.monotonic() - started < 10


@run_async
async def test_calls_through_client_middleware_receive_their_responses_through_it(
    redis_server: RedisServer,
    threaded_server: ThreadedServer,
) -> None:
    settings = client_settings(standard_kwargs(redis_server.port))
    settings['middleware'] = [{'path': f'{SUPPORT_MODULE}:AsyncTrailMiddleware', 'kwargs': {'name': 'trail'}}]
    async with AsyncClient({SERVICE: settings}) as client:
        responses = await asyncio.gather(*(client.call_actions(SERVICE, [{'action': 'echo'}]) for _ in range(20)))

    assert [r.context['trail'] for r in responses] == [['trail']] * 20


@run_async
async def test_a_response_that_comes_after_a_receive_timed_out_is_the_next_one_received(
    redis_server: RedisServer,
) -> None:
    transport = AsyncRedisClientTransport(SERVICE, RecordingMetricsRecorder(), **standard_kwargs(redis_server.port))
    try:
        job = JobRequest(
            control={'continue_on_error': False},
            context={'correlation_id': 'late', 'switches': []},
            actions=[ActionRequest('echo', {'late': True})],
        )
        body = job_request_to_dict(job)
        await transport.send_request_message(7, {}, body)
        with pytest.raises(MessageReceiveTimeout):
            await transport.receive_response_message(1)

        with ThreadedServer(RedisTestServer, server_settings(standard_kwargs(redis_server.port))):
            request_id, _meta, response = await transport.receive_response_message(10)
    finally:
        await transport.close()

    assert request_id == 7
    assert response is not None, 'a response'
    assert response['errors'] == [], response
    assert response['actions'][0]['body'] == {'late': True}


def test_calls_work_on_the_uvloop_event_loop(redis_server: RedisServer, threaded_server: ThreadedServer) -> None:
    async def calls() -> List[Any]:
        async with async_client(redis_server) as client:
            one_by_one = [(await client.call_action(SERVICE, 'echo', {'n': n})).body['n'] for n in range(5)]
            together = await asyncio.gather(*(client.call_action(SERVICE, 'echo', {'n': n}) for n in range(50)))
            return [one_by_one, [r.body['n'] for r in together], type(asyncio.get_running_loop()).__module__]

    one_by_one, together, loop_module = uvloop.run(asyncio.wait_for(calls(), 60))

    assert loop_module.startswith('uvloop')
    assert one_by_one == list(range(5))
    assert together == list(range(50))


@run_async
async def test_closing_the_transport_ends_a_receive_still_waiting_with_a_receive_error(
    redis_server: RedisServer,
) -> None:
    transport = AsyncRedisClientTransport(SERVICE, RecordingMetricsRecorder(), **standard_kwargs(redis_server.port))
    receiving = asyncio.ensure_future(transport.receive_response_message(30))
    await asyncio.to_thread(wait_for, lambda: 'blmpop' in client_connections(redis_server), 10, 'the wait')

    await transport.close()

    with pytest.raises(MessageReceiveError, match='The transport for service redis_test was closed'):
        await receiving


@run_async
async def test_closing_a_client_with_calls_waiting_does_not_try_waiting_again(
    redis_server: RedisServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = async_client(redis_server)
    call = asyncio.ensure_future(client.call_action(SERVICE, 'echo', timeout=30))
    await asyncio.to_thread(wait_for, lambda: 'blmpop' in client_connections(redis_server), 10, 'the wait')

    with caplog.at_level(logging.INFO, logger='pysoa.common.transport.redis_gateway.client'):
        await client.close()
        with pytest.raises(ClientClosedError):
            await call

    assert [r.getMessage() for r in caplog.records if 'trying again' in r.getMessage()] == []


@run_async
async def test_a_transport_handing_responses_to_a_listener_refuses_to_be_asked_for_one(
    redis_server: RedisServer,
) -> None:
    async with async_client(redis_server) as client:
        await client.send_request(SERVICE, [{'action': 'echo'}], suppress_response=True)
        transport = client.handlers[SERVICE].transport

        with pytest.raises(RuntimeError, match='hands responses to its listener'):
            await transport.receive_response_message(1)
