"""Waiting for a message lasts exactly as long as the receive timeout says, however long that is."""

import time

import pytest

from pysoa.common.transport.errors import MessageReceiveTimeout
from tests.redis.services import (
    client_transport,
    job_request,
    standard_kwargs,
)
from tests.support.redis_processes import RedisServer


def test_a_receive_longer_than_five_seconds_ends_in_a_clean_timeout(redis_server: RedisServer) -> None:
    # redis-py 6+ gives sockets a 5-second read timeout by default, which would cut this wait short with a
    # connection error; the transport's connections must leave the wait to BLPOP's own timeout.
    transport = client_transport(standard_kwargs(redis_server.port))
    transport.send_request_message(1, {}, job_request(('echo', {})))

    started = time.monotonic()
    with pytest.raises(MessageReceiveTimeout):
        transport.receive_response_message(6)

    assert 6 <= time.monotonic() - started < 9
