"""
The wire form of Redis gateway messages, without I/O: a message (a request or a response) turned into the frames
pushed onto a queue, and the frames taken off a queue turned back into a message. The synchronous transports' core
(:mod:`pysoa.common.transport.redis_gateway.core`) and the asynchronous client transport (``_async_client``) both use
it, so they share the exact bytes, checks, errors and metric names.

Framing itself lives in :mod:`pysoa.common.transport.redis_gateway._framing`; this module adds the envelope
(``request_id``, ``meta``, ``body``), the choice of serializer, expiry, size limits, the chunking of large responses and
their reassembly.
"""

import contextlib
import logging
import time
from typing import (
    Any,
    Dict,
    List,
    Optional,
    Tuple,
)

from conformity import fields
from pymetrics.instruments import TimerResolution
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
    MessageReceiveTimeout,
    MessageTooLarge,
)
from pysoa.common.transport.redis_gateway._framing import (
    ParsedFrame,
    build_chunk_frames,
    build_frame_prefix,
    parse_frame,
)
from pysoa.common.transport.redis_gateway.constants import (
    ProtocolFeature,
    ProtocolVersion,
)


__all__ = (
    'QUEUE_PREFIX',
    'ChunkedResponse',
    'EncodedMessage',
    'ExpiredMessageReceived',
    'MessageDecoder',
    'MessageEncoder',
    'is_chunk',
    'make_serializer',
)

QUEUE_PREFIX = 'pysoa:'
"""What precedes a queue's name in its Redis key: ``pysoa:service.<name>`` for the queue named ``service.<name>``."""

EncodedMessage = Tuple[List[bytes], int, float]
"""
What :meth:`MessageEncoder.encode` returns: the frames to push (in one atomic step), the seconds the queue lives after
this push, and the message's ``__expiry__`` (the Unix time after which no receiver accepts it).
"""

_oversized_logger = logging.getLogger('pysoa.transport.oversized_message')
_MICROSECONDS = TimerResolution.MICROSECONDS
_NOT_TIMED = contextlib.nullcontext()


class ExpiredMessageReceived(MessageReceiveTimeout):
    """
    A message was taken off the queue but had expired: it is dropped, and counts as received.

    :param request_id: The expired message's request id (``None`` if it had none), available as an attribute.
    """

    # Raised here, but public (and named in tracebacks) as a class of the transports' core.
    __module__ = 'pysoa.common.transport.redis_gateway.core'

    def __init__(self, *args: Any, request_id: Any = None) -> None:
        super().__init__(*args)
        self.request_id = request_id


def make_serializer(serializer_config: Optional[Dict[str, Any]]) -> Serializer:
    """The serializer a ``default_serializer_config`` setting names (MessagePack when it is not set)."""
    config = serializer_config or {'path': 'pysoa.common.serializer:MsgpackSerializer'}
    serializer_class = config.get('object') or fields.PythonPath.resolve_python_path(config['path'])
    serializer: Serializer = serializer_class(**config.get('kwargs', {}))
    return serializer


class MessageEncoder:
    """
    Builds the frames of the messages one transport sends, with its settings.

    :param service_name: The service (for messages and logs).
    :param metrics: The metrics recorder.
    :param metrics_prefix: The prefix of the transport's metrics (``client.transport.redis_gateway.``, ...).
    :param serializer: The serializer of messages whose meta names none.
    :param protocol_version: The protocol version of messages whose meta names none.
    :param message_expiry_in_seconds: The expiry of a message whose sender gives none.
    :param maximum_message_size_in_bytes: The largest serialized message allowed (0: no limit).
    :param log_messages_larger_than_bytes: Log messages larger than this on ``pysoa.transport.oversized_message``
                                           (0: never).
    :param chunk_messages_larger_than_bytes: (Servers) Send responses larger than this in chunks (-1: never).
    :param is_server: Whether the messages are responses: they may be chunked, and one that cannot be serialized is
                      checked for an envelope no reply can echo.
    :param time_serialization: Whether to record the ``send.serialize`` timer.
    """

    def __init__(
        self,
        service_name: str,
        metrics: MetricsRecorder,
        metrics_prefix: str,
        serializer: Serializer,
        protocol_version: ProtocolVersion,
        message_expiry_in_seconds: int,
        maximum_message_size_in_bytes: int,
        log_messages_larger_than_bytes: int,
        chunk_messages_larger_than_bytes: int = -1,
        is_server: bool = False,
        time_serialization: bool = True,
    ) -> None:
        self.service_name = service_name
        self.metrics = metrics
        self.metrics_prefix = metrics_prefix
        self.serializer = serializer
        self.protocol_version = ProtocolVersion(protocol_version)
        self.message_expiry_in_seconds = message_expiry_in_seconds
        self.maximum_message_size_in_bytes = maximum_message_size_in_bytes
        self.log_messages_larger_than_bytes = log_messages_larger_than_bytes
        self.chunk_messages_larger_than_bytes = chunk_messages_larger_than_bytes
        self.is_server = is_server
        self.time_serialization = time_serialization

    def encode(
        self,
        request_id: int,
        meta: Dict[str, Any],
        body: Dict[str, Any],
        message_expiry_in_seconds: Optional[int] = None,
    ) -> EncodedMessage:
        """
        The frames of one message (see :data:`EncodedMessage`). ``meta`` is not modified: the envelope's copy gets
        the ``__expiry__``, and loses the ``serializer`` and ``protocol_version`` a receiver attached to it, which
        choose the format of the reply.

        :raises InvalidMessageError: If there is no request id, or (server side) if the request id or meta a reply
                                     echoes cannot be serialized, so no reply to that request can be sent.
        :raises MessageTooLarge: If the message exceeds the maximum size (or needs chunking the receiver lacks).
        :raises pysoa.common.serializer.errors.InvalidField: If the message cannot be serialized.
        """
        if request_id is None:
            raise InvalidMessageError('No request ID')

        if message_expiry_in_seconds and message_expiry_in_seconds > 0:
            expiry, redis_expiry = message_expiry_in_seconds, message_expiry_in_seconds + 10
        else:
            expiry = redis_expiry = self.message_expiry_in_seconds

        meta = dict(meta)
        expires_at = meta['__expiry__'] = time.time() + expiry
        version = meta.pop('protocol_version', None)
        version = ProtocolVersion(version) if version else self.protocol_version
        serializer = meta.pop('serializer', None) or self.serializer
        message = {'request_id': request_id, 'meta': meta, 'body': body}

        timer = (
            self.metrics.timer(self.metrics_prefix + 'send.serialize', resolution=_MICROSECONDS)
            if self.time_serialization
            else _NOT_TIMED
        )
        with timer:
            try:
                payload = serializer.dict_to_blob(message)
            except InvalidField:
                if self.is_server:
                    _check_reply_envelope(serializer, message)
                raise
        size = len(payload)
        self.metrics.histogram(self.metrics_prefix + 'send.message_size').set(size)

        if self.maximum_message_size_in_bytes and size > self.maximum_message_size_in_bytes:
            self.metrics.counter(self.metrics_prefix + 'send.error.message_too_large').increment()
            raise MessageTooLarge(size, 'Message exceeds maximum message size')
        if self.log_messages_larger_than_bytes and size > self.log_messages_larger_than_bytes:
            _oversized_logger.warning(
                'Oversized message sent for PySOA service %s',
                self.service_name,
                extra={
                    'data': {
                        'message': RecursivelyCensoredDictWrapper(message),
                        'serialized_length_in_bytes': size,
                        'threshold': self.log_messages_larger_than_bytes,
                    }
                },
            )

        chunk_size = self.chunk_messages_larger_than_bytes
        if self.is_server and 0 < chunk_size < size:
            if not ProtocolFeature.CHUNKED_RESPONSES.supported_in(version):
                raise MessageTooLarge(size, 'Message exceeds chunking threshold but client does not support chunking')
            frames = build_chunk_frames(version, serializer.mime_type, payload, chunk_size)
            self.metrics.histogram(self.metrics_prefix + 'send.chunk_count').set(len(frames))
        else:
            frames = [build_frame_prefix(version, serializer.mime_type) + payload]
        return frames, redis_expiry, expires_at


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
        raise InvalidMessageError(
            f'Cannot reply to a request whose request ID or meta cannot be serialized: {e}'
        ) from None


class MessageDecoder:
    """
    Reads the messages one transport receives from their (reassembled) frames, with the serializer each frame's
    content type names (the transport's own serializer when it names none, or one this library does not know).

    :param service_name: The service (for messages).
    :param metrics: The metrics recorder.
    :param metrics_prefix: The prefix of the transport's metrics.
    :param default_serializer: The transport's serializer.
    :param maximum_message_size_in_bytes: (Servers) The largest request accepted (0: no limit).
    """

    def __init__(
        self,
        service_name: str,
        metrics: MetricsRecorder,
        metrics_prefix: str,
        default_serializer: Serializer,
        maximum_message_size_in_bytes: int = 0,
    ) -> None:
        self.service_name = service_name
        self.metrics = metrics
        self.metrics_prefix = metrics_prefix
        self.default_serializer = default_serializer
        self.maximum_message_size_in_bytes = maximum_message_size_in_bytes
        self._serializers: Dict[str, Serializer] = {default_serializer.mime_type: default_serializer}

    def serializer_for(self, mime_type: Optional[str]) -> Serializer:
        """The serializer for a frame's content type."""
        if mime_type is None:
            return self.default_serializer
        serializer = self._serializers.get(mime_type)
        if serializer is None:
            if mime_type not in Serializer.all_supported_mime_types:
                return self.default_serializer
            serializer = self._serializers[mime_type] = Serializer.resolve_serializer(mime_type)
        return serializer

    def request_payload(self, frame: ParsedFrame) -> bytes:
        """
        The payload of a request's frame, as a server takes it: requests are never chunked, and one larger than the
        maximum message size is refused before it is deserialized (no client of the server may send it).

        :raises InvalidMessageError: If the frame is a chunk.
        :raises MessageTooLarge: If the payload exceeds the maximum message size.
        """
        if b'chunk-count' in frame.headers:
            raise InvalidMessageError('Unsupported chunked request on server Redis backend')
        payload = frame.payload
        if self.maximum_message_size_in_bytes and len(payload) > self.maximum_message_size_in_bytes:
            self.metrics.counter(self.metrics_prefix + 'receive.error.message_too_large').increment()
            raise MessageTooLarge(
                len(payload),
                f'Request of {len(payload)} bytes for service {self.service_name} exceeds the maximum message size '
                f'of {self.maximum_message_size_in_bytes} bytes',
            )
        return payload

    def decode(self, frame: ParsedFrame, payload: bytes) -> ReceivedMessage:
        """
        The message in ``payload`` (the frame's payload, or the payloads of all its chunks joined). Its meta gets the
        ``serializer`` and ``protocol_version`` it came in.

        :raises InvalidMessageError: If the payload cannot be deserialized, its meta is not a dict, or it has no
                                     request id.
        :raises ExpiredMessageReceived: If the message arrived after its ``__expiry__`` (it carries the request id).
        """
        serializer = self.serializer_for(frame.content_type)
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
            self.metrics.counter(self.metrics_prefix + 'receive.error.message_expired').increment()
            raise ExpiredMessageReceived(
                f'Message expired for service {self.service_name}',
                request_id=message.get('request_id'),
            )

        request_id = message.get('request_id')
        if request_id is None:
            self.metrics.counter(self.metrics_prefix + 'receive.error.no_request_id').increment()
            raise InvalidMessageError(f'No request ID for service {self.service_name}')
        return ReceivedMessage(request_id, meta, message.get('body'))


def is_chunk(frame: ParsedFrame) -> bool:
    """Whether a frame is a chunk of a response (rather than a whole message)."""
    return b'chunk-count' in frame.headers or b'chunk-id' in frame.headers


class ChunkedResponse:
    """
    Collects the chunks of one response, which must follow its first chunk in order (ids ``2`` to ``count``). Whole
    messages may come between them, from a server that pushes chunks one by one (as PySOA 1.x does): they are kept, in
    order, in :attr:`between`, for the receiver to take next.

    :param first: The first chunk.
    :param service_name: The service called (for messages).

    :raises InvalidMessageError: If ``first`` is not the first chunk of a response.
    """

    def __init__(self, first: ParsedFrame, service_name: str) -> None:
        self.service_name = service_name
        count = _header_int(first, b'chunk-count')
        chunk_id = _header_int(first, b'chunk-id')
        if chunk_id is None:
            raise InvalidMessageError(f'Invalid chunked response missing chunk ID for service {service_name}')
        if count is None or chunk_id != 1:
            raise InvalidMessageError(
                f'Invalid chunked response with chunk ID {chunk_id} of {count} as its first chunk for service '
                f'{service_name}',
            )
        self.count = count
        self.received = 1
        self._parts = [first.payload]
        self.between: List[bytes] = []
        """The whole messages (frames as taken off the queue) that came between the chunks, in order."""

    @property
    def complete(self) -> bool:
        return self.received >= self.count

    @property
    def payload(self) -> bytes:
        """All chunks' payloads, joined."""
        return b''.join(self._parts)

    def take(self, data: bytes) -> None:
        """
        Take the next frame off the queue: the next chunk, or a whole message, kept in :attr:`between`.

        :raises InvalidMessageError: If it is a chunk, but not the one expected next.
        """
        frame = parse_frame(data)
        if is_chunk(frame):
            self.add(frame)
        else:
            self.between.append(data)

    def add(self, frame: ParsedFrame) -> None:
        """
        Add the next chunk.

        :raises InvalidMessageError: If it is not the chunk expected next.
        """
        expected, count, name = self.received + 1, self.count, self.service_name
        this_count = _header_int(frame, b'chunk-count')
        this_id = _header_int(frame, b'chunk-id')
        if this_count is None or this_id is None:
            raise InvalidMessageError(
                f'Invalid chunked response missing chunk headers expecting chunk {expected} of {count} for service '
                f'{name}.',
            )
        if this_count != count:
            raise InvalidMessageError(
                f'Invalid chunked response has different chunk count {this_count} expecting chunk {expected} of '
                f'{count} for service {name}.',
            )
        if this_id != expected:
            raise InvalidMessageError(
                f'Invalid chunked response has incorrect chunk ID {this_id} expected {expected} of {count} for '
                f'service {name}.',
            )
        self._parts.append(frame.payload)
        self.received = this_id

    def incomplete_error(self, timeout: float) -> InvalidMessageError:
        """The error for a response whose next chunk did not come in time: it is lost, its first chunks consumed."""
        return InvalidMessageError(
            f'Incomplete chunked response for service {self.service_name}: chunk {self.received + 1} of {self.count} '
            f'did not arrive within {timeout:g} seconds',
        )


def _header_int(frame: ParsedFrame, name: bytes) -> Optional[int]:
    value = frame.headers.get(name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise InvalidMessageError(f'Invalid {name.decode()} header value {value!r}') from None
