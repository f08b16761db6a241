"""
The backends' choice of Redis master per queue (crc32 hashing for reply queues, a random cycle for request queues)
and their argument checks. No Redis is contacted: redis-py clients connect lazily.
"""

import asyncio
import binascii
import itertools
from typing import (
    Any,
    List,
)

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from pysoa.common.transport.redis_gateway._async_backend import (
    AsyncSentinelRedisBackend,
    AsyncStandardRedisBackend,
)
from pysoa.common.transport.redis_gateway.backend._held_connections import HeldConnections
from pysoa.common.transport.redis_gateway.backend.base import (
    DEFAULT_CONNECTION_RETRIES,
    DEFAULT_CONNECTION_RETRY,
    BaseRedisClient,
    send_message_to_queue,
)
from pysoa.common.transport.redis_gateway.backend.sentinel import SentinelRedisClient
from pysoa.common.transport.redis_gateway.backend.standard import StandardRedisClient


SPEC_EXAMPLE_KEY = 'pysoa:service.example.0123456789abcdef0123456789abcdef!7f0000000001'


def _standard(ring_size: int) -> StandardRedisClient:
    return StandardRedisClient(hosts=[('127.0.0.1', 1 + index) for index in range(ring_size)])


# Reply queues: consistent hashing -----------------------------------------------------------------------------------


def test_spec_example_key_hashes_to_2793() -> None:
    assert binascii.crc32(SPEC_EXAMPLE_KEY.encode('utf-8')) & 0xFFF == 2793


@pytest.mark.parametrize(('ring_size', 'index'), [(1, 0), (2, 1), (3, 2), (4, 2)])
def test_reply_queue_of_the_spec_example_maps_to_the_documented_master(ring_size: int, index: int) -> None:
    assert _standard(ring_size).get_connection_index(SPEC_EXAMPLE_KEY) == index


@pytest.mark.parametrize('ring_size', [1, 2, 3, 5, 8])
def test_reply_queue_index_is_the_same_on_every_call_and_every_backend(ring_size: int) -> None:
    keys = [f'pysoa:service.svc.{n:032x}!{n * 7919:012x}' for n in range(200)]
    first, second = _standard(ring_size), _standard(ring_size)

    indices = [first.get_connection_index(key) for key in keys]

    assert indices == [first.get_connection_index(key) for key in keys]
    assert indices == [second.get_connection_index(key) for key in keys]
    assert indices == [int((binascii.crc32(k.encode()) & 0xFFF) / (4096.0 / ring_size)) for k in keys]
    assert set(indices) == set(range(ring_size))


def test_reply_queue_connection_is_the_client_of_the_hashed_master() -> None:
    backend = _standard(4)

    connection = backend.get_connection(SPEC_EXAMPLE_KEY)

    assert connection.connection_pool.connection_kwargs['port'] == 3


# Request queues: random cycle ---------------------------------------------------------------------------------------


@pytest.mark.parametrize('ring_size', [1, 2, 3, 5])
def test_request_queue_indices_repeat_one_permutation_of_the_ring(ring_size: int) -> None:
    backend = _standard(ring_size)

    indices = [backend.get_connection_index('pysoa:service.svc') for _ in range(ring_size * 4)]

    first_round = indices[:ring_size]
    assert sorted(first_round) == list(range(ring_size))
    assert indices == list(itertools.islice(itertools.cycle(first_round), ring_size * 4))


def test_request_queue_cycle_is_shared_by_all_request_queues() -> None:
    backend = _standard(2)

    indices = [backend.get_connection_index(key) for key in ('pysoa:service.a', 'pysoa:service.b')]

    assert sorted(indices) == [0, 1]


def test_request_queue_permutation_is_random_per_backend() -> None:
    orders = {tuple(_standard(3).get_connection_index('pysoa:service.svc') for _ in range(3)) for _ in range(60)}

    assert len(orders) > 1


@pytest.mark.parametrize('ring_size', [1, 2, 3, 5])
def test_the_asynchronous_backend_puts_each_reply_queue_on_the_master_the_synchronous_one_does(ring_size: int) -> None:
    keys = [f'pysoa:service.svc.{n:032x}!{n * 7919:012x}' for n in range(100)]
    hosts = [('127.0.0.1', 1 + index) for index in range(ring_size)]

    async def indices() -> List[int]:
        asynchronous = AsyncStandardRedisBackend(hosts=hosts)
        return [await asynchronous.connection_index(key) for key in keys]

    assert asyncio.run(indices()) == [_standard(ring_size).get_connection_index(key) for key in keys]


# Standard backend ---------------------------------------------------------------------------------------------------


def test_standard_backend_defaults_to_localhost_6379() -> None:
    [client] = [StandardRedisClient().get_connection('pysoa:service.svc')]

    assert client.connection_pool.connection_kwargs['host'] == 'localhost'
    assert client.connection_pool.connection_kwargs['port'] == 6379


def test_standard_backend_applies_connection_defaults_unless_given() -> None:
    defaults = StandardRedisClient(hosts=[('h', 1)]).get_connection('k').connection_pool.connection_kwargs
    given = (
        StandardRedisClient(
            hosts=[('h', 1)],
            connection_kwargs={'socket_connect_timeout': 1.5, 'socket_keepalive': False, 'db': 4},
        )
        .get_connection('k')
        .connection_pool.connection_kwargs
    )

    assert (defaults['socket_connect_timeout'], defaults['socket_keepalive']) == (5.0, True)
    assert (given['socket_connect_timeout'], given['socket_keepalive'], given['db']) == (1.5, False, 4)


def test_standard_backend_connections_retry_twice_quickly_by_default() -> None:
    retry = StandardRedisClient(hosts=[('h', 1)]).get_connection('k').connection_pool.connection_kwargs['retry']

    assert retry == DEFAULT_CONNECTION_RETRY
    assert retry.get_retries() == DEFAULT_CONNECTION_RETRIES == 2


def test_connection_kwargs_retry_overrides_the_default_retry_policy() -> None:
    mine = Retry(NoBackoff(), 5)

    retry = (
        StandardRedisClient(
            hosts=[('h', 1)],
            connection_kwargs={'retry': mine},
        )
        .get_connection('k')
        .connection_pool.connection_kwargs['retry']
    )

    assert retry == mine


def test_sentinel_backend_master_connections_retry_twice_quickly_by_default() -> None:
    backend = SentinelRedisClient(hosts=[('127.0.0.1', 1)], sentinel_services=['s'])

    assert backend._sentinel.connection_kwargs['retry'] == DEFAULT_CONNECTION_RETRY


def test_standard_backend_string_host_uses_port_6379() -> None:
    kwargs = StandardRedisClient(hosts=['redis.example']).get_connection('k').connection_pool.connection_kwargs

    assert (kwargs['host'], kwargs['port']) == ('redis.example', 6379)


def test_standard_backend_url_host_is_deprecated_but_works() -> None:
    with pytest.warns(DeprecationWarning):
        backend = StandardRedisClient(hosts=['redis://redis.example:6390/3'])

    kwargs = backend.get_connection('k').connection_pool.connection_kwargs
    assert (kwargs['host'], kwargs['port'], kwargs['db']) == ('redis.example', 6390, 3)


def test_the_url_host_deprecation_warning_names_the_code_that_made_the_backend() -> None:
    with pytest.warns(DeprecationWarning) as warned:
        StandardRedisClient(hosts=['redis://redis.example:6390/3'])

    assert [warning.filename for warning in warned] == [__file__]


def test_the_asynchronous_backend_url_host_deprecation_warning_names_the_code_that_made_it() -> None:
    async def make_backend() -> None:
        AsyncStandardRedisBackend(hosts=['redis://redis.example:6390/3'])

    with pytest.warns(DeprecationWarning) as warned:
        asyncio.run(make_backend())

    assert [warning.filename for warning in warned] == [__file__]


@pytest.mark.parametrize('hosts', ['localhost', [('localhost', '6379')], [6379], [('localhost', 6379, 0)]])
def test_standard_backend_rejects_malformed_hosts(hosts: Any) -> None:
    with pytest.raises(ValueError):
        StandardRedisClient(hosts=hosts)


@pytest.mark.parametrize('hosts', ['localhost', [('localhost', '6379')], [6379], [('localhost', 6379, 0)]])
def test_the_asynchronous_standard_backend_rejects_the_hosts_the_synchronous_one_rejects(hosts: Any) -> None:
    with pytest.raises(ValueError) as synchronous:
        StandardRedisClient(hosts=hosts)

    with pytest.raises(ValueError) as asynchronous:
        AsyncStandardRedisBackend(hosts=hosts)

    assert str(asynchronous.value) == str(synchronous.value)


def test_standard_backend_rejects_an_index_outside_the_ring() -> None:
    with pytest.raises(ValueError, match=r'^There are only 2 hosts, but you asked for connection 2\.$'):
        _standard(2)._get_connection(2)


# Sentinel backend ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ('arguments', 'message'),
    [
        ({'sentinel_failover_retries': -1}, 'sentinel_failover_retries must be a non-negative integer'),
        ({'sentinel_services': 'service'}, 'sentinel_services must be a list of service name strings'),
        ({'sentinel_services': ['service', 7]}, 'sentinel_services must be a list of service name strings'),
    ],
)
def test_both_sentinel_backends_reject_malformed_arguments_alike(arguments: Any, message: str) -> None:
    for backend_class in (SentinelRedisClient, AsyncSentinelRedisBackend):
        with pytest.raises(ValueError, match=f'^{message}$'):
            backend_class(hosts=[('127.0.0.1', 1)], **arguments)


def test_sentinel_backend_ring_is_the_configured_services_in_order() -> None:
    backend = SentinelRedisClient(hosts=[('127.0.0.1', 1)], sentinel_services=['b-service', 'a-service'])

    assert backend.services == ['b-service', 'a-service']
    assert backend.get_connection_index(SPEC_EXAMPLE_KEY) == 1


def test_sentinel_backend_without_hosts_asks_localhost_26379() -> None:
    backend = SentinelRedisClient(sentinel_services=['s'])

    [sentinel] = backend._sentinel.sentinels
    assert (sentinel.connection_pool.connection_kwargs['host'], sentinel.connection_pool.connection_kwargs['port']) == (
        'localhost',
        26379,
    )


def test_sentinel_backend_rejects_negative_failover_retries() -> None:
    with pytest.raises(ValueError):
        SentinelRedisClient(sentinel_services=['s'], sentinel_failover_retries=-1)


@pytest.mark.parametrize('services', ['service', [1, 2], ('service',)])
def test_sentinel_backend_rejects_services_that_are_not_a_list_of_strings(services: Any) -> None:
    with pytest.raises(ValueError):
        SentinelRedisClient(sentinel_services=services)


def test_sentinel_backend_rejects_an_index_outside_the_ring() -> None:
    with pytest.raises(ValueError, match=r'^There are only 1 hosts, but you asked for connection 1\.$'):
        SentinelRedisClient(sentinel_services=['s'])._get_connection(1)


# Enqueue script -----------------------------------------------------------------------------------------------------


class _RecordingConnections(HeldConnections):
    """Records the commands instead of sending them."""

    def __init__(self) -> None:
        super().__init__()
        self.commands: List[Any] = []

    def execute(self, client: redis.Redis, *command: Any) -> Any:
        self.commands.append(command)
        return 1


def test_send_passes_ttl_capacity_then_every_frame_to_one_script_call() -> None:
    backend: BaseRedisClient = _standard(1)
    backend.held_connections = recording = _RecordingConnections()

    backend.send_message_to_queue(redis.Redis(), 'pysoa:q', [b'frame-1', b'frame-2', b'frame-3'], 70, 500)

    assert recording.commands == [
        ('EVALSHA', send_message_to_queue.sha, 1, 'pysoa:q', 70, 500, b'frame-1', b'frame-2', b'frame-3'),
    ]
