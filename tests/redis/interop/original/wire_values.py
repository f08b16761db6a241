"""
The values the interoperability tests send across the wire, and a JSON form of them that keeps their exact types.

This module is imported by both sides: by the tests and this project's interop service, and by the scripts that run
with PySOA 1.4.9 (as a top-level module, from this directory). It must therefore work on Python 3.8+ with only the
standard library, ``pytz`` and ``currint``.

``to_json`` turns a value into JSON-compatible data in which every value that JSON cannot hold (those of MessagePack
extension types, bytes, dicts with keys other than strings) becomes a tagged dict such as ``{'$type': 'datetime',
'value': '2024-02-29T13:45:30.123456+00:00'}``; ``from_json`` reverses it. Comparing tagged forms compares types as
well as values: a naive datetime never equals an aware one, a ``date`` never equals a ``datetime``, and
``Decimal('1.0')`` never equals ``Decimal('1')`` or ``1``.
"""

import datetime
import decimal

import pytz
from currint import Amount


__all__ = (
    'EXTENSION_VALUES',
    'MSGPACK_ONLY_VALUES',
    'big_body',
    'from_json',
    'to_json',
)

#: One or more values of each MessagePack extension type PySOA defines, including awkward ones.
EXTENSION_VALUES = {
    'naive_datetime': datetime.datetime(2024, 2, 29, 13, 45, 30, 123456),
    'naive_datetime_before_1970': datetime.datetime(1969, 7, 20, 20, 17, 40, 1),
    'utc_datetime': datetime.datetime(2024, 2, 29, 13, 45, 30, 654321, tzinfo=pytz.UTC),
    'date': datetime.date(2024, 2, 29),
    'time': datetime.time(23, 59, 58, 999999),
    'time_midnight': datetime.time(0, 0),
    'decimal': decimal.Decimal('-12345.678901234567890'),
    'decimal_with_exponent': decimal.Decimal('1.5E+30'),
    'amount': Amount.from_code_and_minor('USD', 1999),
    'negative_amount': Amount.from_code_and_minor('JPY', -500),
}

#: Every value that MessagePack carries and JSON does not: the extension types, and some plain MessagePack ones.
MSGPACK_ONLY_VALUES = {
    **EXTENSION_VALUES,
    'bytes': b'\x00\xff binary \x80',
    'integer_keys': {1: 'one', -2: 'minus two', 2**40: 'large'},
    'bytes_keys': {b'key': 'value'},
    'largest_unsigned_integer': 2**64 - 1,
    'extension_values_nested': {'when': [datetime.date(2000, 1, 1), {'at': datetime.time(12, 0)}]},
}


def big_body(row_count):
    """A response body of roughly ``row_count * 110`` bytes, different in every row."""
    return {'rows': [{'index': i, 'text': f'row {i:06d} ' + 'abcdefghij' * 10} for i in range(row_count)]}


def to_json(value):
    """``value`` as JSON-compatible data, with extension-type values tagged (see the module docstring)."""
    # datetime before date: a datetime is a date too
    if isinstance(value, datetime.datetime):
        return {'$type': 'datetime', 'value': value.isoformat()}
    if isinstance(value, datetime.date):
        return {'$type': 'date', 'value': value.isoformat()}
    if isinstance(value, datetime.time):
        return {'$type': 'time', 'value': value.isoformat()}
    if isinstance(value, decimal.Decimal):
        return {'$type': 'decimal', 'value': str(value)}
    if isinstance(value, Amount):
        return {'$type': 'amount', 'currency': value.currency.code, 'minor_units': value.value}
    if isinstance(value, dict):
        if all(isinstance(key, str) for key in value):
            return {key: to_json(item) for key, item in value.items()}
        return {'$type': 'dict', 'items': [[to_json(key), to_json(item)] for key, item in value.items()]}
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    if isinstance(value, bytes):
        return {'$type': 'bytes', 'value': value.decode('latin-1')}
    return value


def from_json(data):
    """The value whose JSON form (see :func:`to_json`) is ``data``."""
    if isinstance(data, list):
        return [from_json(item) for item in data]
    if not isinstance(data, dict):
        return data
    tag = data.get('$type')
    if tag is None:
        return {key: from_json(item) for key, item in data.items()}
    if tag == 'datetime':
        parsed = datetime.datetime.fromisoformat(data['value'])
        return parsed if parsed.tzinfo is None else parsed.astimezone(pytz.UTC)
    if tag == 'date':
        return datetime.date.fromisoformat(data['value'])
    if tag == 'time':
        return datetime.time.fromisoformat(data['value'])
    if tag == 'decimal':
        return decimal.Decimal(data['value'])
    if tag == 'amount':
        return Amount.from_code_and_minor(data['currency'], data['minor_units'])
    if tag == 'dict':
        return {from_json(key): from_json(item) for key, item in data['items']}
    if tag == 'bytes':
        return data['value'].encode('latin-1')
    raise ValueError(f'Unknown tag {tag!r}')
