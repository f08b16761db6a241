"""
The MessagePack extension types PySOA uses for values MessagePack has no type for. Byte layouts (all integers
big-endian) are part of the wire format and must never change:

====  =====================================  ================================================================
code  Python type                            payload
====  =====================================  ================================================================
1     naive ``datetime.datetime``            int64: microseconds since 1970-01-01T00:00:00
10    ``datetime.datetime`` in UTC           int64: microseconds since the Unix epoch; decoded with ``pytz.UTC``
3     ``datetime.date``                      uint16 year, uint8 month, uint8 day
4     ``datetime.time``                      uint8 hour, uint8 minute, uint8 second, uint32 microsecond
5     ``decimal.Decimal``                    uint16 length, then ``str(value)`` in ASCII
2     ``currint.Amount``                     3 ASCII bytes of currency code, then int64 minor units
====  =====================================  ================================================================
"""

import datetime
import decimal
import struct
from typing import (
    Any,
    Callable,
    Dict,
)

import msgpack
import pytz
from currint import Amount


__all__ = (
    'EXT_AMOUNT',
    'EXT_DATE',
    'EXT_DATETIME',
    'EXT_DATETIME_UTC',
    'EXT_DECIMAL',
    'EXT_TIME',
    'decode_extension',
    'encode_extension',
)

EXT_DATETIME = 1
EXT_AMOUNT = 2
EXT_DATE = 3
EXT_TIME = 4
EXT_DECIMAL = 5
EXT_DATETIME_UTC = 10

_EPOCH = datetime.datetime(1970, 1, 1)
_EPOCH_UTC = _EPOCH.replace(tzinfo=pytz.UTC)
_EPOCH_ORDINAL = _EPOCH.toordinal()
_MICROSECONDS_PER_DAY = 86400 * 1000000
_INT64 = struct.Struct('>q')
_DATE = struct.Struct('>HBB')
_TIME = struct.Struct('>BBBI')
_LENGTH = struct.Struct('>H')
_AMOUNT = struct.Struct('>3sq')
_MAX_DECIMAL_LENGTH = 0xFFFF
_UTC_ZONE_KEYS = frozenset(('UTC', 'Etc/UTC', 'Etc/UCT', 'UCT', 'Zulu', 'Etc/Zulu', 'Universal', 'Etc/Universal'))


def _ext(code: int, data: bytes) -> msgpack.ExtType:
    # ExtType's constructor re-validates the code and data in Python on every call; ours are known to be valid.
    return tuple.__new__(msgpack.ExtType, (code, data))


def _microseconds_since_epoch(value: datetime.datetime) -> int:
    # Exact integer arithmetic on the wall-clock fields (float seconds would lose microseconds far from 1970).
    seconds_into_day = (value.hour * 60 + value.minute) * 60 + value.second
    return (value.toordinal() - _EPOCH_ORDINAL) * _MICROSECONDS_PER_DAY + seconds_into_day * 1000000 + value.microsecond


def _is_utc(tzinfo: datetime.tzinfo) -> bool:
    return tzinfo is pytz.UTC or tzinfo == datetime.timezone.utc or getattr(tzinfo, 'key', None) in _UTC_ZONE_KEYS


def _encode_datetime(value: datetime.datetime) -> msgpack.ExtType:
    if value.tzinfo is None:
        return _ext(EXT_DATETIME, _INT64.pack(_microseconds_since_epoch(value)))
    if _is_utc(value.tzinfo):
        return _ext(EXT_DATETIME_UTC, _INT64.pack(_microseconds_since_epoch(value)))
    raise TypeError(
        f'Cannot encode time zone-aware date-times to MessagePack unless they are in UTC; convert {value!r} with '
        '.astimezone(pytz.UTC) first',
    )


def _encode_date(value: datetime.date) -> msgpack.ExtType:
    return _ext(EXT_DATE, _DATE.pack(value.year, value.month, value.day))


def _encode_time(value: datetime.time) -> msgpack.ExtType:
    # The layout has no room for a time zone: like PySOA 1.x, any tzinfo is dropped.
    return _ext(EXT_TIME, _TIME.pack(value.hour, value.minute, value.second, value.microsecond))


def _encode_decimal(value: decimal.Decimal) -> msgpack.ExtType:
    text = str(value).encode('ascii')
    if len(text) > _MAX_DECIMAL_LENGTH:
        raise TypeError(
            f'Cannot encode a Decimal whose text is longer than {_MAX_DECIMAL_LENGTH} characters to MessagePack '
            f'(got {len(text)})',
        )
    return _ext(EXT_DECIMAL, _LENGTH.pack(len(text)) + text)


def _encode_amount(value: Amount) -> msgpack.ExtType:
    code = value.currency.code.upper().encode('ascii')
    if len(code) != 3:
        raise TypeError(f'Cannot encode a currency Amount whose code is not 3 letters to MessagePack: {value!r}')
    return _ext(EXT_AMOUNT, _AMOUNT.pack(code, value.value))


# Exact types are found with one dict lookup; subclasses go through the ordered isinstance checks below, in which
# datetime must come before date because it is a subclass of date.
_ENCODERS_BY_TYPE: Dict[type, Callable[[Any], msgpack.ExtType]] = {
    datetime.datetime: _encode_datetime,
    datetime.date: _encode_date,
    datetime.time: _encode_time,
    decimal.Decimal: _encode_decimal,
    Amount: _encode_amount,
}


def encode_extension(value: Any) -> msgpack.ExtType:
    """
    The ``default`` hook for ``msgpack.packb``: encode one of the extension types above.

    :raises TypeError: If the value's type has no extension, or the value cannot be encoded.
    """
    encoder = _ENCODERS_BY_TYPE.get(type(value))
    if encoder is None:
        for value_type, candidate in _ENCODERS_BY_TYPE.items():
            if isinstance(value, value_type):
                encoder = candidate
                break
        else:
            raise TypeError(f'Cannot encode value of type {type(value).__name__} to MessagePack: {value!r}')
    return encoder(value)


def _decode_datetime(data: bytes) -> datetime.datetime:
    (microseconds,) = _INT64.unpack(data)
    return _EPOCH + datetime.timedelta(microseconds=microseconds)


def _decode_datetime_utc(data: bytes) -> datetime.datetime:
    (microseconds,) = _INT64.unpack(data)
    return _EPOCH_UTC + datetime.timedelta(microseconds=microseconds)


def _decode_date(data: bytes) -> datetime.date:
    return datetime.date(*_DATE.unpack(data))


def _decode_time(data: bytes) -> datetime.time:
    return datetime.time(*_TIME.unpack(data))


def _decode_decimal(data: bytes) -> decimal.Decimal:
    (length,) = _LENGTH.unpack_from(data)
    if len(data) != _LENGTH.size + length:
        raise ValueError(f'Decimal extension announces {length} bytes of text but carries {len(data) - 2}')
    return decimal.Decimal(data[_LENGTH.size :].decode('ascii'))


def _decode_amount(data: bytes) -> Amount:
    code, minor_units = _AMOUNT.unpack(data)
    return Amount.from_code_and_minor(code.decode('ascii'), minor_units)


_DECODERS: Dict[int, Callable[[bytes], Any]] = {
    EXT_DATETIME: _decode_datetime,
    EXT_DATETIME_UTC: _decode_datetime_utc,
    EXT_DATE: _decode_date,
    EXT_TIME: _decode_time,
    EXT_DECIMAL: _decode_decimal,
    EXT_AMOUNT: _decode_amount,
}


def decode_extension(code: int, data: bytes) -> Any:
    """
    The ``ext_hook`` for ``msgpack.unpackb``: decode one of the extension types above.

    :raises TypeError: If the extension code is unknown. Malformed payloads raise whatever their decoding raises;
                       the serializer wraps every such failure.
    """
    decoder = _DECODERS.get(code)
    if decoder is None:
        raise TypeError(f'Cannot decode unknown extension type {code} from MessagePack')
    return decoder(bytes(data))
