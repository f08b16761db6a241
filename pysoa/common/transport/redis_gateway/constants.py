"""Constants of the Redis gateway transport, including the wire protocol versions."""

import enum
import re
from typing import Tuple


__all__ = (
    'DEFAULT_MAXIMUM_MESSAGE_BYTES_CLIENT',
    'DEFAULT_MAXIMUM_MESSAGE_BYTES_SERVER',
    'MINIMUM_CHUNKED_MESSAGE_BYTES',
    'REDIS_BACKEND_TYPES',
    'REDIS_BACKEND_TYPE_SENTINEL',
    'REDIS_BACKEND_TYPE_STANDARD',
    'ProtocolFeature',
    'ProtocolVersion',
)

REDIS_BACKEND_TYPE_STANDARD = 'redis.standard'
REDIS_BACKEND_TYPE_SENTINEL = 'redis.sentinel'
REDIS_BACKEND_TYPES = (REDIS_BACKEND_TYPE_STANDARD, REDIS_BACKEND_TYPE_SENTINEL)

DEFAULT_MAXIMUM_MESSAGE_BYTES_CLIENT = 1024 * 100
DEFAULT_MAXIMUM_MESSAGE_BYTES_SERVER = 256000
MINIMUM_CHUNKED_MESSAGE_BYTES = 1024 * 100

_VERSION_MARKER = re.compile(rb'^pysoa-redis/(\d+)//')


class ProtocolVersion(enum.IntEnum):
    """
    The versions of the Redis gateway wire protocol. A server answers each request in the version it was sent in.

    * Version 1: the serialized message alone (always MessagePack).
    * Version 2: ``content-type:<mime type>;`` headers before the message.
    * Version 3: a ``pysoa-redis/3//`` marker before the headers, and chunked responses.
    """

    VERSION_1 = 1
    VERSION_2 = 2
    VERSION_3 = 3

    @property
    def prefix(self) -> bytes:
        """The version marker that starts a message of this version (messages of versions 1 and 2 do not use it)."""
        return b'pysoa-redis/%d//' % self.value

    @staticmethod
    def extract_version(message_data: bytes) -> Tuple['ProtocolVersion', bytes]:
        """
        Return the version of a received message and the message with its version marker removed.

        :param message_data: The received message.

        :raises ValueError: If the message carries a version marker with an unsupported version number.
        """
        match = _VERSION_MARKER.match(message_data)
        if match:
            return ProtocolVersion(int(match.group(1))), message_data[match.end() :]
        if message_data.startswith(b'content-type'):
            return ProtocolVersion.VERSION_2, message_data
        return ProtocolVersion.VERSION_1, message_data


class ProtocolFeature(enum.Enum):
    """The protocol features that depend on the protocol version."""

    CONTENT_TYPE_HEADER = 'content-type-header'
    VERSION_MARKER = 'version-marker'
    CHUNKED_RESPONSES = 'chunked-responses'

    def supported_in(self, version: ProtocolVersion) -> bool:
        """Whether messages of the given protocol version can use this feature."""
        return version >= _INTRODUCED_IN[self]


_INTRODUCED_IN = {
    ProtocolFeature.CONTENT_TYPE_HEADER: ProtocolVersion.VERSION_2,
    ProtocolFeature.VERSION_MARKER: ProtocolVersion.VERSION_3,
    ProtocolFeature.CHUNKED_RESPONSES: ProtocolVersion.VERSION_3,
}
