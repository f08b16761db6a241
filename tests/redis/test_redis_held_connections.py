"""
The backends run the enqueue script and BLPOP on one connection each thread keeps per Redis client, instead of
checking a connection out of redis-py's pool for every command; the connection is replaced when it fails or after a
reset, and the script is loaded again when Redis forgets it.
"""

import gc
import threading
import uuid
from typing import (
    Any,
    Callable,
    List,
    Set,
)

import pytest
import redis

from pysoa.common.transport.redis_gateway.backend.standard import StandardRedisClient
from tests.support.redis_processes import RedisServer


CLIENT_NAME = f'pysoa-held-connections-test-{uuid.uuid4().hex}'
QUEUE = 'pysoa:service.held.0123456789abcdef0123456789abcdef!000000000001'


def _backend(server: RedisServer) -> StandardRedisClient:
    # Named, so that the connections of other tests' clients to the same Redis are not counted.
    return StandardRedisClient(hosts=[('127.0.0.1', server.port)], connection_kwargs={'client_name': CLIENT_NAME})


def _send(backend: StandardRedisClient, frame: bytes) -> None:
    backend.send_message_to_queue(backend.get_connection(QUEUE), QUEUE, [frame], 60, 100)


def _client_ids(server: RedisServer) -> Set[int]:
    """The ids of the connections the backends of this module hold."""
    with server.client() as admin:
        return {int(c['id']) for c in admin.client_list() if c.get('name') == CLIENT_NAME}


def _queue_after_sending_around(server: RedisServer, disrupt: Callable[[redis.Redis], Any]) -> List[bytes]:
    """Send ``before``, let ``disrupt`` act on Redis through an admin client, send ``after``; return the queue."""
    backend = _backend(server)
    _send(backend, b'before')
    with server.client() as admin:
        disrupt(admin)

    _send(backend, b'after')

    with server.client() as admin:
        queue: List[bytes] = admin.lrange(QUEUE, 0, -1)
    return queue


def test_commands_of_a_thread_share_one_connection(redis_server: RedisServer) -> None:
    backend = _backend(redis_server)

    for index in range(20):
        _send(backend, b'frame-%d' % index)
        assert backend.pop(backend.get_connection(QUEUE), QUEUE, 1) == b'frame-%d' % index

    assert len(_client_ids(redis_server)) == 1


def test_each_thread_has_a_connection_of_its_own(redis_server: RedisServer) -> None:
    backend = _backend(redis_server)
    sent, counted = threading.Event(), threading.Event()

    def send_and_wait() -> None:
        _send(backend, b'other')
        sent.set()
        counted.wait(10)

    _send(backend, b'main')
    thread = threading.Thread(target=send_and_wait)
    thread.start()
    try:
        assert sent.wait(10)
        assert len(_client_ids(redis_server)) == 2
    finally:
        counted.set()
        thread.join(10)


def test_a_connection_redis_closed_is_replaced_and_the_command_succeeds(redis_server: RedisServer) -> None:
    def close_every_other_connection(admin: redis.Redis) -> None:
        admin.client_kill_filter(_type='normal', skipme=True)

    assert _queue_after_sending_around(redis_server, close_every_other_connection) == [b'before', b'after']


def test_the_script_is_loaded_again_when_redis_forgot_it(redis_server: RedisServer) -> None:
    assert _queue_after_sending_around(redis_server, redis.Redis.script_flush) == [b'before', b'after']


def test_after_a_reset_the_thread_takes_a_new_connection_and_gives_back_the_old_one(redis_server: RedisServer) -> None:
    backend = _backend(redis_server)
    _send(backend, b'before')
    [old_id] = _client_ids(redis_server)

    backend.reset_clients()
    _send(backend, b'after')

    [new_id] = _client_ids(redis_server)
    assert new_id != old_id


def test_queue_full_is_still_an_error_reply(redis_server: RedisServer) -> None:
    backend = _backend(redis_server)
    connection = backend.get_connection(QUEUE)
    backend.send_message_to_queue(connection, QUEUE, [b'1'], 60, 1)

    with pytest.raises(redis.ResponseError, match='queue full'):
        backend.send_message_to_queue(connection, QUEUE, [b'2'], 60, 1)
    assert backend.pop(connection, QUEUE, 1) == b'1'  # the connection still works after an error reply


def test_the_connection_of_a_thread_that_ended_is_closed(redis_server: RedisServer) -> None:
    backend = _backend(redis_server)
    _send(backend, b'main')
    thread = threading.Thread(target=_send, args=(backend, b'other'))
    thread.start()
    thread.join(10)
    gc.collect()

    assert len(_client_ids(redis_server)) == 1
