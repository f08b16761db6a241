"""
What the Redis transport core checks before it talks to Redis: its settings, the hosts it is given, and messages that
cannot be sent (no request id, too large, chunks a client cannot read). The hosts below are never contacted.
"""

import re
from typing import (
    Any,
    Dict,
)

import pytest
from pymetrics.recorders.noop import noop_metrics

from pysoa.common.serializer.errors import InvalidField
from pysoa.common.transport.errors import (
    InvalidMessageError,
    MessageTooLarge,
)
from pysoa.common.transport.redis_gateway.client import RedisClientTransport
from pysoa.common.transport.redis_gateway.constants import ProtocolVersion
from pysoa.common.transport.redis_gateway.core import (
    RedisTransportClientCore,
    RedisTransportServerCore,
)
from pysoa.common.transport.redis_gateway.server import RedisServerTransport


UNREACHABLE = {'hosts': [('192.0.2.1', 1)]}  # TEST-NET-1: nothing answers there, and nothing is sent


def _server_core(**kwargs: Any) -> RedisTransportServerCore:
    settings: Dict[str, Any] = {'backend_type': 'redis.standard', 'backend_layer_kwargs': UNREACHABLE}
    settings.update(kwargs)
    return RedisTransportServerCore(service_name='svc', metrics=noop_metrics, metrics_prefix='server.', **settings)


def _client_core(**kwargs: Any) -> RedisTransportClientCore:
    settings: Dict[str, Any] = {'backend_type': 'redis.standard', 'backend_layer_kwargs': UNREACHABLE}
    settings.update(kwargs)
    return RedisTransportClientCore(service_name='svc', metrics=noop_metrics, metrics_prefix='client.', **settings)


def _hosts(backend_layer_kwargs: Dict[str, Any]) -> Any:
    return _client_core(backend_layer_kwargs=backend_layer_kwargs).backend_layer_kwargs['hosts']


# Settings -----------------------------------------------------------------------------------------------------------


def test_unknown_backend_type_raises_value_error() -> None:
    with pytest.raises(ValueError, match=r'^backend_type must be one of .*redis\.standard.*, got redis\.cluster$'):
        _client_core(backend_type='redis.cluster')


@pytest.mark.parametrize('threshold', [0, 1, 102399])
def test_chunk_threshold_below_100kb_raises_value_error(threshold: int) -> None:
    with pytest.raises(ValueError, match=f'must be >= 102400, got {threshold}$'):
        _server_core(chunk_messages_larger_than_bytes=threshold, maximum_message_size_in_bytes=10**7)


def test_maximum_size_under_5_times_the_chunk_threshold_raises_value_error() -> None:
    with pytest.raises(ValueError, match='at least 5'):
        _server_core(chunk_messages_larger_than_bytes=102400, maximum_message_size_in_bytes=5 * 102400 - 1)


def test_maximum_size_of_5_times_the_chunk_threshold_is_accepted() -> None:
    core = _server_core(chunk_messages_larger_than_bytes=102400, maximum_message_size_in_bytes=5 * 102400)

    assert core.chunk_messages_larger_than_bytes == 102400


def test_transport_defaults_differ_between_client_and_server() -> None:
    client = RedisClientTransport('svc', noop_metrics, backend_type='redis.standard')
    server = RedisServerTransport('svc', noop_metrics, backend_type='redis.standard')

    assert (client.core.maximum_message_size_in_bytes, client.core.log_messages_larger_than_bytes) == (102400, 102400)
    assert (server.core.maximum_message_size_in_bytes, server.core.log_messages_larger_than_bytes) == (256000, 256000)
    assert client.core.protocol_version == ProtocolVersion.VERSION_3
    assert server.core.chunk_messages_larger_than_bytes == -1
    for core in (client.core, server.core):
        assert (core.message_expiry_in_seconds, core.queue_capacity, core.queue_full_retries) == (60, 10000, 10)
        assert core.receive_timeout_in_seconds == 5


def test_client_ids_are_32_hex_digits_and_unique() -> None:
    first = RedisClientTransport('svc', noop_metrics, backend_type='redis.standard')
    second = RedisClientTransport('svc', noop_metrics, backend_type='redis.standard')

    assert len(first.client_id) == 32
    int(first.client_id, 16)
    assert first.client_id != second.client_id


# Hosts --------------------------------------------------------------------------------------------------------------


def test_host_tuples_are_kept() -> None:
    assert _hosts({'hosts': [('a', 1), ('b', 2)]}) == [('a', 1), ('b', 2)]


def test_host_lists_become_tuples() -> None:
    assert _hosts({'hosts': [['a', 1], ['b', 2]]}) == [('a', 1), ('b', 2)]


def test_host_strings_get_redis_port() -> None:
    assert _hosts({'hosts': ['a', ('b', 2)], 'redis_port': 7000}) == [('a', 7000), ('b', 2)]


def test_host_strings_default_to_port_6379() -> None:
    assert _hosts({'hosts': ['a']}) == [('a', 6379)]


@pytest.mark.parametrize('host', [('a', '1'), ('a',), ['a', 1, 2], 6379, None])
def test_malformed_hosts_raise_value_error(host: Any) -> None:
    message = "connection_kwargs['hosts'] must be a list of tuples of (host, port), or strings"
    with pytest.raises(ValueError, match=f'^{re.escape(message)}$'):
        _hosts({'hosts': [host]})


def test_sentinel_string_hosts_also_get_port_6379_not_26379() -> None:
    kwargs = _client_core(backend_type='redis.sentinel', backend_layer_kwargs={'hosts': ['sentinel']})

    assert kwargs.backend_layer_kwargs['hosts'] == [('sentinel', 6379)]


def test_sentinel_only_settings_are_passed_to_the_sentinel_backend() -> None:
    kwargs = _client_core(
        backend_type='redis.sentinel',
        backend_layer_kwargs={
            'sentinel_services': ['s'],
            'sentinel_failover_retries': 2,
            'sentinel_kwargs': {'socket_timeout': 1},
        },
    ).backend_layer_kwargs

    assert kwargs == {
        'sentinel_services': ['s'],
        'sentinel_failover_retries': 2,
        'sentinel_kwargs': {'socket_timeout': 1},
        'connection_kwargs': {},
    }


def test_redis_db_moves_into_connection_kwargs_and_redis_port_is_dropped() -> None:
    kwargs = _client_core(
        backend_layer_kwargs={
            'hosts': ['a'],
            'redis_db': 4,
            'redis_port': 7000,
            'connection_kwargs': {'password': 'p'},
        }
    ).backend_layer_kwargs

    assert kwargs == {'hosts': [('a', 7000)], 'connection_kwargs': {'password': 'p', 'db': 4}}


def test_caller_backend_layer_kwargs_are_not_modified() -> None:
    given = {'hosts': ['a'], 'redis_db': 4, 'connection_kwargs': {'password': 'p'}}

    _client_core(backend_layer_kwargs=given)

    assert given == {'hosts': ['a'], 'redis_db': 4, 'connection_kwargs': {'password': 'p'}}


# Messages refused before sending ------------------------------------------------------------------------------------


def test_message_without_request_id_raises_invalid_message_error() -> None:
    with pytest.raises(InvalidMessageError, match=r'^No request ID$'):
        _client_core().send_message('service.svc', None, {}, {})  # type: ignore[arg-type]


def test_message_over_the_maximum_size_raises_message_too_large() -> None:
    with pytest.raises(MessageTooLarge) as error_info:
        _client_core(maximum_message_size_in_bytes=1000).send_message('service.svc', 1, {}, {'data': 'x' * 1000})

    assert error_info.value.message_size_in_bytes > 1000
    assert error_info.value.args[-1] == 'Message exceeds maximum message size'


@pytest.mark.parametrize('version', [ProtocolVersion.VERSION_1, ProtocolVersion.VERSION_2])
def test_response_needing_chunks_to_an_old_client_raises_message_too_large(version: ProtocolVersion) -> None:
    core = _server_core(chunk_messages_larger_than_bytes=102400, maximum_message_size_in_bytes=10**6)

    with pytest.raises(MessageTooLarge) as error_info:
        core.send_message('service.svc.x!1', 1, {'protocol_version': version}, {'data': 'x' * 200000})

    assert error_info.value.args[-1] == 'Message exceeds chunking threshold but client does not support chunking'
    assert error_info.value.message_size_in_bytes > 200000


def test_unserializable_message_raises_invalid_field() -> None:
    with pytest.raises(InvalidField):
        _client_core().send_message('service.svc', 1, {}, {'thing': object()})


def test_send_does_not_modify_the_callers_meta() -> None:
    meta = {'reply_to': 'x', 'protocol_version': ProtocolVersion.VERSION_2}

    with pytest.raises(MessageTooLarge):
        _client_core(maximum_message_size_in_bytes=10).send_message('service.svc', 1, meta, {'data': 'x' * 100})

    assert meta == {'reply_to': 'x', 'protocol_version': ProtocolVersion.VERSION_2}
