"""
The machinery both Redis gateway transports share: framing, serialization, size limits, expiry, and the Redis
commands that move messages (one atomic script call to send, one ``BLPOP`` to receive).
"""

import collections
import logging
import random
import threading
import time
from typing import (
    Any,
    Deque,
    Dict,
    List,
    Optional,
    Tuple,
)

import redis
from conformity import fields
from pymetrics.instruments import (
    Counter,
    TimerResolution,
)
from pymetrics.recorders.base import MetricsRecorder

from pysoa.common.logging import RecursivelyCensoredDictWrapper
from pysoa.common.serializer.base import Serializer
from pysoa.common.serializer.errors import (
    InvalidField,
    SerializationError,
)
from pysoa.common.transport.base import ReceivedMessage
from pysoa.common.transport.errors import (
    InvalidMessageError,
    MessageReceiveError,
    MessageReceiveTimeout,
    MessageSendError,
    MessageTooLarge,
)
from pysoa.common.transport.redis_gateway._hosts import parse_host
from pysoa.common.transport.redis_gateway.backend.base import (
    BaseRedisClient,
    CannotGetConnectionError,
)
from pysoa.common.transport.redis_gateway.backend.sentinel import SentinelRedisClient
from pysoa.common.transport.redis_gateway.backend.standard import StandardRedisClient
from pysoa.common.transport.redis_gateway.constants import (
    MINIMUM_CHUNKED_MESSAGE_BYTES,
    REDIS_BACKEND_TYPE_SENTINEL,
    REDIS_BACKEND_TYPE_STANDARD,
    REDIS_BACKEND_TYPES,
    ProtocolFeature,
    ProtocolVersion,
)
from pysoa.common.transport.redis_gateway.framing import (
    ParsedFrame,
    build_chunk_frames,
    build_frame_prefix,
    parse_frame,
)
from pysoa.utils import dict_to_hashable


__all__ = (
    'ExpiredMessageReceived',
    'RedisTransportClientCore',
    'RedisTransportCore',
    'RedisTransportServerCore',
    'UndeliverableMessageError',
)

_logger = logging.getLogger('pysoa.common.transport.redis_gateway.core')
_oversized_logger = logging.getLogger('pysoa.transport.oversized_message')
_MICROSECONDS = TimerResolution.MICROSECONDS
_QUEUE_PREFIX = 'pysoa:'

_backend_layers: Dict[Any, BaseRedisClient] = {}
_backend_layers_lock = threading.Lock()


class ExpiredMessageReceived(MessageReceiveTimeout):
    """
    A message was taken off the queue but had expired: it is dropped, and counts as received.

    :param request_id: The expired message's request id (``None`` if it had none), available as an attribute.
    """

    def __init__(self, *args: Any, request_id: Any = None) -> None:
        super().__init__(*args)
        self.request_id = request_id


class UndeliverableMessageError(MessageSendError, InvalidMessageError):
    """
    Redis refused a message because of where it was sent: the queue's key holds a value that is not a list. Other
    messages can still be sent, so it is also an :class:`InvalidMessageError`: a server drops a reply that raises it
    instead of counting a transport failure. Delete the key, or send to another queue.
    """


def _normalize_backend_layer_kwargs(backend_type: str, backend_layer_kwargs: Dict[str, Any]) -> Dict[str, Any]:
    kwargs = dict(backend_layer_kwargs)
    connection_kwargs = dict(kwargs.pop('connection_kwargs', None) or {})
    redis_db = kwargs.pop('redis_db', None)
    if redis_db is not None:
        connection_kwargs['db'] = redis_db
    redis_port = kwargs.pop('redis_port', None)

    hosts = kwargs.pop('hosts', None)
    if hosts is not None:
        normalized = []
        for host in hosts:
            if isinstance(host, (tuple, list)) and len(host) == 2 and isinstance(host[0], str) and \
                    isinstance(host[1], int):
                normalized.append((host[0], host[1]))
            elif isinstance(host, str):
                normalized.append(parse_host(host, redis_port or 6379))
            else:
                raise ValueError("connection_kwargs['hosts'] must be a list of tuples of (host, port), or strings")
        kwargs['hosts'] = normalized

    if backend_type == REDIS_BACKEND_TYPE_STANDARD:
        sentinel_only = sorted(k for k in kwargs if k.startswith('sentinel_'))
        if sentinel_only:
            raise ValueError(f'{", ".join(sentinel_only)} only apply to the {REDIS_BACKEND_TYPE_SENTINEL} backend')
    kwargs['connection_kwargs'] = connection_kwargs
    return kwargs


def _get_backend_layer(backend_type: str, backend_layer_kwargs: Dict[str, Any], metrics: MetricsRecorder,
                       metrics_prefix: str) -> BaseRedisClient:
    """One backend layer per distinct configuration in the process, so connections are shared between transports."""
    key = (backend_type, dict_to_hashable(backend_layer_kwargs))
    with _backend_layers_lock:
        layer = _backend_layers.get(key)
        if layer is None:
            with metrics.timer(metrics_prefix + 'backend.initialize', resolution=_MICROSECONDS):
                try:
                    if backend_type == REDIS_BACKEND_TYPE_SENTINEL:
                        layer = SentinelRedisClient(**backend_layer_kwargs)
                    else:
                        layer = StandardRedisClient(**backend_layer_kwargs)
                except redis.RedisError as e:  # e.g. no Sentinel answered service discovery
                    raise CannotGetConnectionError(f'Cannot create the Redis backend: {e}') from e
            _backend_layers[key] = layer
    return layer


class RedisTransportCore:
    """
    Sends and receives messages on Redis queues for one transport. See the transports for the meaning of each
    setting; they arrive here with their per-side defaults applied.
    """

    is_server = False

    def __init__(
        self,
        service_name: str,
        metrics: MetricsRecorder,
        metrics_prefix: str,
        backend_type: str,
        backend_layer_kwargs: Optional[Dict[str, Any]] = None,
        default_serializer_config: Optional[Dict[str, Any]] = None,
        log_messages_larger_than_bytes: int = 0,
        maximum_message_size_in_bytes: int = 0,
        message_expiry_in_seconds: int = 60,
        queue_capacity: int = 10000,
        queue_full_retries: int = 10,
        receive_timeout_in_seconds: int = 5,
        protocol_version: Any = ProtocolVersion.VERSION_3,
        chunk_messages_larger_than_bytes: int = -1,
    ) -> None:
        if backend_type not in REDIS_BACKEND_TYPES:
            raise ValueError(f'backend_type must be one of {REDIS_BACKEND_TYPES}, got {backend_type}')
        if 0 <= chunk_messages_larger_than_bytes < MINIMUM_CHUNKED_MESSAGE_BYTES:
            raise ValueError(
                f'If chunk_messages_larger_than_bytes is enabled (non-negative), it must be >= '
                f'{MINIMUM_CHUNKED_MESSAGE_BYTES}, got {chunk_messages_larger_than_bytes}',
            )
        chunk_size = chunk_messages_larger_than_bytes
        if chunk_size > 0 and maximum_message_size_in_bytes < 5 * chunk_size:
            raise ValueError(
                f'If chunk_messages_larger_than_bytes is enabled, maximum_message_size_in_bytes must be at least 5 '
                f'times larger, but it is {maximum_message_size_in_bytes} (chunk_messages_larger_than_bytes is '
                f'{chunk_messages_larger_than_bytes})',
            )

        self.service_name = service_name
        self.metrics = metrics
        self.metrics_prefix = metrics_prefix
        self.backend_type = backend_type
        self.backend_layer_kwargs = _normalize_backend_layer_kwargs(backend_type, backend_layer_kwargs or {})
        self.log_messages_larger_than_bytes = log_messages_larger_than_bytes
        self.maximum_message_size_in_bytes = maximum_message_size_in_bytes
        self.message_expiry_in_seconds = message_expiry_in_seconds
        self.queue_capacity = queue_capacity
        self.queue_full_retries = queue_full_retries
        self.receive_timeout_in_seconds = receive_timeout_in_seconds
        self.protocol_version = ProtocolVersion(protocol_version)
        self.chunk_messages_larger_than_bytes = chunk_messages_larger_than_bytes

        serializer_config = default_serializer_config or {'path': 'pysoa.common.serializer:MsgpackSerializer'}
        serializer_class = serializer_config.get('object') or fields.PythonPath.resolve_python_path(
            serializer_config['path'],
        )
        self.default_serializer: Serializer = serializer_class(**serializer_config.get('kwargs', {}))
        self._serializers: Dict[str, Serializer] = {self.default_serializer.mime_type: self.default_serializer}

        self._backend_layer: Optional[BaseRedisClient] = None
        # Whole messages that arrived in the middle of another message's chunks, by queue key.
        self._stashed: Dict[str, Deque[bytes]] = collections.defaultdict(collections.deque)

    # Helpers ------------------------------------------------------------------------------------------------------

    @property
    def backend_layer(self) -> BaseRedisClient:
        """The (process-wide, shared) Redis backend for this transport's settings."""
        layer = self._backend_layer
        if layer is None:
            layer = self._backend_layer = _get_backend_layer(
                self.backend_type, self.backend_layer_kwargs, self.metrics, self.metrics_prefix,
            )
        layer.counter_factory = self._counter
        return layer

    def _counter(self, name: str) -> Counter:
        return self.metrics.counter(self.metrics_prefix + name)

    def _timer(self, name: str) -> Any:
        return self.metrics.timer(self.metrics_prefix + name, resolution=_MICROSECONDS)

    def _serializer_for(self, mime_type: Optional[str]) -> Serializer:
        if mime_type is None:
            return self.default_serializer
        serializer = self._serializers.get(mime_type)
        if serializer is None:
            if mime_type not in Serializer.all_supported_mime_types:
                return self.default_serializer
            serializer = self._serializers[mime_type] = Serializer.resolve_serializer(mime_type)
        return serializer

    def _reset_backend(self) -> None:
        if self._backend_layer is not None:
            self._backend_layer.reset_clients()

    # Sending ------------------------------------------------------------------------------------------------------

    def send_message(
        self,
        queue_name: str,
        request_id: int,
        meta: Dict[str, Any],
        body: Dict[str, Any],
        message_expiry_in_seconds: Optional[int] = None,
        then_receive_from: Optional[str] = None,
        receive_timeout_in_seconds: Optional[int] = None,
    ) -> None:
        """
        Serialize and enqueue a message on ``pysoa:<queue_name>``. ``meta`` is not modified; the ``serializer`` and
        ``protocol_version`` a receiver attached to it choose the format of the reply.

        With ``then_receive_from``, the wait for the next message on that queue starts in the same round trip (if
        both queues live on the same Redis): call :meth:`receive_message` for it next, from the same thread, or
        :meth:`take_back_pending_receive` if nothing will receive it.

        :raises InvalidMessageError: If there is no request id, or (server side) if the request id or meta a reply
                                     echoes cannot be serialized, so no reply to that request can be sent.
        :raises MessageTooLarge: If the message exceeds the maximum size (or needs chunking the receiver lacks).
        :raises pysoa.common.serializer.errors.InvalidField: If the message cannot be serialized.
        :raises UndeliverableMessageError: If Redis refuses the queue's key because it holds something else than a
                                           list (a :class:`MessageSendError` and an :class:`InvalidMessageError`).
        :raises MessageSendError: If Redis cannot be reached, refuses the message, or the queue stays full.
        """
        if request_id is None:
            raise InvalidMessageError('No request ID')

        if message_expiry_in_seconds and message_expiry_in_seconds > 0:
            expiry, redis_expiry = message_expiry_in_seconds, message_expiry_in_seconds + 10
        else:
            expiry = redis_expiry = self.message_expiry_in_seconds

        meta = dict(meta)
        meta['__expiry__'] = time.time() + expiry
        version = ProtocolVersion(meta.pop('protocol_version', None) or self.protocol_version)
        serializer = meta.pop('serializer', None) or self.default_serializer
        message = {'request_id': request_id, 'meta': meta, 'body': body}

        with self._timer('send.serialize'):
            try:
                payload = serializer.dict_to_blob(message)
            except InvalidField:
                if self.is_server:
                    _check_reply_envelope(serializer, message)
                raise
        size = len(payload)
        self.metrics.histogram(self.metrics_prefix + 'send.message_size').set(size)

        if self.maximum_message_size_in_bytes and size > self.maximum_message_size_in_bytes:
            self._counter('send.error.message_too_large').increment()
            raise MessageTooLarge(size, 'Message exceeds maximum message size')
        if self.log_messages_larger_than_bytes and size > self.log_messages_larger_than_bytes:
            _oversized_logger.warning(
                'Oversized message sent for PySOA service %s',
                self.service_name,
                extra={'data': {
                    'message': RecursivelyCensoredDictWrapper(message),
                    'serialized_length_in_bytes': size,
                    'threshold': self.log_messages_larger_than_bytes,
                }},
            )

        chunk_size = self.chunk_messages_larger_than_bytes
        if self.is_server and 0 < chunk_size < size:
            if not ProtocolFeature.CHUNKED_RESPONSES.supported_in(version):
                raise MessageTooLarge(size, 'Message exceeds chunking threshold but client does not support chunking')
            frames = build_chunk_frames(version, serializer.mime_type, payload, chunk_size)
            self.metrics.histogram(self.metrics_prefix + 'send.chunk_count').set(len(frames))
        else:
            frames = [build_frame_prefix(version, serializer.mime_type) + payload]

        then_pop = None
        if then_receive_from is not None:
            then_pop = (
                _QUEUE_PREFIX + then_receive_from, receive_timeout_in_seconds or self.receive_timeout_in_seconds,
            )
        self._enqueue(queue_name, frames, redis_expiry, meta['__expiry__'], then_pop)

    def _send_error_for_response(self, error: redis.ResponseError) -> MessageSendError:
        """The error to raise for a Redis error reply (other than ``queue full``) to the enqueue script."""
        self._counter('send.error.response').increment()
        message = f'Redis error sending message for service {self.service_name}'
        if 'WRONGTYPE' in str(error):  # the key is not a list: nothing is wrong with the connection
            return UndeliverableMessageError(message, *error.args)
        self._reset_backend()
        return MessageSendError(message, *error.args)

    def _enqueue(self, queue_name: str, frames: List[bytes], redis_expiry: int,
                 expires_at: Optional[float] = None, then_pop: Optional[Tuple[str, int]] = None) -> None:
        """
        Push ``frames`` onto the queue in one atomic step. While the queue is full, retry up to ``queue_full_retries``
        times, but only while the next retry would come before ``expires_at`` (the message's ``__expiry__``, a Unix
        time): no receiver accepts a message after that, and for a request sent with a ``timeout`` it is the end of
        the call.
        """
        queue_key = _QUEUE_PREFIX + queue_name
        try:
            with self._timer('send.get_redis_connection'):
                backend = self.backend_layer
                connection = backend.get_connection(queue_key)
        except CannotGetConnectionError as e:
            self._counter('send.error.connection').increment()
            raise MessageSendError(f'Cannot get connection: {e.args[0] if e.args else repr(e)}') from e

        retries = 0
        for attempt in range(self.queue_full_retries + 1):
            try:
                with self._timer('send.send_message_to_redis_queue'):
                    backend.send_message_to_queue(
                        connection, queue_key, frames, redis_expiry, self.queue_capacity, then_pop,
                    )
                return
            except redis.ResponseError as e:
                if 'queue full' not in str(e):
                    raise self._send_error_for_response(e) from e
                retries = attempt
                delay = (2 ** attempt + random.random()) / 4.0
                if attempt == self.queue_full_retries or (expires_at is not None and time.time() + delay >= expires_at):
                    break
                self._counter('send.queue_full_retry').increment()
                self._counter(f'send.queue_full_retry.retry_{attempt + 1}').increment()
                time.sleep(delay)
            except Exception as e:
                self._reset_backend()
                self._counter('send.error.unknown').increment()
                _logger.exception('Unknown error sending message for service %s', self.service_name)
                raise MessageSendError(
                    f'Unknown error sending message for service {self.service_name}', type(e).__name__, *e.args,
                ) from e

        self._counter('send.error.redis_queue_full').increment()
        message = f'Redis queue {queue_name} was full after {retries} retries'
        if retries < self.queue_full_retries:
            message += ', and the message would have expired before the next one'
        raise MessageSendError(message)

    # Receiving ----------------------------------------------------------------------------------------------------

    def receive_message(self, queue_name: str, receive_timeout_in_seconds: Optional[int] = None) -> ReceivedMessage:
        """
        Take the next message off ``pysoa:<queue_name>``, waiting up to the timeout, reassembling chunked messages.

        :raises MessageReceiveTimeout: If no message arrives in time (:class:`ExpiredMessageReceived` if the message
                                       that arrived had expired).
        :raises InvalidMessageError: If the message is malformed: unknown protocol version, broken chunk sequence,
                                     undeserializable payload, missing request id.
        :raises MessageReceiveError: If Redis cannot be reached or fails.
        """
        timeout = receive_timeout_in_seconds or self.receive_timeout_in_seconds
        queue_key = _QUEUE_PREFIX + queue_name
        stashed = self._stashed.get(queue_key)
        if stashed:
            data = stashed.popleft()
            connection = None
        else:
            connection = self._get_receive_connection(queue_key)
            data = self._pop(connection, queue_key, timeout)

        with self._timer('receive.deserialize'):
            frame = parse_frame(data)
            payload = frame.payload
            if b'chunk-count' in frame.headers:
                if self.is_server:
                    raise InvalidMessageError('Unsupported chunked request on server Redis backend')
                if connection is None:
                    connection = self._get_receive_connection(queue_key)
                payload = self._receive_remaining_chunks(frame, connection, queue_key, timeout)
            elif self.is_server and self.maximum_message_size_in_bytes and \
                    len(payload) > self.maximum_message_size_in_bytes:
                # No client of this server may send such a request; refuse it before deserializing it.
                self._counter('receive.error.message_too_large').increment()
                raise MessageTooLarge(
                    len(payload),
                    f'Request of {len(payload)} bytes for service {self.service_name} exceeds the maximum message size '
                    f'of {self.maximum_message_size_in_bytes} bytes',
                )

            serializer = self._serializer_for(frame.content_type)
            try:
                message = serializer.blob_to_dict(payload)
            except SerializationError as e:
                raise InvalidMessageError(f'Invalid message for service {self.service_name}: {e}') from e

        meta = message.get('meta')
        if meta is None:
            meta = {}
        elif not isinstance(meta, dict):
            raise InvalidMessageError(f'Invalid message meta for service {self.service_name}: {meta!r}')
        meta['serializer'] = serializer
        meta['protocol_version'] = frame.version

        expiry = meta.get('__expiry__')
        if expiry and isinstance(expiry, (int, float)) and expiry < time.time():
            self._counter('receive.error.message_expired').increment()
            raise ExpiredMessageReceived(
                f'Message expired for service {self.service_name}', request_id=message.get('request_id'),
            )

        request_id = message.get('request_id')
        if request_id is None:
            self._counter('receive.error.no_request_id').increment()
            raise InvalidMessageError(f'No request ID for service {self.service_name}')
        return ReceivedMessage(request_id, meta, message.get('body'))

    def take_back_pending_receive(self, queue_name: str) -> None:
        """
        End the wait for a message on ``pysoa:<queue_name>`` that :meth:`send_message` started with
        ``then_receive_from`` on this thread, if any: a message it took is put back at the head of its queue, so that
        it is the next one received there. Called when this thread stops receiving from that queue.
        """
        queue_key = _QUEUE_PREFIX + queue_name
        if self._backend_layer is None:
            return
        backend = self._backend_layer
        try:
            connection = backend.get_connection(queue_key)
            data = backend.take_back_pending_pop(connection, queue_key)
            if data is not None:
                backend.held_connections.execute(connection, 'LPUSH', queue_key, data)
        except (CannotGetConnectionError, redis.RedisError) as e:
            self._counter('receive.error.message_not_returned').increment()
            _logger.error('Could not put a message taken off queue %s back: %s', queue_key, e)

    def _get_receive_connection(self, queue_key: str) -> redis.Redis:
        try:
            with self._timer('receive.get_redis_connection'):
                return self.backend_layer.get_connection(queue_key)
        except CannotGetConnectionError as e:
            self._counter('receive.error.connection').increment()
            raise MessageReceiveError(f'Cannot get connection: {e.args[0] if e.args else repr(e)}') from e

    def _pop(self, connection: redis.Redis, queue_key: str, timeout: int) -> bytes:
        try:
            with self._timer('receive.pop_from_redis_queue'):
                result = self.backend_layer.pop(connection, queue_key, timeout)
        except Exception as e:
            self._reset_backend()
            self._counter('receive.error.unknown').increment()
            raise MessageReceiveError(
                f'Unknown error receiving message for service {self.service_name}', type(e).__name__, *e.args,
            ) from e
        if result is None:
            raise MessageReceiveTimeout(f'No message received for service {self.service_name}')
        return result

    def _receive_remaining_chunks(self, first: ParsedFrame, connection: redis.Redis, queue_key: str,
                                  timeout: int) -> bytes:
        name = self.service_name
        chunk_count = _header_int(first, b'chunk-count')
        chunk_id = _header_int(first, b'chunk-id')
        if chunk_id is None:
            raise InvalidMessageError(f'Invalid chunked response missing chunk ID for service {name}')
        if chunk_count is None or chunk_id != 1:
            raise InvalidMessageError(
                f'Invalid chunked response with chunk ID {chunk_id} of {chunk_count} as its first chunk for service '
                f'{name}',
            )
        parts = [first.payload]
        while chunk_id < chunk_count:
            expected = chunk_id + 1
            try:
                data = self._pop(connection, queue_key, timeout)
            except MessageReceiveTimeout:
                # Its first chunks are consumed: the response is lost, not late.
                raise InvalidMessageError(
                    f'Incomplete chunked response for service {name}: chunk {expected} of {chunk_count} did not '
                    f'arrive within {timeout} seconds',
                ) from None
            frame = parse_frame(data)
            if b'chunk-count' not in frame.headers and b'chunk-id' not in frame.headers:
                # A whole message from a server that pushes chunks one by one (PySOA 1.x): keep it for later.
                self._stashed[queue_key].append(_reframe(frame))
                continue
            this_count = _header_int(frame, b'chunk-count')
            this_id = _header_int(frame, b'chunk-id')
            if this_count is None or this_id is None:
                raise InvalidMessageError(
                    f'Invalid chunked response missing chunk headers expecting chunk {expected} of {chunk_count} '
                    f'for service {name}.',
                )
            if this_count != chunk_count:
                raise InvalidMessageError(
                    f'Invalid chunked response has different chunk count {this_count} expecting chunk {expected} of '
                    f'{chunk_count} for service {name}.',
                )
            if this_id != expected:
                raise InvalidMessageError(
                    f'Invalid chunked response has incorrect chunk ID {this_id} expected {expected} of {chunk_count} '
                    f'for service {name}.',
                )
            parts.append(frame.payload)
            chunk_id = this_id
        return b''.join(parts)


def _check_reply_envelope(serializer: Serializer, message: Dict[str, Any]) -> None:
    """
    Called when a reply failed to serialize: raise :class:`InvalidMessageError` if the request id and meta that every
    reply to this request echoes cannot be serialized (for instance, lone surrogates an old client packed), because
    then no error reply can be sent either.
    """
    try:
        serializer.dict_to_blob({'request_id': message['request_id'], 'meta': message['meta']})
    except InvalidField as e:
        # The message tells the whole failure; the exception chain would tell it three times.
        raise InvalidMessageError(f'Cannot reply to a request whose request ID or meta cannot be serialized: {e}') \
            from None


def _header_int(frame: ParsedFrame, name: bytes) -> Optional[int]:
    value = frame.headers.get(name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise InvalidMessageError(f'Invalid {name.decode()} header value {value!r}') from None


def _reframe(frame: ParsedFrame) -> bytes:
    content_type = frame.content_type
    if content_type is None:
        return frame.payload
    return build_frame_prefix(frame.version, content_type) + frame.payload


class RedisTransportClientCore(RedisTransportCore):
    """The core of a client transport: never asked to chunk, reassembles chunked responses."""


class RedisTransportServerCore(RedisTransportCore):
    """The core of a server transport: chunks large responses for clients that can reassemble them."""

    is_server = True
