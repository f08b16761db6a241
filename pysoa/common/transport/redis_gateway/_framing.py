"""
Framing of messages on Redis lists: the optional version marker and headers before the serialized envelope.

* version 1: ``<payload>``
* version 2: ``content-type:<mime>;<payload>``
* version 3: ``pysoa-redis/3//content-type:<mime>;<payload>``, and a chunk of a large response
  ``pysoa-redis/3//content-type:<mime>;chunk-count:<N>;chunk-id:<i>;<slice i>`` (ids 1 to N).
"""

import math
import re
from typing import (
    Dict,
    List,
    NamedTuple,
    Optional,
)

from pysoa.common.transport.errors import InvalidMessageError
from pysoa.common.transport.redis_gateway.constants import (
    ProtocolFeature,
    ProtocolVersion,
)


__all__ = (
    'ParsedFrame',
    'build_chunk_frames',
    'build_frame_prefix',
    'parse_frame',
)

_VERSION_MARKER = re.compile(rb'pysoa-redis/(\d+)//')
_HEADER = re.compile(rb'\s*(content-type|chunk-count|chunk-id)\s*:\s*([a-zA-Z0-9_/.\-]+)\s*;')


class ParsedFrame(NamedTuple):
    """A received frame: its protocol version, its headers (name to value) and its payload."""

    version: ProtocolVersion
    headers: Dict[bytes, bytes]
    payload: bytes

    @property
    def content_type(self) -> Optional[str]:
        value = self.headers.get(b'content-type')
        return value.decode('ascii') if value is not None else None


# Nearly every frame is a whole MessagePack message of version 3: it is split without a regular expression. A header
# name starts with "c" (whitespace may precede it); a MessagePack payload starts with neither.
_V3_MSGPACK = b'pysoa-redis/3//content-type:application/msgpack;'
_V3_MSGPACK_LENGTH = len(_V3_MSGPACK)
_HEADER_STARTS = frozenset(bytes((c,)) for c in b'c \t\n\r\x0b\x0c')


def parse_frame(data: bytes) -> ParsedFrame:
    """
    Split a frame into version, headers and payload. Whitespace after the last header belongs to the payload.

    :raises InvalidMessageError: If the frame announces a protocol version this library does not speak.
    """
    if data.startswith(_V3_MSGPACK) and data[_V3_MSGPACK_LENGTH : _V3_MSGPACK_LENGTH + 1] not in _HEADER_STARTS:
        return ParsedFrame(
            ProtocolVersion.VERSION_3,
            {b'content-type': b'application/msgpack'},
            data[_V3_MSGPACK_LENGTH:],
        )
    position = 0
    match = _VERSION_MARKER.match(data)
    if match:
        try:
            version = ProtocolVersion(int(match.group(1)))
        except ValueError:
            raise InvalidMessageError(
                f'Unsupported protocol version {match.group(1).decode()} in message (this library speaks versions '
                f'{", ".join(str(int(v)) for v in ProtocolVersion)})',
            ) from None
        position = match.end()
    elif data.startswith(b'content-type'):
        version = ProtocolVersion.VERSION_2
    else:
        return ParsedFrame(ProtocolVersion.VERSION_1, {}, data)

    headers: Dict[bytes, bytes] = {}
    while True:
        header = _HEADER.match(data, position)
        if header is None:
            break
        headers[header.group(1)] = header.group(2)
        position = header.end()
    return ParsedFrame(version, headers, data[position:])


_prefix_cache: Dict[tuple, bytes] = {}  # type: ignore[type-arg]


def build_frame_prefix(version: ProtocolVersion, mime_type: str) -> bytes:
    """The bytes that precede the serialized envelope of an unchunked message."""
    key = (version, mime_type)
    prefix = _prefix_cache.get(key)
    if prefix is None:
        prefix = b''
        if ProtocolFeature.CONTENT_TYPE_HEADER.supported_in(version):
            prefix = b'content-type:' + mime_type.encode('ascii') + b';'
        if ProtocolFeature.VERSION_MARKER.supported_in(version):
            prefix = version.prefix + prefix
        _prefix_cache[key] = prefix
    return prefix


def build_chunk_frames(version: ProtocolVersion, mime_type: str, payload: bytes, chunk_size: int) -> List[bytes]:
    """Split a serialized envelope into chunk frames of at most ``chunk_size`` payload bytes each."""
    count = math.ceil(len(payload) / chunk_size)
    prefix = build_frame_prefix(version, mime_type)
    return [
        b'%schunk-count:%d;chunk-id:%d;%s' % (prefix, count, index + 1, payload[start : start + chunk_size])
        for index, start in enumerate(range(0, len(payload), chunk_size))
    ]
