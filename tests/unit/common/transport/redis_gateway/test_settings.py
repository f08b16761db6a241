"""The Conformity schemas of the Redis gateway transports' constructor arguments."""

from typing import (
    Any,
    Dict,
)

import pytest
from conformity import fields

from pysoa.common.transport.redis_gateway.constants import ProtocolVersion
from pysoa.common.transport.redis_gateway.settings import (
    RedisClientTransportSchema,
    RedisServerTransportSchema,
    RedisTransportSchema,
)


FULL_SETTINGS: Dict[str, Any] = {
    'backend_type': 'redis.sentinel',
    'backend_layer_kwargs': {
        'connection_kwargs': {'password': 'secret', 'ssl': True},
        'hosts': [('sentinel-1', 26379), 'sentinel-2', ['sentinel-3', 26380]],
        'redis_db': 2,
        'redis_port': 26379,
        'sentinel_failover_retries': 3,
        'sentinel_services': ['service-a', 'service-b'],
        'sentinel_kwargs': {'socket_timeout': 1.0},
    },
    'default_serializer_config': {'path': 'pysoa.common.serializer:JSONSerializer'},
    'log_messages_larger_than_bytes': 0,
    'maximum_message_size_in_bytes': 512000,
    'message_expiry_in_seconds': 30,
    'queue_capacity': 100,
    'queue_full_retries': 2,
    'receive_timeout_in_seconds': 1,
}


def _errors(schema: fields.Dictionary, value: Dict[str, Any]) -> Dict[Any, str]:
    return {e.pointer: e.message for e in schema.errors(value) or []}


def test_only_backend_type_is_required() -> None:
    assert _errors(RedisTransportSchema, {'backend_type': 'redis.standard'}) == {}
    assert 'backend_type' in _errors(RedisTransportSchema, {})


def test_every_documented_setting_is_accepted() -> None:
    assert _errors(RedisTransportSchema, FULL_SETTINGS) == {}


def test_unknown_backend_type_is_rejected() -> None:
    assert 'backend_type' in _errors(RedisTransportSchema, {'backend_type': 'redis.cluster'})


def test_unknown_backend_layer_setting_is_rejected() -> None:
    errors = _errors(RedisTransportSchema, {'backend_type': 'redis.standard', 'backend_layer_kwargs': {'port': 1}})

    assert errors != {}


@pytest.mark.parametrize('host', [('redis', 6379), 'redis', ['redis', 6379]])
def test_host_forms_are_accepted(host: Any) -> None:
    settings = {'backend_type': 'redis.standard', 'backend_layer_kwargs': {'hosts': [host]}}

    assert _errors(RedisTransportSchema, settings) == {}


@pytest.mark.parametrize('host', [6379, ('redis',), ['redis', 6379, 'extra'], {'host': 'redis'}])
def test_other_host_forms_are_rejected(host: Any) -> None:
    settings = {'backend_type': 'redis.standard', 'backend_layer_kwargs': {'hosts': [host]}}

    assert _errors(RedisTransportSchema, settings) != {}


def test_negative_sentinel_failover_retries_are_rejected() -> None:
    settings = {'backend_type': 'redis.sentinel', 'backend_layer_kwargs': {'sentinel_failover_retries': -1}}

    assert 'backend_layer_kwargs.sentinel_failover_retries' in _errors(RedisTransportSchema, settings)


@pytest.mark.parametrize('version', [1, 2, 3, ProtocolVersion.VERSION_2])
def test_client_accepts_a_protocol_version(version: Any) -> None:
    assert _errors(RedisClientTransportSchema, {'backend_type': 'redis.standard', 'protocol_version': version}) == {}


def test_client_rejects_the_server_chunking_setting() -> None:
    settings = {'backend_type': 'redis.standard', 'chunk_messages_larger_than_bytes': 102400}

    assert _errors(RedisClientTransportSchema, settings) != {}


def test_server_accepts_a_chunking_threshold() -> None:
    settings = {'backend_type': 'redis.standard', 'chunk_messages_larger_than_bytes': 102400}

    assert _errors(RedisServerTransportSchema, settings) == {}


def test_server_rejects_the_client_protocol_version_setting() -> None:
    assert _errors(RedisServerTransportSchema, {'backend_type': 'redis.standard', 'protocol_version': 3}) != {}


def test_transports_provide_their_schemas_for_class_configuration() -> None:
    client_config = fields.ClassConfigurationSchema()
    assert (
        client_config.errors(
            {
                'path': 'pysoa.common.transport.redis_gateway.client:RedisClientTransport',
                'kwargs': {'backend_type': 'redis.standard', 'protocol_version': 2},
            }
        )
        == []
    )
    assert (
        client_config.errors(
            {
                'path': 'pysoa.common.transport.redis_gateway.server:RedisServerTransport',
                'kwargs': {'backend_type': 'redis.standard', 'protocol_version': 2},
            }
        )
        != []
    )
