"""
The I/O-free half of a Redis gateway client transport: turning a request into the frames pushed onto a service's
queue, and the frames taken off a reply queue back into a response. Nothing here touches Redis, so a transport of any
flavour (the asynchronous one in ``_async_client``) shares the exact bytes, checks, errors and metrics names.

Framing itself lives in :mod:`pysoa.common.transport.redis_gateway.framing`; this module adds the envelope
(``request_id``, ``meta``, ``body``), expiry, size limits and chunk reassembly, as the synchronous transport's core
does them.
"""

import logging
import time
from typing import (
    Any,
    Dict,
    List,
    NamedTuple,
    Optional,
)

from conformity import fields
from pymetrics.recorders.base import MetricsRecorder

from pysoa.common.logging import RecursivelyCensoredDictWrapper
from pysoa.common.serializer.base import Serializer
from pysoa.common.serializer.errors import SerializationError
from pysoa.common.transport.base import ReceivedMessage
from pysoa.common.transport.errors import (
    InvalidMessageError,
    MessageTooLarge,
)
from pysoa.common.transport.redis_gateway.core import ExpiredMessageReceived
from pysoa.common.transport.redis_gateway.framing import (
    ParsedFrame,
    build_frame_prefix,
)


__all__ = (
    'ChunkedResponse',
    'EncodedRequest',
    'RequestEncoder',
    'ResponseDecoder',
    'is_chunk',
    'make_serializer',
)

_oversized_logger = logging.getLogger('pysoa.transport.oversized_message')


def make_serializer(serializer_config: Optional[Dict[str, Any]]) -> Serializer:
    """The serializer a ``default_serializer_config`` setting names (MessagePack when it is not set)."""
    config = serializer_config or {'path': 'pysoa.common.serializer:MsgpackSerializer'}
    serializer_class = config.get('object') or fields.PythonPath.resolve_python_path(config['path'])
    serializer: Serializer = serializer_class(**config.get('kwargs', {}))
    return serializer


class EncodedRequest(NamedTuple):
    """A request ready to push: its frames, the time to live of the queue, and when the request expires."""

    frames: List[bytes]
    redis_expiry: int
    """Seconds the queue lives after this push (the request's expiry, plus 10 seconds when the call chose it)."""
    expires_at: float
    """The request's ``__expiry__``: the Unix time after which no server accepts it."""


class RequestEncoder:
    """
    Builds the frames of requests to one service, with the settings of its client transport.

    :param service_name: The service called (for messages and logs).
    :param metrics: The metrics recorder.
    :param metrics_prefix: The prefix of this transport's metrics (``client.transport.redis_gateway.``).
    :param serializer: The serializer of requests.
    :param protocol_version: The protocol version requests are framed in.
    :param message_expiry_in_seconds: The expiry of a request whose call gives none.
    :param maximum_message_size_in_bytes: The largest serialized request allowed (0: no limit).
    :param log_messages_larger_than_bytes: Log requests larger than this on ``pysoa.transport.oversized_message``
                                           (0: never).
    """

    def __init__(
        self,
        service_name: str,
        metrics: MetricsRecorder,
        metrics_prefix: str,
        serializer: Serializer,
        protocol_version: Any,
        message_expiry_in_seconds: int,
        maximum_message_size_in_bytes: int,
        log_messages_larger_than_bytes: int,
    ) -> None:
        self.service_name = service_name
        self.metrics = metrics
        self.metrics_prefix = metrics_prefix
        self.serializer = serializer
        self.protocol_version = protocol_version
        self.message_expiry_in_seconds = message_expiry_in_seconds
        self.maximum_message_size_in_bytes = maximum_message_size_in_bytes
        self.log_messages_larger_than_bytes = log_messages_larger_than_bytes
        self._prefix = build_frame_prefix(protocol_version, serializer.mime_type)

    def encode(
        self,
        request_id: int,
        meta: Dict[str, Any],
        body: Dict[str, Any],
        message_expiry_in_seconds: Optional[int] = None,
    ) -> EncodedRequest:
        """
        The frames of one request. ``meta`` is not modified; the envelope's copy gets the ``__expiry__``.

        :raises InvalidMessageError: If there is no request id.
        :raises MessageTooLarge: If the serialized request exceeds the maximum message size.
        :raises pysoa.common.serializer.errors.InvalidField: If the request cannot be serialized.
        """
        if request_id is None:
            raise InvalidMessageError('No request ID')
        if message_expiry_in_seconds and message_expiry_in_seconds > 0:
            expiry, redis_expiry = message_expiry_in_seconds, message_expiry_in_seconds + 10
        else:
            expiry = redis_expiry = self.message_expiry_in_seconds

        meta = dict(meta)
        expires_at = meta['__expiry__'] = time.time() + expiry
        message = {'request_id': request_id, 'meta': meta, 'body': body}
        payload = self.serializer.dict_to_blob(message)
        size = len(payload)
        self.metrics.histogram(self.metrics_prefix + 'send.message_size').set(size)

        if self.maximum_message_size_in_bytes and size > self.maximum_message_size_in_bytes:
            self.metrics.counter(self.metrics_prefix + 'send.error.message_too_large').increment()
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
        return EncodedRequest([self._prefix + payload], redis_expiry, expires_at)


class ResponseDecoder:
    """
    Reads the responses of one service from their (reassembled) frames, with the serializer each frame's content type
    names (the transport's own serializer when it names none, or one this library does not know).

    :param service_name: The service called (for messages).
    :param metrics: The metrics recorder.
    :param metrics_prefix: The prefix of this transport's metrics.
    :param default_serializer: The transport's serializer.
    """

    def __init__(
        self,
        service_name: str,
        metrics: MetricsRecorder,
        metrics_prefix: str,
        default_serializer: Serializer,
    ) -> None:
        self.service_name = service_name
        self.metrics = metrics
        self.metrics_prefix = metrics_prefix
        self.default_serializer = default_serializer
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

    def decode(self, frame: ParsedFrame, payload: bytes) -> ReceivedMessage:
        """
        The response in ``payload`` (the frame's payload, or the payloads of all its chunks joined). Its meta gets
        the ``serializer`` and ``protocol_version`` it came in.

        :raises InvalidMessageError: If the payload cannot be deserialized, its meta is not a dict, or it has no
                                     request id.
        :raises ExpiredMessageReceived: If the response arrived after its ``__expiry__`` (it carries the request id).
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
                f'Message expired for service {self.service_name}', request_id=message.get('request_id'),
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
    Collects the chunks of one response, which must follow its first chunk in order (ids ``2`` to ``count``).

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

    @property
    def complete(self) -> bool:
        return self.received >= self.count

    @property
    def payload(self) -> bytes:
        """All chunks' payloads, joined."""
        return b''.join(self._parts)

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
