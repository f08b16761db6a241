"""
Stray messages on a client's reply queue: garbage, expired responses, and responses to requests the client never
sent, already received, or gave up on. Each is dropped with one warning and a metric, never counts as the response
to one of the client's requests, and the client's later calls still get their own responses; responses nobody claims
are not kept without bound.
"""

import logging
import threading
import time
from typing import (
    Callable,
    Dict,
    Iterator,
    List,
)

import msgpack
import pytest

from pysoa.client.client import Client
from pysoa.client.service_handler import ServiceHandler
from pysoa.common.transport.base import get_hex_thread_id
from pysoa.common.transport.errors import (
    MessageReceiveTimeout,
    PySOATransportError,
)
from pysoa.common.transport.redis_gateway.client import RedisClientTransport
from tests.redis.services import (
    REQUEST_QUEUE_KEY,
    SERVICE,
    V3_MSGPACK_PREFIX,
    RecordingMetricsRecorder,
    RedisTestServer,
    client_settings,
    client_transport,
    job_request,
    make_client,
    pack,
    reply_queue_key,
    response_envelope,
    server_settings,
    standard_kwargs,
)
from tests.support.redis_processes import (
    RedisServer,
    wait_for,
)
from tests.support.server_runner import ThreadedServer


TRANSPORT_PREFIX = 'client.transport.redis_gateway.'
TRANSPORT_LOGGER = 'pysoa.common.transport.redis_gateway.client'
CLIENT_LOGGER = 'pysoa.client.client'

NEVER_SENT = 0  # request ids start at 1


def _response_frame(request_id: int, expires_in: float = 60.0) -> bytes:
    return V3_MSGPACK_PREFIX + pack(response_envelope(request_id, {'stray': True}, expires_in=expires_in))


# Each stray, given the id of a request the client has already had its response to.
STRAYS: Dict[str, Callable[[int], bytes]] = {
    'garbage_bytes': lambda answered: b'\xc1\xc1\xc1 this is not a message',
    'unknown_protocol_version': lambda answered: b'pysoa-redis/9//content-type:application/msgpack;' + pack({}),
    'no_request_id': lambda answered: V3_MSGPACK_PREFIX + pack({'meta': {}, 'body': {}}),
    'expired_response': lambda answered: _response_frame(NEVER_SENT, expires_in=-1),
    'response_to_a_request_never_sent': lambda answered: _response_frame(NEVER_SENT),
    'second_response_to_an_answered_request': lambda answered: _response_frame(answered),
}

# The metric each kind of stray counts in, and what its warning says.
STRAY_METRICS = {
    'garbage_bytes': 'receive.error.invalid_message',
    'unknown_protocol_version': 'receive.error.invalid_message',
    'no_request_id': 'receive.error.invalid_message',
    'expired_response': 'receive.error.unsolicited_message',
    'response_to_a_request_never_sent': 'receive.error.unsolicited_message',
    'second_response_to_an_answered_request': 'receive.error.unsolicited_message',
}
STRAY_WARNINGS = {
    'garbage_bytes': 'Dropped an unreadable message',
    'unknown_protocol_version': 'Dropped an unreadable message',
    'no_request_id': 'Dropped an unreadable message',
    'expired_response': f'Dropped an expired response to request {NEVER_SENT}',
    'response_to_a_request_never_sent': f'Dropped a response to request {NEVER_SENT}',
    'second_response_to_an_answered_request': 'Dropped a response to request',
}


@pytest.fixture
def server(redis_server: RedisServer) -> Iterator[ThreadedServer]:
    with ThreadedServer(RedisTestServer, server_settings(standard_kwargs(redis_server.port))) as server:
        yield server


def _transport_of(client: Client) -> RedisClientTransport:
    transport = client.handlers[SERVICE].transport
    assert isinstance(transport, RedisClientTransport)
    return transport


def _metrics_of(client: Client) -> RecordingMetricsRecorder:
    metrics = client.handlers[SERVICE].metrics
    assert isinstance(metrics, RecordingMetricsRecorder)
    return metrics


def _queued_request_ids(redis_server: RedisServer) -> List[int]:
    with redis_server.client() as connection:
        frames = connection.lrange(REQUEST_QUEUE_KEY, 0, -1)
    return [msgpack.unpackb(frame[len(V3_MSGPACK_PREFIX) :], raw=False)['request_id'] for frame in frames]


def _warnings(caplog: pytest.LogCaptureFixture, logger: str) -> List[str]:
    return [r.getMessage() for r in caplog.records if r.name == logger and r.levelno == logging.WARNING]


@pytest.mark.parametrize('stray', sorted(STRAYS))
def test_stray_message_on_the_reply_queue_does_not_desynchronize_later_calls(
    redis_server: RedisServer,
    server: ThreadedServer,
    stray: str,
) -> None:
    client = make_client(standard_kwargs(redis_server.port))
    assert client.call_action(SERVICE, 'echo', {'call': 0}, timeout=5).body == {'call': 0}
    answered = client.handlers[SERVICE].request_counter - 1
    with redis_server.client() as connection:
        connection.rpush(reply_queue_key(_transport_of(client)), STRAYS[stray](answered))

    bodies = [client.call_action(SERVICE, 'echo', {'call': n}, timeout=5).body for n in (1, 2, 3)]

    assert bodies == [{'call': 1}, {'call': 2}, {'call': 3}]
    assert _transport_of(client).requests_outstanding == 0
    assert server.errors == []


@pytest.mark.parametrize('stray', sorted(STRAYS))
def test_stray_message_is_dropped_with_one_warning_and_a_metric(
    redis_server: RedisServer,
    caplog: pytest.LogCaptureFixture,
    stray: str,
) -> None:
    metrics = RecordingMetricsRecorder()
    transport = client_transport(standard_kwargs(redis_server.port), metrics=metrics)
    transport.send_request_message(7, {}, job_request(('echo', {})))
    with redis_server.client() as connection:
        connection.rpush(reply_queue_key(transport), STRAYS[stray](NEVER_SENT), _response_frame(7))

    with caplog.at_level(logging.WARNING, logger=TRANSPORT_LOGGER):
        request_id, _meta, _body = transport.receive_response_message(5)

    assert request_id == 7
    [warning] = _warnings(caplog, TRANSPORT_LOGGER)
    assert warning.startswith(STRAY_WARNINGS[stray])
    assert metrics.counter_total(TRANSPORT_PREFIX + STRAY_METRICS[stray]) == 1


@pytest.mark.parametrize('stray', sorted(STRAYS))
def test_stray_message_does_not_count_as_a_received_response(redis_server: RedisServer, stray: str) -> None:
    transport = client_transport(standard_kwargs(redis_server.port))
    transport.send_request_message(7, {}, job_request(('echo', {})))
    with redis_server.client() as connection:
        connection.rpush(reply_queue_key(transport), STRAYS[stray](NEVER_SENT))

    with pytest.raises(MessageReceiveTimeout):
        transport.receive_response_message(1)

    assert transport.requests_outstanding == 1


def test_stray_messages_do_not_extend_the_receive_timeout(redis_server: RedisServer) -> None:
    transport = client_transport(standard_kwargs(redis_server.port))
    transport.send_request_message(7, {}, job_request(('echo', {})))
    stop = threading.Event()

    def push_strays() -> None:
        with redis_server.client() as connection:
            while not stop.wait(0.3):
                connection.rpush(reply_queue_key(transport, thread_id), _response_frame(NEVER_SENT))

    thread_id = get_hex_thread_id()
    pusher = threading.Thread(target=push_strays)
    pusher.start()
    started = time.monotonic()
    try:
        with pytest.raises(MessageReceiveTimeout):
            transport.receive_response_message(2)
    finally:
        stop.set()
        pusher.join(5)

    assert time.monotonic() - started < 3.5


def test_late_response_to_a_timed_out_call_is_dropped_not_kept(
    redis_server: RedisServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = make_client(standard_kwargs(redis_server.port))
    with pytest.raises(MessageReceiveTimeout):
        client.call_action(SERVICE, 'echo', {'call': 'timed out'}, timeout=1)
    [abandoned] = _queued_request_ids(redis_server)
    with redis_server.client() as connection:
        connection.delete(REQUEST_QUEUE_KEY)  # the server below will not run the abandoned request
        connection.rpush(reply_queue_key(_transport_of(client)), _response_frame(abandoned))

    with (
        caplog.at_level(logging.WARNING, logger=CLIENT_LOGGER),
        ThreadedServer(RedisTestServer, server_settings(standard_kwargs(redis_server.port))),
    ):
        assert client.call_action(SERVICE, 'echo', {'call': 'next'}, timeout=5).body == {'call': 'next'}

    assert _warnings(caplog, CLIENT_LOGGER) == [
        f'Dropping response from service {SERVICE} to request {abandoned}, which nobody is waiting for',
    ]
    assert _metrics_of(client).counter_total('client.receive.error.unwanted_response') == 1
    assert list(client.get_all_responses(SERVICE, 1)) == []


def test_expired_response_fails_only_its_own_future(redis_server: RedisServer) -> None:
    client = make_client(standard_kwargs(redis_server.port))
    first = client.call_action_future(SERVICE, 'echo', {'n': 1}, timeout=5)
    second = client.call_action_future(SERVICE, 'echo', {'n': 2}, timeout=5)
    first_id, second_id = _queued_request_ids(redis_server)
    with redis_server.client() as connection:
        connection.rpush(
            reply_queue_key(_transport_of(client)),
            _response_frame(first_id, expires_in=-1),
            _response_frame(second_id),
        )

    assert second.result().body == {'stray': True}
    with pytest.raises(MessageReceiveTimeout, match='expired'):
        first.result()


class _SmallBufferHandler(ServiceHandler):
    maximum_unclaimed_responses = 2


class _SmallBufferClient(Client):
    handler_class = _SmallBufferHandler


def test_unclaimed_responses_are_bounded_dropping_the_oldest(
    redis_server: RedisServer,
    server: ThreadedServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = _SmallBufferClient({SERVICE: client_settings(standard_kwargs(redis_server.port), peekable=True)})
    futures = [client.call_action_future(SERVICE, 'echo', {'n': n}, timeout=5) for n in range(4)]
    oldest_id = client.handlers[SERVICE].request_counter - 4
    wait_for(lambda: redis_server.client().llen(reply_queue_key(_transport_of(client))) == 4, 10, 'four responses')

    with caplog.at_level(logging.WARNING, logger=CLIENT_LOGGER):
        assert client.call_action(SERVICE, 'echo', {'n': 'blocking'}, timeout=5).body == {'n': 'blocking'}

    assert [future.result().body for future in futures[2:]] == [{'n': 2}, {'n': 3}]
    with pytest.raises(PySOATransportError, match=f'no response for request {oldest_id} '):
        futures[0].result()
    assert len(_warnings(caplog, CLIENT_LOGGER)) == 2
    assert _metrics_of(client).counter_total('client.receive.error.unclaimed_response_dropped') == 2


def test_outstanding_requests_of_a_thread_are_bounded_giving_up_on_the_oldest(
    redis_server: RedisServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    metrics = RecordingMetricsRecorder()
    transport = client_transport(standard_kwargs(redis_server.port), metrics=metrics)
    transport.maximum_outstanding_requests = 2

    with caplog.at_level(logging.WARNING, logger=TRANSPORT_LOGGER):
        for request_id in (1, 2, 3):
            transport.send_request_message(request_id, {}, job_request(('echo', {})))

    assert transport.requests_outstanding == 2
    assert len(_warnings(caplog, TRANSPORT_LOGGER)) == 1
    assert metrics.counter_total(TRANSPORT_PREFIX + 'outstanding_request_forgotten') == 1
    with redis_server.client() as connection:
        connection.rpush(reply_queue_key(transport), _response_frame(1), _response_frame(2))
    assert transport.receive_response_message(5).request_id == 2
