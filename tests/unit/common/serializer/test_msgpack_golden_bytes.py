"""
Golden byte vectors: what the MessagePack serializer must put on the wire, byte for byte, so that PySOA 1.4.9 peers
read it. The vectors were worked out by hand from the MessagePack spec and PySOA's extension layouts.
"""

import datetime
import decimal

import pytest
import pytz
from currint import Amount

from pysoa.common.serializer import MsgpackSerializer


def hexbytes(text: str) -> bytes:
    return bytes.fromhex(text.replace(' ', ''))


GOLDEN = [
    pytest.param(datetime.datetime(2020, 1, 2, 3, 4, 5, 678901), 'd7 01 00 05 9b 1f 72 31 4f 35', id='naive-datetime'),
    pytest.param(
        datetime.datetime(2020, 1, 2, 3, 4, 5, 678901, tzinfo=pytz.UTC),
        'd7 0a 00 05 9b 1f 72 31 4f 35',
        id='utc-datetime',
    ),
    pytest.param(datetime.datetime(1970, 1, 1), 'd7 01 00 00 00 00 00 00 00 00', id='epoch'),
    pytest.param(
        datetime.datetime(1969, 12, 31, 23, 59, 59, 999999),
        'd7 01 ff ff ff ff ff ff ff ff',
        id='before-epoch',
    ),
    pytest.param(datetime.date(2020, 1, 2), 'd6 03 07 e4 01 02', id='date'),
    pytest.param(datetime.date(1, 1, 1), 'd6 03 00 01 01 01', id='first-date'),
    pytest.param(datetime.time(13, 14, 15, 161718), 'c7 07 04 0d 0e 0f 00 02 77 b6', id='time'),
    pytest.param(decimal.Decimal('-12.3400'), 'c7 0a 05 00 08 2d 31 32 2e 33 34 30 30', id='decimal'),
    pytest.param(decimal.Decimal('1E+3'), 'c7 06 05 00 04 31 45 2b 33', id='decimal-exponent'),
    pytest.param(Amount.from_code_and_minor('USD', 1234), 'c7 0b 02 55 53 44 00 00 00 00 00 00 04 d2', id='amount'),
    pytest.param(
        Amount.from_code_and_minor('EUR', -1),
        'c7 0b 02 45 55 52 ff ff ff ff ff ff ff ff',
        id='negative-amount',
    ),
    pytest.param('v', 'a1 76', id='str-is-msgpack-str'),
    pytest.param(b'\x00\xff', 'c4 02 00 ff', id='bytes-are-msgpack-bin'),
    pytest.param((1, 2), '92 01 02', id='tuple-is-array'),
    pytest.param(1.5, 'cb 3f f8 00 00 00 00 00 00', id='float-is-float64'),
    pytest.param(-33, 'd0 df', id='int-uses-smallest-form'),
    pytest.param(2**63, 'cf 80 00 00 00 00 00 00 00', id='uint64'),
    pytest.param(None, 'c0', id='none'),
]


@pytest.mark.parametrize(('value', 'encoded_value'), GOLDEN)
def test_value_packs_to_golden_bytes(value: object, encoded_value: str) -> None:
    assert MsgpackSerializer().dict_to_blob({'v': value}) == hexbytes('81 a1 76') + hexbytes(encoded_value)


@pytest.mark.parametrize(('value', 'encoded_value'), GOLDEN)
def test_golden_bytes_unpack_to_value(value: object, encoded_value: str) -> None:
    decoded = MsgpackSerializer().blob_to_dict(hexbytes('81 a1 76') + hexbytes(encoded_value))
    expected = list(value) if isinstance(value, tuple) else value
    assert decoded == {'v': expected}
    assert type(decoded['v']) is type(expected)


def test_utc_datetime_decodes_with_pytz_utc() -> None:
    decoded = MsgpackSerializer().blob_to_dict(hexbytes('81 a1 76 d7 0a 00 05 9b 1f 72 31 4f 35'))
    assert decoded['v'].tzinfo is pytz.UTC


def test_last_representable_datetime_uses_exact_integer_arithmetic() -> None:
    # Float arithmetic (what PySOA 1.x did) cannot hold this many microseconds exactly.
    value = datetime.datetime(9999, 12, 31, 23, 59, 59, 999999)
    expected = hexbytes('81 a1 76 d7 01') + (253402300799999999).to_bytes(8, 'big', signed=True)
    assert MsgpackSerializer().dict_to_blob({'v': value}) == expected
    assert MsgpackSerializer().blob_to_dict(expected) == {'v': value}


@pytest.mark.parametrize('tzinfo', [datetime.timezone.utc, datetime.timezone(datetime.timedelta(0))])
def test_stdlib_utc_datetimes_are_sent_as_utc_extension(tzinfo: datetime.tzinfo) -> None:
    value = datetime.datetime(2020, 1, 2, 3, 4, 5, 678901, tzinfo=tzinfo)
    assert MsgpackSerializer().dict_to_blob({'v': value}) == hexbytes('81 a1 76 d7 0a 00 05 9b 1f 72 31 4f 35')


def test_time_zone_of_a_time_is_dropped() -> None:
    value = datetime.time(13, 14, 15, 161718, tzinfo=pytz.timezone('America/Chicago'))
    assert MsgpackSerializer().dict_to_blob({'v': value}) == hexbytes('81 a1 76 c7 07 04 0d 0e 0f 00 02 77 b6')


def test_lower_case_currency_code_is_sent_upper_case() -> None:
    amount = Amount.from_code_and_minor('USD', 1234)
    assert MsgpackSerializer().dict_to_blob({'v': amount}) == MsgpackSerializer().dict_to_blob(
        {'v': Amount.from_code_and_minor('usd', 1234)},
    )


def test_whole_envelope_packs_to_golden_bytes() -> None:
    envelope = {
        'request_id': 7,
        'meta': {'__expiry__': 1.5},
        'body': {'actions': [{'action': 'a', 'body': {}}]},
    }
    expected = hexbytes(
        '83'
        ' aa 72 65 71 75 65 73 74 5f 69 64 07'  # 'request_id': 7
        ' a4 6d 65 74 61 81 aa 5f 5f 65 78 70 69 72 79 5f 5f cb 3f f8 00 00 00 00 00 00'  # 'meta': {...}
        ' a4 62 6f 64 79 81 a7 61 63 74 69 6f 6e 73 91 82 a6 61 63 74 69 6f 6e a1 61 a4 62 6f 64 79 80',
    )
    assert MsgpackSerializer().dict_to_blob(envelope) == expected


def test_integer_map_keys_are_read() -> None:
    assert MsgpackSerializer().blob_to_dict(hexbytes('81 01 a1 78')) == {1: 'x'}
