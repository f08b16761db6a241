"""
A bounded fuzz of everything that decodes bytes a peer sent: mangled valid messages, random extension payloads and
arbitrary bytes go through both serializers' ``blob_to_dict``, the Redis gateway's frame parser and the two together.
Each decoder must return what it documents or raise one of its documented errors (the rules are in
``DECODER_RULES``); any other exception, a wrong result, or a hang past the deadline fails.

The seed messages, mutations and rules come from ``benchmarks/fuzz_decoders.py``, which runs the same fuzz for
millions of inputs; here Hypothesis takes the decisions, so a failing input shrinks.
"""

import dataclasses
import datetime
import decimal

import pytest
from currint import Amount
from hypothesis import (
    HealthCheck,
    given,
    settings,
)
from hypothesis import (
    strategies as st,
)

from benchmarks.fuzz_decoders import (
    DECODER_RULES,
    FAILURES,
    Outcome,
    check,
    decode_frame,
    extension_message,
    make_input,
    seed_messages,
)
from pysoa.common.serializer import (
    JSONSerializer,
    MsgpackSerializer,
)
from pysoa.common.transport.redis_gateway._framing import parse_frame


CORPUS = seed_messages()

# The deadline is generous on purpose: a decoder that needs this long for a few hundred bytes is hanging, and a slow,
# shared machine must not make the timing flaky.
FUZZ_SETTINGS = settings(
    deadline=datetime.timedelta(seconds=2),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


class DrawChooser:
    """The fuzz's decisions drawn from Hypothesis."""

    def __init__(self, data: st.DataObject) -> None:
        self._data = data

    def integer(self, low: int, high: int) -> int:
        return self._data.draw(st.integers(low, high))

    def raw_bytes(self, size: int) -> bytes:
        return self._data.draw(st.binary(min_size=size, max_size=size))


def assert_every_decoder_obeys_its_rule(message: bytes) -> None:
    for rule in DECODER_RULES:
        verdict = check(rule, message)
        assert verdict.outcome not in FAILURES, (
            f'Rule: {rule.rule}. Broken with a {verdict.outcome.value} for input {message!r}:\n{verdict.detail}'
        )


@pytest.mark.parametrize('message', [m for m in CORPUS if b'chunk-id' not in parse_frame(m).headers])
def test_every_whole_seed_message_decodes_as_a_receiver_decodes_it(message: bytes) -> None:
    bare_json = message.startswith(b'{')
    envelope = JSONSerializer().blob_to_dict(message) if bare_json else decode_frame(message)
    assert set(envelope) == {'request_id', 'meta', 'body'}


def test_the_seed_messages_carry_every_extension_type() -> None:
    request = MsgpackSerializer().blob_to_dict(CORPUS[0])
    values = request['body']['actions'][0]['body']
    assert [type(values[name]) for name in ('naive_datetime', 'date', 'time', 'decimal', 'amount')] == [
        datetime.datetime,
        datetime.date,
        datetime.time,
        decimal.Decimal,
        Amount,
    ]
    assert values['naive_datetime'].tzinfo is None
    assert values['utc_datetime'].tzinfo is not None


def test_the_judge_fails_undocumented_exceptions_and_bad_results_only() -> None:
    rule = DECODER_RULES[0]
    assert check(rule, b'\xc1').outcome is Outcome.DOCUMENTED_ERROR
    assert check(rule, b'\x80').outcome is Outcome.OK
    assert check(dataclasses.replace(rule, decode=lambda _: 1 / 0), b'').outcome is Outcome.OTHER_EXCEPTION
    assert check(dataclasses.replace(rule, decode=lambda _: []), b'').outcome is Outcome.BAD_RESULT


@settings(FUZZ_SETTINGS, max_examples=500)
@given(st.data())
def test_mutated_valid_messages_decode_or_raise_documented_errors(data: st.DataObject) -> None:
    assert_every_decoder_obeys_its_rule(make_input(CORPUS, DrawChooser(data)))


@settings(FUZZ_SETTINGS, max_examples=400)
@given(st.data())
def test_random_extension_values_decode_or_raise_documented_errors(data: st.DataObject) -> None:
    assert_every_decoder_obeys_its_rule(extension_message(DrawChooser(data)))


@settings(FUZZ_SETTINGS, max_examples=300)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_decode_or_raise_documented_errors(message: bytes) -> None:
    assert_every_decoder_obeys_its_rule(message)
