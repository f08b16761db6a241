"""
Redis hosts given as strings in ``backend_layer_kwargs.hosts``: ``'host:port'`` is read as a host and a port, never
as a host name with the default port; a string that cannot be read is refused when the settings are validated.
"""

from typing import (
    Any,
    List,
)

import pytest
from pymetrics.recorders.noop import noop_metrics

from pysoa.client.client import Client
from pysoa.client.settings import ClientSettings
from pysoa.common.transport.redis_gateway.client import RedisClientTransport
from pysoa.common.transport.redis_gateway.settings import RedisClientTransportSchema


def normalized_hosts(*hosts: Any, **backend_layer_kwargs: Any) -> List[Any]:
    transport = RedisClientTransport(
        'example',
        noop_metrics,
        backend_type='redis.standard',
        backend_layer_kwargs={'hosts': list(hosts), **backend_layer_kwargs},
    )
    normalized: List[Any] = transport.core.backend_layer_kwargs['hosts']
    return normalized


def hosts_errors(*hosts: Any) -> List[str]:
    errors = RedisClientTransportSchema.errors(
        {
            'backend_type': 'redis.standard',
            'backend_layer_kwargs': {'hosts': list(hosts)},
        }
    )
    return [f'{error.pointer}: {error.message}' for error in errors]


def test_a_host_port_string_is_a_host_and_a_port() -> None:
    assert normalized_hosts('redis-1.internal:6380') == [('redis-1.internal', 6380)]


def test_a_bare_host_name_gets_the_default_port() -> None:
    assert normalized_hosts('redis-1.internal') == [('redis-1.internal', 6379)]


def test_a_bare_host_name_gets_redis_port_when_set() -> None:
    assert normalized_hosts('redis-1.internal', redis_port=6390) == [('redis-1.internal', 6390)]


def test_the_port_of_a_host_port_string_wins_over_redis_port() -> None:
    assert normalized_hosts('redis-1.internal:6380', redis_port=6390) == [('redis-1.internal', 6380)]


def test_an_ipv6_address_with_a_port_is_written_in_brackets() -> None:
    assert normalized_hosts('[::1]:6380', '[fe80::1]') == [('::1', 6380), ('fe80::1', 6379)]


def test_a_bare_ipv6_address_gets_the_default_port() -> None:
    assert normalized_hosts('::1') == [('::1', 6379)]


def test_host_port_strings_mix_with_pairs() -> None:
    assert normalized_hosts('redis-1:6380', ('redis-2', 6381), ['redis-3', 6382]) == [
        ('redis-1', 6380),
        ('redis-2', 6381),
        ('redis-3', 6382),
    ]


@pytest.mark.parametrize(
    ('host', 'message'),
    [
        ('redis-1:63x0', 'invalid port "63x0"'),
        ('redis-1:', 'invalid port ""'),
        (':6379', 'no host name before its port'),
        ('redis-1:70000', 'invalid port "70000"'),
        ('', 'must be a host name or address'),
        ('redis://user:secret@redis-1:6379', 'is a URL'),
    ],
)
def test_a_host_string_that_cannot_be_read_is_refused_at_settings_validation(host: str, message: str) -> None:
    (error,) = hosts_errors(('redis-0', 6379), host)

    assert error.startswith('backend_layer_kwargs.hosts.1: ')
    assert message in error


def test_a_url_host_error_does_not_show_the_password() -> None:
    (error,) = hosts_errors('redis://user:secret@redis-1:6379')

    assert 'secret' not in error


def test_a_client_with_an_unreadable_host_is_refused_when_it_is_built() -> None:
    with pytest.raises(ClientSettings.ImproperlyConfigured, match='invalid port'):
        Client(
            {
                'example': {
                    'transport': {
                        'path': 'pysoa.common.transport.redis_gateway.client:RedisClientTransport',
                        'kwargs': {
                            'backend_type': 'redis.standard',
                            'backend_layer_kwargs': {'hosts': ['redis-1:63x0']},
                        },
                    }
                }
            }
        )
