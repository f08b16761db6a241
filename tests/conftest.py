"""
Fixtures shared by every test folder: a real standalone Redis (see tests/support/redis_processes.py) and PySOA 1.4.9
in a virtualenv of its own, to compare with (``original_python``, see tests/support/original_pysoa.py).
"""

from typing import Iterator

import pytest

from tests.support.original_pysoa import original_python  # noqa: F401  (a fixture, shared this way)
from tests.support.redis_processes import (
    RedisServer,
    free_port,
)


@pytest.fixture(scope='session')
def redis_session_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A standalone ``redis-server`` on a free loopback port, for the whole session."""
    server = RedisServer(tmp_path_factory.mktemp('redis-standalone'), free_port()).start()
    yield server
    server.stop()


@pytest.fixture
def redis_server(redis_session_server: RedisServer) -> RedisServer:
    """A standalone Redis, emptied before each test."""
    with redis_session_server.client() as client:
        client.flushall()
    return redis_session_server
