"""
Limits of the Redis gateway transport against real Redis: message expiry (envelope and Redis TTL), expired requests
and responses, queue capacity with retries, maximum message sizes and the oversized-message warning.
"""

import logging
import threading
import time
from typing import Iterator

import msgpack
import pytest

from pysoa.client.errors import CallJobError
from pysoa.common.transport.errors import (
    MessageReceiveTimeout,
    MessageSendError,
    MessageTooLarge,
)
from pysoa.server.server import Server
from tests.redis.services import (
    REQUEST_QUEUE_KEY,
    SERVICE,
    V3_MSGPACK_PREFIX,
    RecordingMetricsRecorder,
    RedisTestServer,
    client_transport,
    envelope,
    job_request,
    make_client,
    make_server,
    pack,
    reply_queue_key,
    response_envelope,
    serve_queued_requests,
    standard_kwargs,
    v3_frame,
)
from tests.support.redis_processes import (
    RedisServer,
    wait_for,
)


CLIENT_PREFIX = 'client.transport.redis_gateway.'


@pytest.fixture
def server(redis_server: RedisServer) -> Iterator[Server]:
    """A server of the test service with default limits, handling requests when the test says."""
    server = make_server(RedisTestServer, standard_kwargs(redis_server.port))
    yield server
    server.teardown()


def _only_request_meta(redis_server: RedisServer) -> dict:  # type: ignore[type-arg]
    with redis_server.client() as connection:
        [frame] = connection.lrange(REQUEST_QUEUE_KEY, 0, -1)
    meta: dict = msgpack.unpackb(frame[len(V3_MSGPACK_PREFIX) :], raw=False)['meta']  # type: ignore[type-arg]
    return meta


# Expiry -------------------------------------------------------------------------------------------------------------


def test_request_expiry_and_queue_ttl_follow_the_expiry_setting(redis_server: RedisServer) -> None:
    transport = client_transport(standard_kwargs(redis_server.port, message_expiry_in_seconds=30))

    sent_at = time.time()
    transport.send_request_message(1, {}, job_request(('echo', {})))

    assert sent_at + 30 <= _only_request_meta(redis_server)['__expiry__'] <= time.time() + 30
    with redis_server.client() as connection:
        assert 28 <= connection.ttl(REQUEST_QUEUE_KEY) <= 30


def test_default_request_expiry_is_60_seconds(redis_server: RedisServer) -> None:
    transport = client_transport(standard_kwargs(redis_server.port))

    sent_at = time.time()
    transport.send_request_message(1, {}, job_request(('echo', {})))

    assert sent_at + 60 <= _only_request_meta(redis_server)['__expiry__'] <= time.time() + 60
    with redis_server.client() as connection:
        assert 58 <= connection.ttl(REQUEST_QUEUE_KEY) <= 60


def test_per_call_timeout_sets_expiry_and_a_ttl_ten_seconds_longer(redis_server: RedisServer) -> None:
    client = make_client(standard_kwargs(redis_server.port, message_expiry_in_seconds=30))

    sent_at = time.time()
    client.call_action_future(SERVICE, 'echo', {}, timeout=7)

    assert sent_at + 7 <= _only_request_meta(redis_server)['__expiry__'] <= time.time() + 7
    with redis_server.client() as connection:
        assert 15 <= connection.ttl(REQUEST_QUEUE_KEY) <= 17


def test_response_queue_ttl_follows_the_server_expiry_setting(redis_server: RedisServer) -> None:
    server = make_server(RedisTestServer, standard_kwargs(redis_server.port, message_expiry_in_seconds=40))
    transport = client_transport(standard_kwargs(redis_server.port), peekable=True)
    transport.send_request_message(1, {}, job_request(('echo', {})))

    server.handle_next_request()

    with redis_server.client() as connection:
        assert 38 <= connection.ttl(reply_queue_key(transport)) <= 40
    server.teardown()


def test_server_drops_a_request_that_expired_on_the_queue(redis_server: RedisServer, server: Server) -> None:
    stale_reply_to = f'service.{SERVICE}.{"0" * 32}!000000000001'
    with redis_server.client() as connection:
        connection.rpush(
            REQUEST_QUEUE_KEY,
            v3_frame(
                envelope(
                    request_id=1,
                    reply_to=stale_reply_to,
                    expires_in=-5,
                )
            ),
        )
        client = make_client(standard_kwargs(redis_server.port))
        future = client.call_action_future(SERVICE, 'echo', {'fresh': True}, timeout=10)

        assert serve_queued_requests(server, connection) == 2
        assert future.result().body == {'fresh': True}
        assert not connection.exists('pysoa:' + stale_reply_to)


def test_expired_response_raises_receive_timeout_and_counts_as_received(redis_server: RedisServer) -> None:
    metrics = RecordingMetricsRecorder()
    transport = client_transport(standard_kwargs(redis_server.port), metrics=metrics)
    transport.send_request_message(1, {}, job_request(('echo', {})))
    with redis_server.client() as connection:
        connection.rpush(reply_queue_key(transport), V3_MSGPACK_PREFIX + pack(response_envelope(1, {}, expires_in=-1)))

    with pytest.raises(MessageReceiveTimeout, match='Message expired'):
        transport.receive_response_message(5)

    assert transport.requests_outstanding == 0
    started = time.monotonic()
    assert transport.receive_response_message(5) == (None, None, None)
    assert time.monotonic() - started < 1
    assert metrics.counter_total(CLIENT_PREFIX + 'receive.error.message_expired') == 1


def test_expired_response_fails_the_future_with_receive_timeout(redis_server: RedisServer) -> None:
    client = make_client(standard_kwargs(redis_server.port))
    future = client.call_action_future(SERVICE, 'echo', {}, timeout=5)
    with redis_server.client() as connection:
        [frame] = connection.lrange(REQUEST_QUEUE_KEY, 0, -1)
        request_id = msgpack.unpackb(frame[len(V3_MSGPACK_PREFIX) :], raw=False)['request_id']
        connection.rpush(
            reply_queue_key(client.handlers[SERVICE].transport),  # type: ignore[arg-type]
            V3_MSGPACK_PREFIX + pack(response_envelope(request_id, {}, expires_in=-1)),
        )

    started = time.monotonic()
    with pytest.raises(MessageReceiveTimeout):
        future.result()
    assert time.monotonic() - started < 4  # it did not wait out the timeout for a response already consumed


# Queue capacity -----------------------------------------------------------------------------------------------------


def test_full_queue_without_retries_raises_message_send_error(redis_server: RedisServer) -> None:
    metrics = RecordingMetricsRecorder()
    transport = client_transport(
        standard_kwargs(redis_server.port, queue_capacity=2, queue_full_retries=0),
        metrics=metrics,
    )
    for request_id in (1, 2):
        transport.send_request_message(request_id, {}, job_request(('echo', {})))

    with pytest.raises(MessageSendError) as error_info:
        transport.send_request_message(3, {}, job_request(('echo', {})))

    assert error_info.value.args[0] == f'Redis queue service.{SERVICE} was full after 0 retries'
    assert metrics.counter_total(CLIENT_PREFIX + 'send.error.redis_queue_full') == 1
    assert metrics.counter_total(CLIENT_PREFIX + 'send.queue_full_retry') == 0
    assert transport.requests_outstanding == 2
    with redis_server.client() as connection:
        assert connection.llen(REQUEST_QUEUE_KEY) == 2


def test_full_queue_retries_are_counted_before_giving_up(redis_server: RedisServer) -> None:
    metrics = RecordingMetricsRecorder()
    transport = client_transport(
        standard_kwargs(redis_server.port, queue_capacity=1, queue_full_retries=1),
        metrics=metrics,
    )
    transport.send_request_message(1, {}, job_request(('echo', {})))

    with pytest.raises(MessageSendError, match=f'^Redis queue service.{SERVICE} was full after 1 retries$'):
        transport.send_request_message(2, {}, job_request(('echo', {})))

    assert metrics.counter_total(CLIENT_PREFIX + 'send.queue_full_retry') == 1
    assert metrics.counter_total(CLIENT_PREFIX + 'send.queue_full_retry.retry_1') == 1
    assert metrics.counter_total(CLIENT_PREFIX + 'send.error.redis_queue_full') == 1


def test_send_succeeds_when_the_queue_drains_between_retries(redis_server: RedisServer) -> None:
    metrics = RecordingMetricsRecorder()
    transport = client_transport(
        standard_kwargs(redis_server.port, queue_capacity=1, queue_full_retries=4),
        metrics=metrics,
    )
    transport.send_request_message(1, {}, job_request(('echo', {})))
    errors = []

    def send_second() -> None:
        try:
            transport.send_request_message(2, {}, job_request(('echo', {})))
        except Exception as e:
            errors.append(e)

    sender = threading.Thread(target=send_second)
    sender.start()
    wait_for(lambda: metrics.counter_total(CLIENT_PREFIX + 'send.queue_full_retry') >= 1, 10, 'a queue-full retry')
    with redis_server.client() as connection:
        first = connection.lpop(REQUEST_QUEUE_KEY)
        sender.join(10)
        [second] = connection.lrange(REQUEST_QUEUE_KEY, 0, -1)

    assert errors == []
    assert first is not None
    assert msgpack.unpackb(first[len(V3_MSGPACK_PREFIX) :], raw=False)['request_id'] == 1
    assert msgpack.unpackb(second[len(V3_MSGPACK_PREFIX) :], raw=False)['request_id'] == 2
    assert metrics.counter_total(CLIENT_PREFIX + 'send.queue_full_retry.retry_1') == 1
    assert metrics.counter_total(CLIENT_PREFIX + 'send.error.redis_queue_full') == 0


# Message sizes ------------------------------------------------------------------------------------------------------


def test_oversized_request_raises_message_too_large_with_its_size(redis_server: RedisServer) -> None:
    metrics = RecordingMetricsRecorder()
    transport = client_transport(standard_kwargs(redis_server.port), metrics=metrics)

    with pytest.raises(MessageTooLarge) as error_info:
        transport.send_request_message(1, {}, job_request(('echo', {'data': 'x' * 150000})))

    assert 150000 < error_info.value.message_size_in_bytes < 151000
    assert transport.requests_outstanding == 0
    assert metrics.counter_total(CLIENT_PREFIX + 'send.error.message_too_large') == 1
    with redis_server.client() as connection:
        assert connection.llen(REQUEST_QUEUE_KEY) == 0


def test_client_maximum_message_size_is_configurable(redis_server: RedisServer) -> None:
    transport = client_transport(standard_kwargs(redis_server.port, maximum_message_size_in_bytes=500))

    with pytest.raises(MessageTooLarge):
        transport.send_request_message(1, {}, job_request(('echo', {'data': 'x' * 600})))


def test_response_over_the_server_maximum_becomes_a_response_too_large_error(redis_server: RedisServer) -> None:
    server = make_server(
        RedisTestServer,
        standard_kwargs(
            redis_server.port,
            maximum_message_size_in_bytes=150000,
            log_messages_larger_than_bytes=0,
        ),
    )
    client = make_client(standard_kwargs(redis_server.port))
    future = client.call_action_future(SERVICE, 'big', {'size': 200000}, timeout=10)

    server.handle_next_request()

    with pytest.raises(CallJobError) as error_info:
        future.result()
    assert [e.code for e in error_info.value.errors] == ['RESPONSE_TOO_LARGE']
    server.teardown()


def test_message_over_the_log_threshold_is_logged_as_oversized(
    redis_server: RedisServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    transport = client_transport(standard_kwargs(redis_server.port, log_messages_larger_than_bytes=1000))

    with caplog.at_level(logging.WARNING, logger='pysoa.transport.oversized_message'):
        transport.send_request_message(1, {}, job_request(('echo', {'data': 'x' * 5000})))

    [record] = [r for r in caplog.records if r.name == 'pysoa.transport.oversized_message']
    assert record.levelno == logging.WARNING
    assert record.getMessage() == f'Oversized message sent for PySOA service {SERVICE}'
    assert record.data['threshold'] == 1000  # type: ignore[attr-defined]
    assert 5000 < record.data['serialized_length_in_bytes'] < 6000  # type: ignore[attr-defined]
    assert "'request_id': 1" in str(record.data['message'])  # type: ignore[attr-defined]


def test_message_under_the_log_threshold_is_not_logged(
    redis_server: RedisServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    transport = client_transport(standard_kwargs(redis_server.port, log_messages_larger_than_bytes=10000))

    with caplog.at_level(logging.WARNING, logger='pysoa.transport.oversized_message'):
        transport.send_request_message(1, {}, job_request(('echo', {'data': 'x' * 5000})))

    assert [r for r in caplog.records if r.name == 'pysoa.transport.oversized_message'] == []


def test_server_drops_an_oversized_raw_request_and_keeps_serving(
    redis_server: RedisServer,
    server: Server,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = make_client(standard_kwargs(redis_server.port))
    with redis_server.client() as connection:
        connection.rpush(
            REQUEST_QUEUE_KEY,
            v3_frame(
                envelope(
                    request_id=1,
                    reply_to=f'service.{SERVICE}.{"0" * 32}!000000000001',
                    body=job_request(('echo', {'data': 'x' * 300000})),
                )
            ),
        )
        future = client.call_action_future(SERVICE, 'echo', {'after': 'oversized'}, timeout=10)

        with caplog.at_level(logging.ERROR, logger='pysoa.server'):
            assert serve_queued_requests(server, connection) == 2

    assert future.result().body == {'after': 'oversized'}
    [record] = [r for r in caplog.records if r.name == 'pysoa.server' and r.levelno >= logging.ERROR]
    assert isinstance(record.exc_info[1], MessageTooLarge)  # type: ignore[index]
    assert record.exc_info[1].message_size_in_bytes > 300000  # type: ignore[index]
