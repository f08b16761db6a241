"""Property-based round trips: any message made of supported values comes back equal, for both serializers."""

import datetime
import decimal
from typing import (
    Any,
    Dict,
)

import pytz
from currint import Amount
from hypothesis import (
    given,
    settings,
)
from hypothesis import (
    strategies as st,
)

from pysoa.common.serializer import (
    JSONSerializer,
    MsgpackSerializer,
)


int64 = st.integers(min_value=-(2**63), max_value=2**64 - 1)
finite_floats = st.floats(allow_nan=False)
naive_datetimes = st.datetimes()
utc_datetimes = st.datetimes().map(lambda d: d.replace(tzinfo=pytz.UTC))
naive_times = st.times()
decimals = st.decimals(allow_nan=False, allow_infinity=False)
amounts = st.builds(
    Amount.from_code_and_minor,
    st.sampled_from(['USD', 'EUR', 'JPY', 'GBP', 'KWD']),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
)

msgpack_scalars = st.one_of(
    st.none(),
    st.booleans(),
    int64,
    finite_floats,
    st.text(),
    st.binary(),
    naive_datetimes,
    utc_datetimes,
    st.dates(),
    naive_times,
    decimals,
    amounts,
)
msgpack_values = st.recursive(
    msgpack_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(st.one_of(st.text(), st.integers(-1000, 1000)), children, max_size=5),
    ),
    max_leaves=30,
)

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), finite_floats, st.text())
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(st.lists(children, max_size=5), st.dictionaries(st.text(), children, max_size=5)),
    max_leaves=30,
)


def assert_same(left: Any, right: Any) -> None:
    # Equality alone would accept a date for a datetime (no) or 1 for True (yes): compare types too.
    assert type(left) is type(right), (left, right)
    if isinstance(left, dict):
        assert list(left) == list(right)
        for key in left:
            assert_same(left[key], right[key])
    elif isinstance(left, list):
        assert len(left) == len(right)
        for a, b in zip(left, right):
            assert_same(a, b)
    elif isinstance(left, decimal.Decimal):
        assert str(left) == str(right)
    elif isinstance(left, datetime.datetime):
        assert left == right and left.tzinfo is right.tzinfo
    else:
        assert left == right


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(), msgpack_values, max_size=8))
def test_msgpack_round_trips_nested_messages(message: Dict[str, Any]) -> None:
    serializer = MsgpackSerializer()
    assert_same(serializer.blob_to_dict(serializer.dict_to_blob(message)), message)


@settings(max_examples=50, deadline=None)
@given(st.dictionaries(st.text(), msgpack_values, max_size=8))
def test_msgpack_output_is_deterministic(message: Dict[str, Any]) -> None:
    assert MsgpackSerializer().dict_to_blob(message) == MsgpackSerializer().dict_to_blob(message)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(), json_values, max_size=8))
def test_json_round_trips_nested_messages(message: Dict[str, Any]) -> None:
    serializer = JSONSerializer()
    assert_same(serializer.blob_to_dict(serializer.dict_to_blob(message)), message)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64))
def test_msgpack_never_raises_anything_but_invalid_message_on_random_bytes(blob: bytes) -> None:
    from pysoa.common.serializer.errors import InvalidMessage

    try:
        result = MsgpackSerializer().blob_to_dict(blob)
    except InvalidMessage:
        return
    assert isinstance(result, dict)
