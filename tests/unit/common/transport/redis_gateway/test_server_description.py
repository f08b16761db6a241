"""``RedisServerTransport.describe()``: where a server listens, as its start-up log says (no connection is made)."""

from typing import Any

from pymetrics.recorders.noop import noop_metrics

from pysoa.common.transport.redis_gateway.server import RedisServerTransport


def describe(backend_type: str, **backend_layer_kwargs: Any) -> str:
    transport = RedisServerTransport(
        'example',
        noop_metrics,
        backend_type=backend_type,
        backend_layer_kwargs=backend_layer_kwargs,
    )
    return transport.describe()


def test_standard_backend_is_described_by_its_queue_and_hosts() -> None:
    assert describe('redis.standard', hosts=[('redis-1', 6379), 'redis-2'], redis_port=6380) == (
        'queue pysoa:service.example of Redis redis-1:6379, redis-2:6380'
    )


def test_standard_backend_without_hosts_is_described_with_the_default_host() -> None:
    assert describe('redis.standard') == 'queue pysoa:service.example of Redis localhost:6379'


def test_sentinel_backend_is_described_by_its_queue_services_and_sentinels() -> None:
    description = describe(
        'redis.sentinel',
        hosts=[('sentinel-1', 26379), ('sentinel-2', 26380)],
        sentinel_services=['one', 'two'],
    )

    assert description == (
        'queue pysoa:service.example of Redis Sentinel services one, two (Sentinels sentinel-1:26379, sentinel-2:26380)'
    )


def test_sentinel_backend_without_services_says_the_sentinels_name_them() -> None:
    assert describe('redis.sentinel') == (
        'queue pysoa:service.example of the masters the Redis Sentinels localhost:26379 monitor'
    )


def test_passwords_are_never_part_of_the_description() -> None:
    description = describe(
        'redis.sentinel',
        hosts=[('sentinel-1', 26379)],
        sentinel_services=['one'],
        connection_kwargs={'password': 'master-secret', 'username': 'user'},
        sentinel_kwargs={'password': 'sentinel-secret'},
    )
    url_description = describe('redis.standard', hosts=['redis://user:url-secret@redis-1:6379/0'])

    assert 'secret' not in description
    assert 'user' not in description
    assert 'url-secret' not in url_description
