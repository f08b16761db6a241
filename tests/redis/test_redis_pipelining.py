"""
A client sends its request and starts waiting for the response in one round trip to Redis, and a serving server
sends its response and starts waiting for the next request in one round trip: the ``BLPOP`` travels in the same
write as the enqueue script and stays pending until the transport is asked to receive. Nothing it takes is lost: a
shorter receive timeout, a reset, another queue of the same Redis, and a server that stops serving all get their
message.
"""

import threading
import time
import uuid
from typing import (
    Iterator,
    List,
)

import pytest
import redis

from pysoa.common.transport.errors import MessageReceiveTimeout
from pysoa.common.transport.redis_gateway.backend.standard import StandardRedisClient
from pysoa.common.transport.redis_gateway.client import RedisClientTransport
from pysoa.common.transport.redis_gateway.server import RedisServerTransport
from pysoa.server.server import Server
from tests.redis.services import (
    OTHER_SERVICE,
    REQUEST_QUEUE_KEY,
    SERVICE,
    RecordingMetricsRecorder,
    RedisOtherServer,
    RedisTestServer,
    client_transport,
    job_request,
    make_client,
    make_server,
    reply_queue_key,
    standard_kwargs,
)
from tests.support.redis_processes import (
    RedisServer,
    wait_for,
)


CLIENT_NAME = f'pysoa-pipelining-test-{uuid.uuid4().hex}'
QUEUE = 'pysoa:service.pipelining.0123456789abcdef0123456789abcdef!000000000001'
OTHER_QUEUE = 'pysoa:service.pipelining.0123456789abcdef0123456789abcdef!000000000002'
PING = ('PING',)


def _backend(server: RedisServer) -> StandardRedisClient:
    # Named, so that the connections of other tests' clients to the same Redis are not counted.
    return StandardRedisClient(hosts=[('127.0.0.1', server.port)], connection_kwargs={'client_name': CLIENT_NAME})


def _blocked_in_blpop(server: RedisServer, name: str = CLIENT_NAME) -> int:
    """How many connections named ``name`` are blocked in a ``BLPOP``."""
    with server.client() as admin:
        return sum(
            1 for c in admin.client_list() if c.get('name') == name and 'b' in c['flags'] and c['cmd'] == 'blpop'
        )


def _push_later(server: RedisServer, key: str, value: bytes, delay: float) -> threading.Thread:
    def push() -> None:
        time.sleep(delay)
        with server.client() as admin:
            admin.rpush(key, value)

    thread = threading.Thread(target=push)
    thread.start()
    return thread


def _pending_pop(backend: StandardRedisClient, timeout: int = 5) -> redis.Redis:
    """The backend's client for ``QUEUE``, with a ``PING`` sent and a ``BLPOP`` of ``QUEUE`` left pending behind it."""
    client = backend.get_connection(QUEUE)
    backend.held_connections.execute_then_pop(client, PING, QUEUE, timeout)
    return client


@pytest.fixture
def backend(redis_server: RedisServer) -> Iterator[StandardRedisClient]:
    backend = _backend(redis_server)
    yield backend
    with redis_server.client() as admin:
        admin.delete(QUEUE, OTHER_QUEUE)


# The pipelined pair, on the backend -------------------------------------------------------------------------------


def test_the_command_replies_at_once_and_its_blpop_is_already_waiting(
    redis_server: RedisServer,
    backend: StandardRedisClient,
) -> None:
    client = backend.get_connection(QUEUE)

    assert backend.held_connections.execute_then_pop(client, PING, QUEUE, 5) == b'PONG'

    assert _blocked_in_blpop(redis_server) == 1
    with redis_server.client() as admin:
        admin.rpush(QUEUE, b'message')
    assert backend.pop(client, QUEUE, 5) == b'message'


def test_other_commands_of_the_thread_go_through_while_a_blpop_is_pending(backend: StandardRedisClient) -> None:
    client = _pending_pop(backend)

    assert backend.held_connections.execute(client, 'PING') == b'PONG'
    backend.send_message_to_queue(client, OTHER_QUEUE, [b'other'], 60, 100)
    assert backend.pop(client, OTHER_QUEUE, 1) == b'other'


def test_a_shorter_receive_timeout_ends_the_pending_blpop_without_losing_a_later_message(
    redis_server: RedisServer,
    backend: StandardRedisClient,
) -> None:
    client = _pending_pop(backend, timeout=30)

    assert backend.pop(client, QUEUE, 1) is None

    wait_for(lambda: _blocked_in_blpop(redis_server) == 0, 5, 'the pending BLPOP to be dropped')
    with redis_server.client() as admin:
        admin.rpush(QUEUE, b'late')
    assert backend.pop(client, QUEUE, 1) == b'late'


def test_a_pending_blpop_that_timed_out_early_is_followed_by_one_for_the_rest_of_the_wait(
    redis_server: RedisServer,
    backend: StandardRedisClient,
) -> None:
    client = _pending_pop(backend, timeout=1)
    pusher = _push_later(redis_server, QUEUE, b'after the first second', 1.5)

    assert backend.pop(client, QUEUE, 5) == b'after the first second'
    pusher.join(10)


def test_what_a_pending_blpop_took_is_received_after_a_reset(
    redis_server: RedisServer,
    backend: StandardRedisClient,
) -> None:
    client = _pending_pop(backend)
    with redis_server.client() as admin:
        admin.rpush(QUEUE, b'taken before the reset')

    backend.reset_clients()

    assert backend.pop(client, QUEUE, 1) == b'taken before the reset'


def test_a_pending_blpop_on_a_connection_redis_closed_is_replaced(
    redis_server: RedisServer,
    backend: StandardRedisClient,
) -> None:
    client = _pending_pop(backend)
    with redis_server.client() as admin:
        admin.client_kill_filter(_type='normal', skipme=True)
        admin.rpush(QUEUE, b'after the kill')

    assert backend.pop(client, QUEUE, 1) == b'after the kill'


def test_each_queue_keeps_its_own_pending_blpop(redis_server: RedisServer, backend: StandardRedisClient) -> None:
    client = _pending_pop(backend)
    backend.held_connections.execute_then_pop(client, PING, OTHER_QUEUE, 5)
    with redis_server.client() as admin:
        admin.rpush(QUEUE, b'first')
        admin.rpush(OTHER_QUEUE, b'other')

    assert backend.pop(client, OTHER_QUEUE, 1) == b'other'
    assert backend.pop(client, QUEUE, 1) == b'first'


def test_taking_back_a_pending_blpop_returns_what_it_took(
    redis_server: RedisServer,
    backend: StandardRedisClient,
) -> None:
    client = _pending_pop(backend)
    with redis_server.client() as admin:
        admin.rpush(QUEUE, b'taken')

    assert backend.take_back_pending_pop(client, QUEUE) == b'taken'
    assert backend.take_back_pending_pop(client, QUEUE) is None


def test_an_error_reply_to_the_command_leaves_its_blpop_pending(
    redis_server: RedisServer,
    backend: StandardRedisClient,
) -> None:
    client = backend.get_connection(QUEUE)
    backend.send_message_to_queue(client, OTHER_QUEUE, [b'1'], 60, 1)

    with pytest.raises(redis.ResponseError, match='queue full'):
        backend.send_message_to_queue(client, OTHER_QUEUE, [b'2'], 60, 1, then_pop=(QUEUE, 5))

    with redis_server.client() as admin:
        admin.rpush(QUEUE, b'still received')
    assert backend.pop(client, QUEUE, 1) == b'still received'


# Client transport ---------------------------------------------------------------------------------------------------


def test_sending_a_request_also_starts_waiting_for_its_response(redis_server: RedisServer) -> None:
    kwargs = standard_kwargs(redis_server.port)
    kwargs['backend_layer_kwargs']['connection_kwargs'] = {'client_name': CLIENT_NAME}
    transport = client_transport(kwargs)

    transport.send_request_message(1, {}, job_request(('echo', {})))

    assert _blocked_in_blpop(redis_server) == 1  # nothing to receive yet, and not asked to receive


def test_a_peekable_transport_waits_only_when_asked_to_receive(redis_server: RedisServer) -> None:
    transport = client_transport(standard_kwargs(redis_server.port), peekable=True)
    server = make_server(RedisTestServer, standard_kwargs(redis_server.port))

    transport.send_request_message(1, {}, job_request(('echo', {})))
    server.handle_next_request()
    server.teardown()

    with redis_server.client() as admin:
        assert admin.llen(reply_queue_key(transport)) == 1
    assert transport.receive_response_message(1).request_id == 1


def test_a_response_taken_by_the_early_wait_is_received_when_asked(redis_server: RedisServer) -> None:
    client = make_client(standard_kwargs(redis_server.port))
    future = client.call_action_future(SERVICE, 'echo', {'kept': True}, timeout=10)
    server = make_server(RedisTestServer, standard_kwargs(redis_server.port))
    server.handle_next_request()
    server.teardown()

    assert future.result().body == {'kept': True}


def test_a_receive_shorter_than_the_early_wait_times_out_and_the_late_response_still_arrives(
    redis_server: RedisServer,
) -> None:
    transport = client_transport(standard_kwargs(redis_server.port, receive_timeout_in_seconds=30))
    transport.send_request_message(1, {}, job_request(('echo', {'late': True})))

    with pytest.raises(MessageReceiveTimeout):
        transport.receive_response_message(1)

    server = make_server(RedisTestServer, standard_kwargs(redis_server.port))
    server.handle_next_request()
    server.teardown()
    message = transport.receive_response_message(5)
    assert message.request_id == 1
    assert message.body is not None and message.body['actions'][0]['body'] == {'late': True}


def test_requests_to_two_services_of_one_redis_each_get_their_response(redis_server: RedisServer) -> None:
    kwargs = standard_kwargs(redis_server.port)
    client = make_client(kwargs, services=(SERVICE, OTHER_SERVICE))
    first = client.call_action_future(SERVICE, 'echo', {'to': 'first'}, timeout=10)
    second = client.call_action_future(OTHER_SERVICE, 'echo', {'to': 'second'}, timeout=10)
    servers: List[Server] = [make_server(RedisTestServer, kwargs), make_server(RedisOtherServer, kwargs)]
    for server in servers:
        server.handle_next_request()
        server.teardown()

    assert second.result().body == {'to': 'second'}
    assert first.result().body == {'to': 'first'}


# Server transport ---------------------------------------------------------------------------------------------------


def _answer_a_first_request(transport: RedisServerTransport, client: RedisClientTransport) -> None:
    client.send_request_message(1, {}, job_request(('echo', {})))
    _request_id, meta, _body = transport.receive_request_message()
    assert meta is not None
    transport.send_response_message(1, meta, {'actions': []})


def _server_transport(redis_server: RedisServer) -> RedisServerTransport:
    return RedisServerTransport(
        SERVICE,
        RecordingMetricsRecorder(),
        **standard_kwargs(redis_server.port, receive_timeout_in_seconds=5),
    )


def test_a_server_handling_requests_on_demand_waits_only_when_asked(redis_server: RedisServer) -> None:
    transport = _server_transport(redis_server)
    client = client_transport(standard_kwargs(redis_server.port), peekable=True)
    _answer_a_first_request(transport, client)
    client.send_request_message(2, {}, job_request(('echo', {})))

    with redis_server.client() as admin:
        assert admin.llen(REQUEST_QUEUE_KEY) == 1
        admin.delete(REQUEST_QUEUE_KEY)


def test_a_serving_server_starts_waiting_for_the_next_request_as_it_sends_a_response(
    redis_server: RedisServer,
) -> None:
    transport = _server_transport(redis_server)
    client = client_transport(standard_kwargs(redis_server.port), peekable=True)
    transport.start_receiving()
    _answer_a_first_request(transport, client)
    client.send_request_message(2, {}, job_request(('echo', {'second': True})))

    with redis_server.client() as admin:
        assert admin.llen(REQUEST_QUEUE_KEY) == 0  # taken by the wait that went with the response
    assert transport.receive_request_message().request_id == 2
    transport.stop_receiving()


def test_a_server_that_stops_serving_puts_back_the_request_its_early_wait_took(redis_server: RedisServer) -> None:
    transport = _server_transport(redis_server)
    client = client_transport(standard_kwargs(redis_server.port), peekable=True)
    transport.start_receiving()
    _answer_a_first_request(transport, client)
    client.send_request_message(2, {}, job_request(('echo', {'put back': True})))
    client.send_request_message(3, {}, job_request(('echo', {'next': True})))

    transport.stop_receiving()

    another = _server_transport(redis_server)
    assert [another.receive_request_message().request_id for _ in range(2)] == [2, 3]


def test_a_server_whose_early_wait_lost_its_connection_stops_without_error(redis_server: RedisServer) -> None:
    transport = _server_transport(redis_server)
    client = client_transport(standard_kwargs(redis_server.port), peekable=True)
    transport.start_receiving()
    _answer_a_first_request(transport, client)
    with redis_server.client() as admin:
        admin.client_kill_filter(_type='normal', skipme=True)

    transport.stop_receiving()

    client = client_transport(standard_kwargs(redis_server.port), peekable=True)
    client.send_request_message(2, {}, job_request(('echo', {})))
    assert _server_transport(redis_server).receive_request_message().request_id == 2
