"""Every way a message can fail to (de)serialize gives InvalidField or InvalidMessage, never a bare exception."""

import datetime
import decimal

import msgpack
import pytest
import pytz

from pysoa.common.serializer import MsgpackSerializer
from pysoa.common.serializer.errors import (
    InvalidField,
    InvalidInput,
    InvalidMessage,
)


@pytest.mark.parametrize('message', [[1, 2], 'text', b'bytes', 42, None, (('a', 1),)])
def test_non_dict_input_is_invalid_input_and_a_value_error(message: object) -> None:
    with pytest.raises(InvalidInput, match='Input must be a dict') as info:
        MsgpackSerializer().dict_to_blob(message)  # type: ignore[arg-type]
    assert isinstance(info.value, InvalidField)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    'value',
    [
        pytest.param({1, 2}, id='set'),
        pytest.param(object(), id='object'),
        pytest.param(complex(1, 2), id='complex'),
        pytest.param(2**64, id='int-too-large'),
        pytest.param(-(2**63) - 1, id='int-too-small'),
    ],
)
def test_unsupported_value_is_invalid_field(value: object) -> None:
    with pytest.raises(InvalidField, match="Can't serialize message due to TypeError: Cannot encode value of type"):
        MsgpackSerializer().dict_to_blob({'v': value})


def test_aware_non_utc_datetime_is_invalid_field() -> None:
    value = pytz.timezone('America/Chicago').localize(datetime.datetime(2020, 1, 2, 3, 4, 5))
    with pytest.raises(InvalidField, match='Cannot encode time zone-aware date-times'):
        MsgpackSerializer().dict_to_blob({'v': value})


def test_lone_surrogate_is_invalid_field() -> None:
    with pytest.raises(InvalidField, match='lone surrogates'):
        MsgpackSerializer().dict_to_blob({'v': 'bad \ud800 text'})


def test_lone_surrogate_from_an_old_sender_is_read() -> None:
    # PySOA 1.x packed lone surrogates with 'surrogatepass'; its receivers could not read them back, we can.
    blob = msgpack.packb({'v': 'bad \ud800 text'}, use_bin_type=True, unicode_errors='surrogatepass')
    assert MsgpackSerializer().blob_to_dict(blob) == {'v': 'bad \ud800 text'}


def test_decimal_too_long_for_its_length_prefix_is_invalid_field() -> None:
    value = decimal.Decimal('1' * 70000)
    with pytest.raises(InvalidField, match='longer than 65535'):
        MsgpackSerializer().dict_to_blob({'v': value})


@pytest.mark.parametrize(
    'blob',
    [
        pytest.param(b'', id='empty'),
        pytest.param(bytes.fromhex('81 a1 76'), id='truncated-map'),
        pytest.param(bytes.fromhex('81 a1 76 a5 61 62'), id='truncated-string'),
        pytest.param(bytes.fromhex('c1'), id='never-used-byte'),
        pytest.param(bytes.fromhex('81 a1 76 01 02'), id='extra-data'),
        pytest.param(bytes.fromhex('81 a1 76 a2 ff fe'), id='invalid-utf8'),
        pytest.param(b'\x91' * 2000 + b'\x01', id='nested-too-deep'),
        pytest.param(b'garbage that is not msgpack at all', id='garbage'),
    ],
)
def test_malformed_blob_is_invalid_message(blob: bytes) -> None:
    with pytest.raises(InvalidMessage, match="Can't deserialize message"):
        MsgpackSerializer().blob_to_dict(blob)


@pytest.mark.parametrize(
    'ext',
    [
        pytest.param('d7 01 00 00 00 00', id='datetime-payload-too-short'),
        pytest.param('c7 09 01 00 00 00 00 00 00 00 00 00', id='datetime-payload-too-long'),
        pytest.param('d7 01 7f ff ff ff ff ff ff ff', id='datetime-out-of-range'),
        pytest.param('d7 0a 80 00 00 00 00 00 00 00', id='utc-datetime-out-of-range'),
        pytest.param('d5 03 07 e4', id='date-payload-too-short'),
        pytest.param('d6 03 07 e4 0d 01', id='date-invalid-month'),
        pytest.param('d6 03 00 00 01 01', id='date-year-zero'),
        pytest.param('c7 07 04 19 00 00 00 00 00 00', id='time-invalid-hour'),
        pytest.param('d4 04 01', id='time-payload-too-short'),
        pytest.param('c7 05 05 00 08 31 32 33', id='decimal-shorter-than-announced'),
        pytest.param('c7 04 05 00 02 78 79', id='decimal-not-a-number'),
        pytest.param('d4 05 00', id='decimal-missing-length'),
        pytest.param('c7 0b 02 58 59 5a 00 00 00 00 00 00 04 d2', id='amount-unknown-currency'),
        pytest.param('c7 0a 02 55 53 44 00 00 00 00 00 04 d2', id='amount-payload-too-short'),
    ],
)
def test_malformed_extension_payload_is_invalid_message(ext: str) -> None:
    with pytest.raises(InvalidMessage, match="Can't deserialize message"):
        MsgpackSerializer().blob_to_dict(bytes.fromhex('81 a1 76 ' + ext))


@pytest.mark.parametrize('code', [0, 6, 9, 11, 42, 127, -5, -128])
def test_unknown_extension_code_is_invalid_message(code: int) -> None:
    blob = bytes.fromhex('81 a1 76 d5') + (code & 0xFF).to_bytes(1, 'big') + b'\x00\x01'  # fixext 2
    with pytest.raises(InvalidMessage, match=f'Cannot decode unknown extension type {code} from MessagePack'):
        MsgpackSerializer().blob_to_dict(blob)


@pytest.mark.parametrize('blob', [msgpack.packb([1, 2]), msgpack.packb('text'), msgpack.packb(7), msgpack.packb(None)])
def test_blob_that_is_not_a_map_is_invalid_message(blob: bytes) -> None:
    with pytest.raises(InvalidMessage, match='expected a MessagePack map'):
        MsgpackSerializer().blob_to_dict(blob)


def test_str_blob_is_invalid_message() -> None:
    with pytest.raises(InvalidMessage):
        MsgpackSerializer().blob_to_dict('\x80')  # type: ignore[arg-type]


def test_msgpack_timestamp_extension_is_read_as_utc_datetime_and_never_written_back() -> None:
    blob = msgpack.packb({'v': msgpack.Timestamp(1, 0)})
    decoded = MsgpackSerializer().blob_to_dict(blob)
    assert decoded == {'v': datetime.datetime(1970, 1, 1, 0, 0, 1, tzinfo=datetime.timezone.utc)}
    assert MsgpackSerializer().dict_to_blob(decoded) == bytes.fromhex('81 a1 76 d7 0a 00 00 00 00 00 0f 42 40')


def test_invalid_message_keeps_the_original_exception_as_cause() -> None:
    with pytest.raises(InvalidMessage) as info:
        MsgpackSerializer().blob_to_dict(b'\xc1')
    assert isinstance(info.value.__cause__, ValueError)
