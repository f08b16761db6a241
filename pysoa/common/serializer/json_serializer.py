"""The JSON serializer: standard-library JSON, for clients and services that cannot use MessagePack."""

import json
from typing import (
    Any,
    Dict,
    Union,
)

from pysoa.common.serializer.base import Serializer
from pysoa.common.serializer.errors import (
    InvalidInput,
    InvalidMessage,
    cannot_deserialize,
    cannot_serialize,
)


__all__ = ('JSONSerializer',)


class JSONSerializer(Serializer):
    """
    Serializes messages as UTF-8 JSON with the standard library's default formatting. Only JSON's own types
    round-trip: tuples come back as lists, and non-string keys as strings.
    """

    mime_type = 'application/json'

    def dict_to_blob(self, message_dict: Dict[Any, Any]) -> bytes:
        if not isinstance(message_dict, dict):
            raise InvalidInput('Input must be a dict')
        try:
            return json.dumps(message_dict).encode('utf-8')
        except (TypeError, ValueError, RecursionError) as e:
            raise cannot_serialize(e) from e

    def blob_to_dict(self, blob: Union[bytes, str]) -> Dict[Any, Any]:
        try:
            message = json.loads(blob.decode('utf-8') if isinstance(blob, (bytes, bytearray)) else blob)
        except (TypeError, ValueError, RecursionError) as e:
            raise cannot_deserialize(e) from e
        if not isinstance(message, dict):
            raise InvalidMessage(
                f"Can't deserialize message: expected a JSON object but got {type(message).__name__}",
            )
        return message
