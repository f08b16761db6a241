"""The MessagePack serializer, PySOA's default, byte-compatible with PySOA 1.x."""

import threading
from typing import (
    Any,
    Dict,
)

import msgpack

from pysoa.common.serializer.base import Serializer
from pysoa.common.serializer.errors import (
    InvalidInput,
    InvalidMessage,
    cannot_deserialize,
    cannot_serialize,
)
from pysoa.common.serializer.msgpack_extensions import (
    decode_extension,
    encode_extension,
)


__all__ = ('MsgpackSerializer',)

#: A packer that has grown its buffer beyond this for one message is dropped, so that a thread does not keep the
#: memory of its largest message.
_PACKER_KEEPS_BYTES = 1024 * 1024


def _new_packer() -> msgpack.Packer:
    return msgpack.Packer(default=encode_extension, use_bin_type=True)


class _Packers(threading.local):
    """One packer per thread, kept: ``msgpack.packb`` makes (and allocates the buffer of) a new one every time."""

    def __init__(self) -> None:
        self.packer = _new_packer()


_packers = _Packers()


class MsgpackSerializer(Serializer):
    """
    Serializes messages as MessagePack. ``str`` values travel as MessagePack strings and ``bytes`` as binary; tuples
    come back as lists; maps may have non-string keys. Dates, times, date-times (naive or UTC), ``Decimal`` and
    ``currint.Amount`` use the extension types of :mod:`pysoa.common.serializer.msgpack_extensions`.

    Strings containing lone surrogates are refused when serializing (PySOA 1.x receivers cannot read them) but are
    accepted when deserializing, as PySOA 1.x senders could produce them.
    """

    mime_type = 'application/msgpack'

    def dict_to_blob(self, message_dict: Dict[Any, Any]) -> bytes:
        if not isinstance(message_dict, dict):
            raise InvalidInput('Input must be a dict')
        try:
            blob: bytes = _packers.packer.pack(message_dict)
        except UnicodeEncodeError as e:
            raise cannot_serialize(e, f'strings must be valid Unicode without lone surrogates ({e})') from e
        except Exception as e:
            raise cannot_serialize(e) from e
        if len(blob) > _PACKER_KEEPS_BYTES:
            _packers.packer = _new_packer()
        return blob

    def blob_to_dict(self, blob: bytes) -> Dict[Any, Any]:
        try:
            message = msgpack.unpackb(
                blob,
                raw=False,
                strict_map_key=False,
                unicode_errors='surrogatepass',
                ext_hook=decode_extension,
                timestamp=3,
            )
        except Exception as e:
            raise cannot_deserialize(e) from e
        if not isinstance(message, dict):
            raise InvalidMessage(
                f"Can't deserialize message: expected a MessagePack map but got {type(message).__name__}",
            )
        return message
