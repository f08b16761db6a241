"""
How long things wait. A receive lasts exactly as long as its timeout says, however long that is; a call's ``timeout``
bounds the whole call, sending included: a Redis that is down or a queue that stays full fail the call within it.
"""

import threading
import time

import pytest

from pysoa.common.transport.errors import (
    MessageReceiveTimeout,
    MessageSendError,
)
from tests.redis.services import (
    REQUEST_QUEUE_KEY,
    SERVICE,
    client_transport,
    job_request,
    make_client,
    standard_kwargs,
)
from tests.support.redis_processes import (
    RedisServer,
    free_port,
)


def test_a_receive_longer_than_five_seconds_ends_in_a_clean_timeout(redis_server: RedisServer) -> None:
    # redis-py 6+ gives sockets a 5-second read timeout by default, which would cut this wait short with a
    # connection error; the transport's connections must leave the wait to BLPOP's own timeout.
    transport = client_transport(standard_kwargs(redis_server.port))
    transport.send_request_message(1, {}, job_request(('echo', {})))

    started = time.monotonic()
    with pytest.raises(MessageReceiveTimeout):
        transport.receive_response_message(6)

    assert 6 <= time.monotonic() - started < 9


def test_call_to_a_redis_that_is_down_fails_within_its_timeout() -> None:
    client = make_client(standard_kwargs(free_port()))  # nobody listens there

    started = time.monotonic()
    with pytest.raises(MessageSendError, match='ConnectionError'):
        client.call_action(SERVICE, 'echo', {}, timeout=2)

    assert time.monotonic() - started < 2.5


@pytest.mark.timeout(60)
def test_call_to_a_full_queue_fails_within_its_timeout(redis_server: RedisServer) -> None:
    client = make_client(standard_kwargs(redis_server.port, queue_capacity=1))
    with redis_server.client() as connection:
        connection.rpush(REQUEST_QUEUE_KEY, b'a request nobody takes')

    started = time.monotonic()
    with pytest.raises(MessageSendError, match=f'^Redis queue service.{SERVICE} was full after [0-9]+ retries'):
        client.call_action(SERVICE, 'echo', {}, timeout=2)

    assert time.monotonic() - started < 2.5


@pytest.mark.timeout(60)
def test_full_queue_retries_stop_when_the_message_would_expire(redis_server: RedisServer) -> None:
    transport = client_transport(standard_kwargs(redis_server.port, queue_capacity=1, message_expiry_in_seconds=3))
    with redis_server.client() as connection:
        connection.rpush(REQUEST_QUEUE_KEY, b'a request nobody takes')

    started = time.monotonic()
    with pytest.raises(MessageSendError, match='was full'):
        transport.send_request_message(1, {}, job_request(('echo', {})))

    assert time.monotonic() - started < 3.5


def test_blocking_call_waits_for_its_response_only_for_what_is_left_of_its_timeout(redis_server: RedisServer) -> None:
    client = make_client(standard_kwargs(redis_server.port, queue_capacity=1))
    with redis_server.client() as connection:
        connection.rpush(REQUEST_QUEUE_KEY, b'a request nobody takes')
    # The queue has room again after 1.5 seconds: the request goes out on a later retry, and no response ever comes.
    drainer = threading.Timer(1.5, lambda: redis_server.client().lpop(REQUEST_QUEUE_KEY))
    drainer.start()

    started = time.monotonic()
    try:
        with pytest.raises(MessageReceiveTimeout):
            client.call_action(SERVICE, 'echo', {}, timeout=4)
    finally:
        drainer.join(5)

    # Waits are in whole seconds, rounded up: at most a second over the timeout (sending then waiting 4 more
    # seconds would take at least 5.75).
    assert time.monotonic() - started < 5.2
