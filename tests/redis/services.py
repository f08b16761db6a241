"""
Services, settings builders, raw-frame helpers and a recording metrics recorder for the real-Redis transport tests.

This module is imported by server processes started with :class:`tests.support.server_runner.ServerProcess`, so it
only depends on PySOA and its requirements (not on pytest).
"""

import logging.config
import os
import time
from typing import (
    Any,
    Dict,
    Iterable,
    List,
    Optional,
    Sequence,
    Tuple,
    Type,
)

import msgpack
import redis
from pymetrics.instruments import (
    Counter,
    Metric,
)
from pymetrics.recorders.default import DefaultMetricsRecorder

from pysoa.client.client import Client
from pysoa.common.errors import Error
from pysoa.common.serializer.msgpack_extensions import encode_extension
from pysoa.common.transport.base import get_hex_thread_id
from pysoa.common.transport.redis_gateway.client import RedisClientTransport
from pysoa.server.action.base import Action
from pysoa.server.errors import ActionError
from pysoa.server.server import Server
from pysoa.server.types import EnrichedActionRequest


MODULE = 'tests.redis.services'

SERVICE = 'redis_test'
OTHER_SERVICE = 'redis_other'
REQUEST_QUEUE_KEY = f'pysoa:service.{SERVICE}'

CLIENT_TRANSPORT_PATH = 'pysoa.common.transport.redis_gateway.client:RedisClientTransport'
SERVER_TRANSPORT_PATH = 'pysoa.common.transport.redis_gateway.server:RedisServerTransport'

V3_MSGPACK_PREFIX = b'pysoa-redis/3//content-type:application/msgpack;'


# Actions and servers ------------------------------------------------------------------------------------------------


class EchoAction(Action):
    """Returns its request body."""

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        return dict(request.body)


class BigAction(Action):
    """Returns ``{'data': <size> letters}``, to make responses of a given size."""

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        return {'data': request.body.get('letter', 'x') * request.body['size']}


class FailAction(Action):
    """Always fails with an action error."""

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        raise ActionError([Error(code='BROKEN', message='It is broken')])


class WhoAmIAction(Action):
    """Returns the process id of the server that ran it."""

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        return {'pid': os.getpid()}


ACTIONS: Dict[str, Type[Action]] = {
    'echo': EchoAction,
    'big': BigAction,
    'fail': FailAction,
    'whoami': WhoAmIAction,
}


class RedisTestServer(Server):
    service_name = SERVICE
    action_class_map = ACTIONS


class RedisOtherServer(Server):
    service_name = OTHER_SERVICE
    action_class_map = ACTIONS


class LoggingRedisTestServer(RedisTestServer):
    """The test service logging as a production server does (its ``logging`` setting), for server processes."""

    def setup(self) -> None:
        super().setup()
        logging.config.dictConfig(self.settings['logging'])


SERVER_CLASS_PATH = f'{MODULE}:RedisTestServer'
OTHER_SERVER_CLASS_PATH = f'{MODULE}:RedisOtherServer'
LOGGING_SERVER_CLASS_PATH = f'{MODULE}:LoggingRedisTestServer'


# Metrics ------------------------------------------------------------------------------------------------------------


class RecordingMetricsRecorder(DefaultMetricsRecorder):
    """
    The default recorder (unconfigured: it publishes nowhere and clears what it was asked to publish), keeping every
    metric it was asked to publish, so tests can add up counters across publications.
    """

    def __init__(self, prefix: Optional[str] = None, config: Optional[Dict[str, Any]] = None) -> None:
        super().__init__(prefix, config)
        self.published: List[Metric] = []

    def publish_all(self) -> None:
        self.published.extend(self.get_all_metrics())
        super().publish_all()

    def counter_total(self, name: str) -> int:
        """The sum of the counter ``name`` over everything published and everything not yet published."""
        counters = [m for m in self.published if isinstance(m, Counter)] + list(self.counters.values())
        return sum(c.value or 0 for c in counters if c.name == name)

    def metric_names(self) -> List[str]:
        """The names of all metrics recorded so far (published or not)."""
        return [m.name for m in [*self.published, *self.get_all_metrics()]]


#: What a Sentinel transport says when no Sentinel knows the service's master (for instance, during a failover).
MASTER_NOT_FOUND = 'Cannot get connection: Master not found; gave up reloading master info after failover.'

RECORDING_METRICS: Dict[str, Any] = {'path': f'{MODULE}:RecordingMetricsRecorder', 'kwargs': {'prefix': None}}


# Settings -----------------------------------------------------------------------------------------------------------


def standard_kwargs(*ports: int, **extra: Any) -> Dict[str, Any]:
    """Transport kwargs for the standard backend with one loopback Redis per port (as ``(host, port)`` tuples)."""
    return dict(
        {
            'backend_type': 'redis.standard',
            'backend_layer_kwargs': {'hosts': [('127.0.0.1', port) for port in ports]},
        },
        **extra,
    )


def sentinel_kwargs(sentinel_hosts: Sequence[Tuple[str, int]], **backend_layer_kwargs: Any) -> Dict[str, Any]:
    """Transport kwargs for the Sentinel backend."""
    return {
        'backend_type': 'redis.sentinel',
        'backend_layer_kwargs': dict({'hosts': [list(host) for host in sentinel_hosts]}, **backend_layer_kwargs),
    }


def server_settings(transport_kwargs: Dict[str, Any], **extra: Any) -> Dict[str, Any]:
    """Server settings using the Redis server transport, polling with a 1-second timeout so it stops fast."""
    return dict(
        {
            'transport': {
                'path': SERVER_TRANSPORT_PATH,
                'kwargs': dict({'receive_timeout_in_seconds': 1}, **transport_kwargs),
            },
            'metrics': RECORDING_METRICS,
        },
        **extra,
    )


class PeekableClientTransport(RedisClientTransport):
    """
    The Redis client transport, leaving each response on its reply queue until it is received, for tests that look
    at responses in Redis (the standard one starts waiting for the response when it sends the request).
    """

    pipelined_receive = False


def client_settings(transport_kwargs: Dict[str, Any], peekable: bool = False) -> Dict[str, Any]:
    """
    The client settings of one service using the Redis client transport (:class:`PeekableClientTransport` if
    ``peekable``) and a recording metrics recorder.
    """
    path = f'{MODULE}:{PeekableClientTransport.__name__}' if peekable else CLIENT_TRANSPORT_PATH
    return {
        'transport': {'path': path, 'kwargs': dict(transport_kwargs)},
        'metrics': RECORDING_METRICS,
    }


def make_client(
    transport_kwargs: Dict[str, Any], services: Iterable[str] = (SERVICE,), peekable: bool = False
) -> Client:
    """
    A client calling each of ``services`` through the Redis client transport with these kwargs; ``peekable``: one
    that leaves responses on the reply queue until it receives them.
    """
    return Client({service: client_settings(transport_kwargs, peekable) for service in services})


def client_transport(
    transport_kwargs: Dict[str, Any],
    service: str = SERVICE,
    metrics: Optional[RecordingMetricsRecorder] = None,
    peekable: bool = False,
) -> RedisClientTransport:
    """A Redis client transport built directly (not through a client); ``peekable`` as for :func:`make_client`."""
    transport_class = PeekableClientTransport if peekable else RedisClientTransport
    return transport_class(service, metrics or RecordingMetricsRecorder(), **transport_kwargs)


def make_server(server_class: Type[Server], transport_kwargs: Dict[str, Any], **extra: Any) -> Server:
    """A set-up server whose requests the test handles itself, one ``handle_next_request()`` at a time."""
    server = server_class(server_class.settings_class(server_settings(transport_kwargs, **extra)))
    server.setup()
    return server


def serve_queued_requests(
    server: Server, connection: redis.Redis, key: str = REQUEST_QUEUE_KEY, limit: int = 50
) -> int:
    """Let ``server`` handle requests until its request queue (on ``connection``) is empty; return how many."""
    handled = 0
    while connection.llen(key):
        assert handled < limit, f'More than {limit} requests on {key}'
        server.handle_next_request()
        handled += 1
    return handled


# Queues and raw frames ----------------------------------------------------------------------------------------------


def reply_queue_name(transport: RedisClientTransport, thread_id: Optional[str] = None) -> str:
    """The reply queue name (the ``reply_to`` value) of a client transport's thread (by default, this thread)."""
    return f'service.{transport.service_name}.{transport.client_id}!{thread_id or get_hex_thread_id()}'


def reply_queue_key(transport: RedisClientTransport, thread_id: Optional[str] = None) -> str:
    """The Redis key of :func:`reply_queue_name`."""
    return 'pysoa:' + reply_queue_name(transport, thread_id)


def job_request(*actions: Tuple[str, Dict[str, Any]]) -> Dict[str, Any]:
    """A job request dict, as a client sends it, for ``(action name, body)`` pairs."""
    return {
        'control': {'continue_on_error': False},
        'context': {'switches': [], 'correlation_id': 'raw-frame-test'},
        'actions': [{'action': name, 'body': body} for name, body in actions],
    }


def envelope(
    request_id: Any = 1,
    reply_to: Optional[str] = 'service.nobody.0!0',
    body: Optional[Dict[str, Any]] = None,
    expires_in: float = 3600.0,
    **meta: Any,
) -> Dict[str, Any]:
    """
    A message envelope; ``reply_to=None`` leaves it out of the meta, ``request_id=None`` leaves the id out. It expires
    an hour from now by default: test modules build some at collection time, minutes before their tests run.
    """
    message_meta: Dict[str, Any] = {'client_version': [1, 4, 9], '__expiry__': time.time() + expires_in}
    if reply_to is not None:
        message_meta['reply_to'] = reply_to
    message_meta.update(meta)
    message: Dict[str, Any] = {
        'meta': message_meta,
        'body': body if body is not None else job_request(('echo', {'raw': True})),
    }
    if request_id is not None:
        message['request_id'] = request_id
    return message


def pack(message: Dict[str, Any]) -> bytes:
    """MessagePack bytes of a plain message (strings as ``str``, as PySOA's serializer writes them)."""
    data: bytes = msgpack.packb(message, use_bin_type=True)
    return data


def v3_frame(message: Dict[str, Any]) -> bytes:
    """A protocol version 3 MessagePack frame of ``message``."""
    return V3_MSGPACK_PREFIX + pack(message)


def lenient_v3_frame(message: Any) -> bytes:
    """
    A protocol version 3 MessagePack frame of anything, packed as PySOA 1.x packs: lone surrogates pass, and
    PySOA's extension types (``Decimal``, dates, ...) are allowed.
    """
    packed: bytes = msgpack.packb(message, use_bin_type=True, default=encode_extension, unicode_errors='surrogatepass')
    return V3_MSGPACK_PREFIX + packed


def chunk_frames(payload: bytes, count: int, ids: Optional[Iterable[int]] = None) -> List[bytes]:
    """Version 3 chunk frames of ``payload`` cut into ``count`` slices; ``ids`` picks which chunks (1-based)."""
    size = -(-len(payload) // count)
    slices = [payload[i * size : (i + 1) * size] for i in range(count)]
    return [
        V3_MSGPACK_PREFIX + b'chunk-count:%d;chunk-id:%d;' % (count, chunk_id) + slices[chunk_id - 1]
        for chunk_id in (ids if ids is not None else range(1, count + 1))
    ]


def response_envelope(request_id: int, action_body: Dict[str, Any], expires_in: float = 60.0) -> Dict[str, Any]:
    """A server's response envelope with one successful ``echo`` action."""
    return {
        'request_id': request_id,
        'meta': {'client_version': [1, 4, 9], '__expiry__': time.time() + expires_in},
        'body': {
            'errors': [],
            'actions': [{'action': 'echo', 'errors': [], 'body': action_body}],
            'context': {},
        },
    }
