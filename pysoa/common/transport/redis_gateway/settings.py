"""The Conformity schemas of the Redis gateway transports' settings (their constructor keyword arguments)."""

from typing import (
    Any,
    List,
)

from conformity import fields
from conformity.error import Error

from pysoa.common.serializer.base import Serializer
from pysoa.common.transport.redis_gateway._hosts import (
    InvalidHost,
    check_not_url,
    parse_host,
)
from pysoa.common.transport.redis_gateway.constants import (
    REDIS_BACKEND_TYPES,
    ProtocolVersion,
)


__all__ = (
    'RedisClientTransportSchema',
    'RedisServerTransportSchema',
    'RedisTransportSchema',
)

_host = fields.Any(
    fields.Tuple(fields.UnicodeString(), fields.Integer()),
    fields.UnicodeString(),
    # Settings read from JSON or YAML cannot hold tuples: accept ["host", port] too.
    fields.List(fields.Any(fields.UnicodeString(), fields.Integer()), min_length=2, max_length=2),
)


class _HostStringsValidator(fields.AdditionalCollectionValidator[List[Any]]):
    """Refuses host strings that name no host and port (``"redis:63 79"``, ``"redis://..."``), at validation."""

    def errors(self, value: List[Any]) -> List[Error]:
        errors = []
        for index, host in enumerate(value):
            if isinstance(host, str):
                try:
                    check_not_url(host)
                    parse_host(host, 6379)
                except InvalidHost as e:
                    errors.append(Error(str(e), pointer=str(index)))
        return errors


BackendLayerSchema = fields.Dictionary(
    {
        'connection_kwargs': fields.SchemalessDictionary(
            description='The arguments used when creating all Redis connections (see the redis-py docs): for '
            'example `username`, `password`, `ssl`, `ssl_ca_certs`, `socket_timeout`. A certificate or '
            'CA file (`ssl_certfile`, `ssl_ca_certs`, ...) switches TLS on; host names are checked only '
            'with `ssl_check_hostname: True` (recommended)',
        ),
        'hosts': fields.List(
            _host,
            description='The list of Redis hosts, where each is a tuple of `("address", port)` or a string: '
            '`"address:port"`, `"[IPv6 address]:port"`, or the address alone (port 6379, or '
            '`redis_port`). Clients and servers must list them in the same order.',
            additional_validator=_HostStringsValidator(),
        ),
        'redis_db': fields.Integer(
            description='The Redis database, a shortcut for putting this in `connection_kwargs`',
        ),
        'redis_port': fields.Integer(description='The port number, a shortcut for putting this on all string hosts'),
        'sentinel_failover_retries': fields.Integer(
            gte=0,
            description='How many times to retry (with a delay) getting a connection from the Sentinel when a master '
            'cannot be found (cluster is in the middle of a failover); should only be used for Sentinel '
            'backend type',
        ),
        'sentinel_services': fields.List(
            fields.UnicodeString(),
            description='A list of Sentinel services (will be discovered by default); should only be used for '
            'Sentinel backend type. Clients and servers must list them in the same order.',
        ),
        'sentinel_kwargs': fields.SchemalessDictionary(
            description='The arguments used when creating all Sentinel connections (see the redis-py docs); should '
            'only be used for Sentinel backend type; similar to `connection_kwargs`, but you may need to '
            'specify both (one for Sentinel connections, one for Redis connections)',
        ),
    },
    optional_keys=(
        'connection_kwargs',
        'hosts',
        'redis_db',
        'redis_port',
        'sentinel_failover_retries',
        'sentinel_kwargs',
        'sentinel_services',
    ),
    description='The arguments passed to the Redis connection manager',
)

RedisTransportSchema = fields.Dictionary(
    {
        'backend_layer_kwargs': BackendLayerSchema,
        'backend_type': fields.Constant(
            *REDIS_BACKEND_TYPES,
            description='Which backend (standard or sentinel) should be used for this Redis transport',
        ),
        'default_serializer_config': fields.ClassConfigurationSchema(
            base_class=Serializer,
            description='The configuration for the serializer this transport should use (MessagePack by default)',
        ),
        'log_messages_larger_than_bytes': fields.Integer(
            description='By default, messages larger than 100KB (client) or 250KB (server) that do not trigger errors '
            '(see `maximum_message_size_in_bytes`) are logged with level WARNING to a logger named '
            '`pysoa.transport.oversized_message`. Set this to 0 to disable that logging, or to another '
            'number to change the threshold.',
        ),
        'maximum_message_size_in_bytes': fields.Integer(
            description='The maximum message size, in bytes, that is permitted to be transmitted over this transport '
            '(defaults to 102400 on the client and 256000 on the server)',
        ),
        'message_expiry_in_seconds': fields.Integer(
            description='How long after a message is sent that it is considered expired, dropped from queue (a '
            "client call's `timeout` replaces it for that call's request). Sending a message to a full "
            'queue is never retried past its expiry.',
        ),
        'queue_capacity': fields.Integer(
            description='The capacity of the message queue to which this transport will send messages',
        ),
        'queue_full_retries': fields.Integer(
            description='How many times to retry sending a message to a full queue before giving up, waiting '
            '`(2 ** i + random()) / 4` seconds before retry `i` (from 0): about 256 seconds in all for 10. '
            "Retries stop early, failing the send, when the next one would come after the message's "
            "expiry: the call's `timeout`, or `message_expiry_in_seconds`.",
        ),
        'receive_timeout_in_seconds': fields.Integer(
            description='How long to block waiting on a message to be received',
        ),
    },
    optional_keys=(
        'backend_layer_kwargs',
        'default_serializer_config',
        'log_messages_larger_than_bytes',
        'maximum_message_size_in_bytes',
        'message_expiry_in_seconds',
        'queue_capacity',
        'queue_full_retries',
        'receive_timeout_in_seconds',
    ),
    description='The constructor kwargs for the Redis client and server transports',
)

RedisClientTransportSchema = RedisTransportSchema.extend(
    contents={
        'protocol_version': fields.Any(
            fields.Integer(),
            fields.ObjectInstance(ProtocolVersion),
            description='The protocol version the client speaks (3 by default). The server answers in whatever '
            'version the client speaks; set a lower version only to talk to servers older than PySOA '
            '1.0 (version 2 from PySOA 0.67.0, version 1 before it).',
        ),
    },
    optional_keys=('protocol_version',),
    description='The constructor kwargs for the Redis client transport',
)

RedisServerTransportSchema = RedisTransportSchema.extend(
    contents={
        'chunk_messages_larger_than_bytes': fields.Integer(
            description='If set, responses larger than this setting are chunked and sent back to the client in '
            'pieces, so that a single large response does not block single-threaded Redis for long. When '
            'set, this value must be at least 102400, and `maximum_message_size_in_bytes` must be at '
            'least 5 times greater (it is still enforced). Only clients speaking protocol version 3 can '
            'receive chunked responses.',
        ),
    },
    optional_keys=('chunk_messages_larger_than_bytes',),
    description='The constructor kwargs for the Redis server transport',
)
