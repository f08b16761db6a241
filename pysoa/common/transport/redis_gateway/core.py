"""
The machinery both synchronous Redis gateway transports share: the Redis commands that move messages (one atomic script
call to send, with retries while the queue is full, one ``BLPOP`` to receive, the chunks of a response included), and
the process-wide backend layers. The messages' wire form (envelope, serialization, size limits, expiry, chunking) is
:mod:`pysoa.common.transport.redis_gateway._messages`'s.
"""

import collections
import logging
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
from pymetrics.instruments import (
    Counter,
    TimerResolution,
)
from pymetrics.recorders.base import MetricsRecorder

from pysoa.common.transport.base import ReceivedMessage
from pysoa.common.transport.errors import (
    InvalidMessageError,
    MessageReceiveError,
    MessageReceiveTimeout,
    MessageSendError,
)
from pysoa.common.transport.redis_gateway._framing import (
    ParsedFrame,
    parse_frame,
)
from pysoa.common.transport.redis_gateway._messages import (
    QUEUE_PREFIX,
    ChunkedResponse,
    ExpiredMessageReceived,
    MessageDecoder,
    MessageEncoder,
    make_serializer,
)
from pysoa.common.transport.redis_gateway._queue_full import (
    full_queue_error,
    retry_delay,
)
from pysoa.common.transport.redis_gateway.backend._common import normalize_backend_layer_kwargs
from pysoa.common.transport.redis_gateway.backend.base import (
    BaseRedisClient,
    CannotGetConnectionError,
)
from pysoa.common.transport.redis_gateway.backend.sentinel import SentinelRedisClient
from pysoa.common.transport.redis_gateway.backend.standard import StandardRedisClient
from pysoa.common.transport.redis_gateway.constants import (
    MINIMUM_CHUNKED_MESSAGE_BYTES,
    REDIS_BACKEND_TYPE_SENTINEL,
    REDIS_BACKEND_TYPES,
    ProtocolVersion,
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
_MICROSECONDS = TimerResolution.MICROSECONDS

_backend_layers: Dict[Any, BaseRedisClient] = {}
_backend_layers_lock = threading.Lock()


class UndeliverableMessageError(MessageSendError, InvalidMessageError):
    """
    Redis refused a message because of where it was sent: the queue's key holds a value that is not a list. Other
    messages can still be sent, so it is also an :class:`InvalidMessageError`: a server drops a reply that raises it
    instead of counting a transport failure. Delete the key, or send to another queue.
    """


def _get_backend_layer(
    backend_type: str, backend_layer_kwargs: Dict[str, Any], metrics: MetricsRecorder, metrics_prefix: str
) -> BaseRedisClient:
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
        self.backend_layer_kwargs = normalize_backend_layer_kwargs(backend_type, backend_layer_kwargs or {})
        self.queue_capacity = queue_capacity
        self.queue_full_retries = queue_full_retries
        self.receive_timeout_in_seconds = receive_timeout_in_seconds

        self.default_serializer = make_serializer(default_serializer_config)
        self._encoder = MessageEncoder(
            service_name,
            metrics,
            metrics_prefix,
            self.default_serializer,
            ProtocolVersion(protocol_version),
            message_expiry_in_seconds,
            maximum_message_size_in_bytes,
            log_messages_larger_than_bytes,
            chunk_messages_larger_than_bytes,
            is_server=self.is_server,
        )
        self._decoder = MessageDecoder(
            service_name,
            metrics,
            metrics_prefix,
            self.default_serializer,
            maximum_message_size_in_bytes,
        )

        self._backend_layer: Optional[BaseRedisClient] = None
        # Whole messages that arrived in the middle of another message's chunks, by queue key.
        self._stashed: Dict[str, Deque[bytes]] = collections.defaultdict(collections.deque)

    # The message settings, which the encoder owns (read-only) ---------------------------------------------------

    @property
    def protocol_version(self) -> ProtocolVersion:
        """The protocol version of the requests this transport sends (a reply uses its request's)."""
        return self._encoder.protocol_version

    @property
    def message_expiry_in_seconds(self) -> int:
        """How long a message lives by default."""
        return self._encoder.message_expiry_in_seconds

    @property
    def maximum_message_size_in_bytes(self) -> int:
        """The largest message sent or (server side) accepted; 0: no limit."""
        return self._encoder.maximum_message_size_in_bytes

    @property
    def log_messages_larger_than_bytes(self) -> int:
        """Messages larger than this are logged when sent; 0: none are."""
        return self._encoder.log_messages_larger_than_bytes

    @property
    def chunk_messages_larger_than_bytes(self) -> int:
        """Responses larger than this are sent in chunks; -1: never."""
        return self._encoder.chunk_messages_larger_than_bytes

    # Helpers ------------------------------------------------------------------------------------------------------

    @property
    def backend_layer(self) -> BaseRedisClient:
        """The (process-wide, shared) Redis backend for this transport's settings."""
        layer = self._backend_layer
        if layer is None:
            layer = self._backend_layer = _get_backend_layer(
                self.backend_type,
                self.backend_layer_kwargs,
                self.metrics,
                self.metrics_prefix,
            )
        layer.counter_factory = self._counter
        return layer

    def _counter(self, name: str) -> Counter:
        return self.metrics.counter(self.metrics_prefix + name)

    def _timer(self, name: str) -> Any:
        return self.metrics.timer(self.metrics_prefix + name, resolution=_MICROSECONDS)

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
        frames, redis_expiry, expires_at = self._encoder.encode(request_id, meta, body, message_expiry_in_seconds)
        then_pop = None
        if then_receive_from is not None:
            then_pop = (
                QUEUE_PREFIX + then_receive_from,
                receive_timeout_in_seconds or self.receive_timeout_in_seconds,
            )
        self._enqueue(queue_name, frames, redis_expiry, expires_at, then_pop)

    def _send_error_for_response(self, error: redis.ResponseError) -> MessageSendError:
        """The error to raise for a Redis error reply (other than ``queue full``) to the enqueue script."""
        self._counter('send.error.response').increment()
        message = f'Redis error sending message for service {self.service_name}'
        if 'WRONGTYPE' in str(error):  # the key is not a list: nothing is wrong with the connection
            return UndeliverableMessageError(message, *error.args)
        self._reset_backend()
        return MessageSendError(message, *error.args)

    def _enqueue(
        self,
        queue_name: str,
        frames: List[bytes],
        redis_expiry: int,
        expires_at: Optional[float] = None,
        then_pop: Optional[Tuple[str, int]] = None,
    ) -> None:
        """
        Push ``frames`` onto the queue in one atomic step. While the queue is full, retry up to ``queue_full_retries``
        times, but only while the next retry would come before ``expires_at`` (the message's ``__expiry__``, a Unix
        time): no receiver accepts a message after that, and for a request sent with a ``timeout`` it is the end of
        the call.
        """
        queue_key = QUEUE_PREFIX + queue_name
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
                        connection,
                        queue_key,
                        frames,
                        redis_expiry,
                        self.queue_capacity,
                        then_pop,
                    )
                return
            except redis.ResponseError as e:
                if 'queue full' not in str(e):
                    raise self._send_error_for_response(e) from e
                retries = attempt
                delay = retry_delay(attempt, self.queue_full_retries, expires_at)
                if delay is None:
                    break
                self._counter('send.queue_full_retry').increment()
                self._counter(f'send.queue_full_retry.retry_{attempt + 1}').increment()
                time.sleep(delay)
            except Exception as e:
                self._reset_backend()
                self._counter('send.error.unknown').increment()
                _logger.exception('Unknown error sending message for service %s', self.service_name)
                raise MessageSendError(
                    f'Unknown error sending message for service {self.service_name}',
                    type(e).__name__,
                    *e.args,
                ) from e

        self._counter('send.error.redis_queue_full').increment()
        raise full_queue_error(queue_name, retries, self.queue_full_retries)

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
        queue_key = QUEUE_PREFIX + queue_name
        stashed = self._stashed.get(queue_key)
        if stashed:
            data = stashed.popleft()
            connection = None
        else:
            connection = self._get_receive_connection(queue_key)
            data = self._pop(connection, queue_key, timeout)

        with self._timer('receive.deserialize'):
            frame = parse_frame(data)
            if self.is_server:
                payload = self._decoder.request_payload(frame)
            elif b'chunk-count' in frame.headers:
                if connection is None:
                    connection = self._get_receive_connection(queue_key)
                payload = self._receive_remaining_chunks(frame, connection, queue_key, timeout)
            else:
                payload = frame.payload
            return self._decoder.decode(frame, payload)

    def take_back_pending_receive(self, queue_name: str) -> None:
        """
        End the wait for a message on ``pysoa:<queue_name>`` that :meth:`send_message` started with
        ``then_receive_from`` on this thread, if any: a message it took is put back at the head of its queue, so that
        it is the next one received there. Called when this thread stops receiving from that queue.
        """
        queue_key = QUEUE_PREFIX + queue_name
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
                f'Unknown error receiving message for service {self.service_name}',
                type(e).__name__,
                *e.args,
            ) from e
        if result is None:
            raise MessageReceiveTimeout(f'No message received for service {self.service_name}')
        return result

    def _receive_remaining_chunks(
        self, first: ParsedFrame, connection: redis.Redis, queue_key: str, timeout: int
    ) -> bytes:
        chunks = ChunkedResponse(first, self.service_name)
        try:
            while not chunks.complete:
                try:
                    data = self._pop(connection, queue_key, timeout)
                except MessageReceiveTimeout:
                    # Its first chunks are consumed: the response is lost, not late.
                    raise chunks.incomplete_error(timeout) from None
                chunks.take(data)
        finally:
            if chunks.between:
                self._stashed[queue_key].extend(chunks.between)
        return chunks.payload


class RedisTransportClientCore(RedisTransportCore):
    """The core of a client transport: never asked to chunk, reassembles chunked responses."""


class RedisTransportServerCore(RedisTransportCore):
    """The core of a server transport: chunks large responses for clients that can reassemble them."""

    is_server = True
