"""
A long fuzz of everything that decodes bytes a peer sent: both serializers' ``blob_to_dict``, the Redis gateway's
frame parser (``parse_frame``, ``ProtocolVersion.extract_version``) and the two together as a receiver runs them.

Run from the repository root::

    .venv/bin/python benchmarks/fuzz_decoders.py [--inputs N] [--seed S] [--failures-file FILE] [--hang-seconds S]

Each input is a valid message (job requests and responses full of every MessagePack extension type, in JSON too,
bare and in every frame version, whole and in chunks) mangled by one to three mutations (bit flips, special bytes,
truncations, deletions, insertions, duplications, splices), a message carrying one random extension payload, or
arbitrary bytes. Every decoder must return what it documents or raise one of its documented errors (see
``DECODER_RULES``); anything else is a bug. It prints inputs per second, the outcomes per decoder, and the slowest
input; it saves the first undocumented failures to a file and exits with status 1 if there were any (2 on a hang).

The seed messages, the mutations and the rules live here once: the bounded fuzz test
``tests/unit/common/serializer/test_decoder_fuzz.py`` imports them and draws the same choices through Hypothesis.
"""

import argparse
import collections
import dataclasses
import datetime
import decimal
import enum
import faulthandler
import os
import pathlib
import random
import struct
import sys
import tempfile
import threading
import time
import traceback
from typing import (
    Any,
    Callable,
    Counter,
    Dict,
    List,
    Optional,
    Protocol,
    Sequence,
    Tuple,
    Type,
    TypeVar,
)

import attr
import pytz
from currint import Amount

from pysoa.common.errors import Error
from pysoa.common.serializer import (
    JSONSerializer,
    MsgpackSerializer,
    Serializer,
)
from pysoa.common.serializer.errors import InvalidMessage
from pysoa.common.serializer.msgpack_extensions import (
    EXT_AMOUNT,
    EXT_DATE,
    EXT_DATETIME,
    EXT_DATETIME_UTC,
    EXT_DECIMAL,
    EXT_TIME,
    encode_extension,
)
from pysoa.common.transport.errors import InvalidMessageError
from pysoa.common.transport.redis_gateway._framing import (
    ParsedFrame,
    build_chunk_frames,
    build_frame_prefix,
    parse_frame,
)
from pysoa.common.transport.redis_gateway.constants import ProtocolVersion
from pysoa.common.types import (
    ActionRequest,
    ActionResponse,
    JobRequest,
    JobResponse,
    UnicodeKeysDict,
)


T = TypeVar('T')


# Choices ------------------------------------------------------------------------------------------------------------


class Chooser(Protocol):
    """Where the fuzz takes its decisions from: a seeded ``random.Random`` here, Hypothesis in the test."""

    def integer(self, low: int, high: int) -> int:
        """An integer from ``low`` to ``high``, both included."""

    def raw_bytes(self, size: int) -> bytes:
        """``size`` arbitrary bytes."""


class RandomChooser:
    """Decisions from a seeded pseudo-random generator: the same seed makes the same inputs."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)

    def integer(self, low: int, high: int) -> int:
        return self._random.randint(low, high)

    def raw_bytes(self, size: int) -> bytes:
        return self._random.randbytes(size)


def pick(choose: Chooser, options: Sequence[T]) -> T:
    """One of ``options``."""
    return options[choose.integer(0, len(options) - 1)]


# Valid messages -----------------------------------------------------------------------------------------------------

_EXTENSION_TYPE_SAMPLES: Dict[str, Any] = {
    'naive_datetime': datetime.datetime(2026, 11, 21, 10, 0, 0, 123456),
    'utc_datetime': datetime.datetime(2026, 11, 21, 10, 0, 0, 123456, tzinfo=pytz.UTC),
    'date': datetime.date(2026, 11, 21),
    'time': datetime.time(9, 30, 15, 250000),
    'decimal': decimal.Decimal('-1234.5600'),
    'amount': Amount.from_code_and_minor('USD', 2500),
}

EXTENSION_EXTREMES: Tuple[Any, ...] = (
    datetime.datetime.min,
    datetime.datetime.max.replace(tzinfo=pytz.UTC),
    datetime.date.max,
    datetime.time.max,
    decimal.Decimal('-1E+999999'),
    decimal.Decimal('NaN'),
    Amount.from_code_and_minor('JPY', -(2**63)),
)

EXTENSION_VALUES: Dict[str, Any] = {**_EXTENSION_TYPE_SAMPLES, 'extremes': list(EXTENSION_EXTREMES)}
"""One value of every type the MessagePack serializer encodes as an extension, and extreme ones."""

JSON_VALUES: Dict[str, Any] = {
    'text': 'caf\u00e9 \u2603 "quoted" \\ back',
    'numbers': [0, -1, 2**53, 1.5e300, -0.0],
    'flags': [True, False, None],
    'nested': {'a': [{'b': []}], 'c': {}},
}
"""JSON's own types, for the JSON serializer's seed messages."""

_REPLY_TO = 'service.example.0123456789abcdef0123456789abcdef!7f0000000001'


def _envelope(request_id: int, body: Any) -> Dict[str, Any]:
    meta = {'client_version': [2, 0, 0], 'reply_to': _REPLY_TO, '__expiry__': 1764000000.25}
    return {'request_id': request_id, 'meta': meta, 'body': attr.asdict(body, dict_factory=UnicodeKeysDict)}


def seed_envelopes(values: Dict[str, Any]) -> List[Dict[str, Any]]:
    """A job request, a successful job response and an error response, whose action bodies carry ``values``."""
    context = {'switches': [1, 5], 'correlation_id': 'a2c4e6f8a2c4e6f8a2c4e6f8a2c4e6f8', 'caller': 'fuzz'}
    request = JobRequest(
        control={'continue_on_error': False, 'suppress_response': False},
        context=context,
        actions=[ActionRequest('schedule', dict(values)), ActionRequest('square', {'number': 42})],
    )
    response = JobResponse(
        context=context,
        actions=[ActionResponse('schedule', body=dict(values)), ActionResponse('square', body={'square': 1764})],
    )
    failure = JobResponse(
        errors=[Error(code='SERVER_ERROR', message='boom', traceback='Traceback ...', variables={'x': '1'})],
        actions=[
            ActionResponse(
                'schedule',
                errors=[
                    Error(code='INVALID', message='Bad value', field='day', is_caller_error=True),
                ],
            )
        ],
    )
    return [_envelope(index, body) for index, body in enumerate((request, response, failure), start=1)]


def _framed(serializer: Serializer, blob: bytes) -> List[bytes]:
    # The bare blob is also the version 1 frame (of a MessagePack message: version 1 has no content type).
    versions = (ProtocolVersion.VERSION_2, ProtocolVersion.VERSION_3)
    messages = [build_frame_prefix(version, serializer.mime_type) + blob for version in versions]
    messages += build_chunk_frames(ProtocolVersion.VERSION_3, serializer.mime_type, blob, len(blob) // 3 + 1)
    return messages


def seed_messages() -> List[bytes]:
    """
    Valid messages: every seed envelope serialized by both serializers, bare (which for MessagePack is also protocol
    version 1), framed in protocol versions 2 and 3, and in version 3 chunks.
    """
    messages: List[bytes] = []
    for serializer, values in ((MsgpackSerializer(), EXTENSION_VALUES), (JSONSerializer(), JSON_VALUES)):
        for envelope in seed_envelopes(values):
            blob = serializer.dict_to_blob(envelope)
            messages += [blob, *_framed(serializer, blob)]
    return messages


# Mutations ----------------------------------------------------------------------------------------------------------

INTERESTING_BYTES = bytes([0x00, 0x01, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, *range(0xC0, 0xE1), 0xFF]) + (
    b'{}[]":,\\-+.eE09 \t\nnulltruefalse;/'
)
"""MessagePack type markers (every one from 0xc0 to 0xdf, and the edges of the fixed types), then JSON and frame
syntax."""

INTERESTING_CHUNKS: Tuple[bytes, ...] = (
    b'pysoa-redis/3//',
    b'pysoa-redis/2//',
    b'pysoa-redis/0//',
    b'pysoa-redis/99//',
    b'pysoa-redis/' + b'9' * 5000,
    b'content-type:',
    b'content-type:application/json;',
    b'content-type:application/msgpack;',
    b'content-type:text/x-unknown;',
    b'chunk-count:2;',
    b'chunk-id:1;',
    b'chunk-count:-1;',
    b' ; ',
    b';',
    b'\xdd\xff\xff\xff\xff',
    b'\xdf\x7f\xff\xff\xff',
    b'\xc6\xff\xff\xff\xff',
    b'\xdb\x00\x01\x00\x00',
    b'\xc9\xff\xff\xff\xff\x05',
    b'\xd7\xff',
    b'\xd6\xff',
    b'\xc7\x0c\xff',
    b'\xd8\x05',
    b'\xcf' + b'\xff' * 8,
    b'\x91' * 2000,
    b'\x81\xa1k' * 700,
    b'[' * 3000,
    b'{"a":' * 700,
    b'"\\ud800"',
    b'"\\u0000"',
    b'1e999999',
    b'-1E-999999',
    b'9' * 5000,
    b'NaN',
    b'-Infinity',
    b'\xed\xa0\x80',
)
"""Multi-byte pieces worth inserting: frame headers and version markers (some of them bad), MessagePack container and
extension headers that announce more than follows, deep nesting, and JSON values at the edges of what parses."""

EXTENSION_CODES = (EXT_DATETIME, EXT_AMOUNT, EXT_DATE, EXT_TIME, EXT_DECIMAL, EXT_DATETIME_UTC, -1, 0, 6, 127, -128)
"""Every extension code PySOA decodes, MessagePack's own timestamp (-1), and some nobody defines."""

VALID_EXTENSIONS: Tuple[Tuple[int, bytes], ...] = tuple(
    tuple(encode_extension(value)) for value in (*_EXTENSION_TYPE_SAMPLES.values(), *EXTENSION_EXTREMES)
)
"""The code and payload of every sample extension value."""

_DECIMAL_CHARACTERS = b'0123456789.-+eEInfinityNaNs _'


def _flip_bits(data: bytes, corpus: Sequence[bytes], choose: Chooser) -> bytes:
    """Flip one to four bits."""
    if not data:
        return data
    mutated = bytearray(data)
    for _ in range(choose.integer(1, 4)):
        mutated[choose.integer(0, len(mutated) - 1)] ^= 1 << choose.integer(0, 7)
    return bytes(mutated)


def _set_interesting_byte(data: bytes, corpus: Sequence[bytes], choose: Chooser) -> bytes:
    """Overwrite a byte with a MessagePack type marker or a JSON or frame syntax character."""
    if not data:
        return data
    position = choose.integer(0, len(data) - 1)
    return data[:position] + bytes([pick(choose, INTERESTING_BYTES)]) + data[position + 1 :]


def _truncate(data: bytes, corpus: Sequence[bytes], choose: Chooser) -> bytes:
    """Cut the end off (mostly) or the start."""
    cut = choose.integer(0, len(data))
    return data[:cut] if choose.integer(0, 3) else data[cut:]


def _delete(data: bytes, corpus: Sequence[bytes], choose: Chooser) -> bytes:
    """Remove up to 16 bytes from the middle."""
    start = choose.integer(0, len(data))
    return data[:start] + data[start + choose.integer(1, 16) :]


def _insert(data: bytes, corpus: Sequence[bytes], choose: Chooser) -> bytes:
    """Insert an interesting chunk or up to 16 random bytes."""
    position = choose.integer(0, len(data))
    if choose.integer(0, 1):
        piece = pick(choose, INTERESTING_CHUNKS)
    else:
        piece = choose.raw_bytes(choose.integer(1, 16))
    return data[:position] + piece + data[position:]


def _duplicate(data: bytes, corpus: Sequence[bytes], choose: Chooser) -> bytes:
    """Copy a slice of the message, one to four times over, somewhere else in it."""
    start = choose.integer(0, len(data))
    end = choose.integer(start, len(data))
    position = choose.integer(0, len(data))
    return data[:position] + data[start:end] * choose.integer(1, 4) + data[position:]


def _splice(data: bytes, corpus: Sequence[bytes], choose: Chooser) -> bytes:
    """Join the start of the message to the end of another seed message."""
    other = pick(choose, corpus)
    return data[: choose.integer(0, len(data))] + other[choose.integer(0, len(other)) :]


MUTATIONS: Tuple[Callable[[bytes, Sequence[bytes], Chooser], bytes], ...] = (
    _flip_bits,
    _set_interesting_byte,
    _truncate,
    _delete,
    _insert,
    _duplicate,
    _splice,
)


def extension_message(choose: Chooser) -> bytes:
    """
    A MessagePack map holding one extension value (in the ext 8 form): a valid one, a valid payload under any code
    (PySOA's, MessagePack's timestamp or one nobody defines), random bytes under any code, or decimal-like text
    behind a length prefix that may be wrong.
    """
    kind = choose.integer(0, 3)
    if kind == 0:
        code, payload = pick(choose, VALID_EXTENSIONS)
    elif kind == 1:
        code, payload = pick(choose, EXTENSION_CODES), pick(choose, VALID_EXTENSIONS)[1]
    elif kind == 2:
        code, payload = pick(choose, EXTENSION_CODES), choose.raw_bytes(choose.integer(0, 16))
    else:
        text = bytes(pick(choose, _DECIMAL_CHARACTERS) for _ in range(choose.integer(0, 24)))
        code, payload = EXT_DECIMAL, struct.pack('>H', max(0, len(text) + choose.integer(-2, 2))) + text
    return b'\x81\xa1v\xc7' + bytes([len(payload)]) + code.to_bytes(1, 'big', signed=True) + payload


def arbitrary_bytes(choose: Chooser) -> bytes:
    """Up to 64 arbitrary bytes."""
    return choose.raw_bytes(choose.integer(0, 64))


def make_input(corpus: Sequence[bytes], choose: Chooser) -> bytes:
    """
    One fuzz input: a seed message with one to three mutations (most inputs), an extension message with up to two,
    or arbitrary bytes.
    """
    origin = choose.integer(0, 9)
    if origin == 0:
        return arbitrary_bytes(choose)
    if origin == 1:
        data, mutations = extension_message(choose), choose.integer(0, 2)
    else:
        data, mutations = pick(choose, corpus), choose.integer(1, 3)
    for _ in range(mutations):
        data = pick(choose, MUTATIONS)(data, corpus, choose)
    return data


# Decoders and their rules -------------------------------------------------------------------------------------------


class Outcome(enum.Enum):
    """What one decoder did with one input."""

    OK = 'decoded ok'
    DOCUMENTED_ERROR = 'documented error'
    OTHER_EXCEPTION = 'OTHER exception'
    BAD_RESULT = 'bad result'


FAILURES = frozenset((Outcome.OTHER_EXCEPTION, Outcome.BAD_RESULT))


@dataclasses.dataclass(frozen=True)
class DecoderRule:
    """
    A decoder and its contract: for any bytes it returns a result ``result_problem`` finds nothing wrong with (it
    returns ``None``), or raises one of ``documented_errors``.
    """

    name: str
    decode: Callable[[bytes], Any]
    documented_errors: Tuple[Type[Exception], ...]
    result_problem: Callable[[bytes, Any], Optional[str]]
    rule: str


@dataclasses.dataclass(frozen=True)
class Verdict:
    """The outcome of one decoder on one input; ``detail`` says what went wrong (a traceback) if it failed."""

    outcome: Outcome
    detail: str = ''


def _not_a_dict(data: bytes, result: Any) -> Optional[str]:
    return None if type(result) is dict else f'returned a {type(result).__name__}, not a dict'


def _bad_frame(data: bytes, frame: Any) -> Optional[str]:
    if not isinstance(frame, ParsedFrame) or not isinstance(frame.version, ProtocolVersion):
        return f'returned {frame!r}, not a ParsedFrame with a ProtocolVersion'
    if not all(isinstance(k, bytes) and isinstance(v, bytes) for k, v in frame.headers.items()):
        return f'headers are not bytes to bytes: {frame.headers!r}'
    if not isinstance(frame.payload, bytes) or not data.endswith(frame.payload):
        return 'the payload is not the end of the frame'
    content_type = frame.content_type
    return None if content_type is None or isinstance(content_type, str) else f'content_type is {content_type!r}'


def _bad_version(data: bytes, result: Any) -> Optional[str]:
    if not isinstance(result, tuple) or len(result) != 2 or not isinstance(result[0], ProtocolVersion):
        return f'returned {result!r}, not a (ProtocolVersion, bytes) pair'
    return None if isinstance(result[1], bytes) and data.endswith(result[1]) else 'the rest is not the end of the data'


_MSGPACK = MsgpackSerializer()
_JSON = JSONSerializer()
_SERIALIZERS_BY_MIME_TYPE: Dict[Optional[str], Serializer] = {s.mime_type: s for s in (_MSGPACK, _JSON)}


def decode_frame(data: bytes) -> Dict[Any, Any]:
    """
    What a Redis gateway receiver does with a message: parse the frame, then deserialize its payload with the
    serializer its content type names (MessagePack, the default, if it names none or one nobody registered).
    """
    frame = parse_frame(data)
    return _SERIALIZERS_BY_MIME_TYPE.get(frame.content_type, _MSGPACK).blob_to_dict(frame.payload)


DECODER_RULES: Tuple[DecoderRule, ...] = (
    DecoderRule(
        'MsgpackSerializer.blob_to_dict',
        _MSGPACK.blob_to_dict,
        (InvalidMessage,),
        _not_a_dict,
        'MsgpackSerializer.blob_to_dict returns a dict or raises InvalidMessage',
    ),
    DecoderRule(
        'JSONSerializer.blob_to_dict',
        _JSON.blob_to_dict,
        (InvalidMessage,),
        _not_a_dict,
        'JSONSerializer.blob_to_dict returns a dict or raises InvalidMessage',
    ),
    DecoderRule(
        'framing.parse_frame',
        parse_frame,
        (InvalidMessageError,),
        _bad_frame,
        'parse_frame returns a ParsedFrame (a ProtocolVersion, bytes headers, a payload that ends the frame, a str '
        'or None content type) or raises InvalidMessageError',
    ),
    DecoderRule(
        'ProtocolVersion.extract_version',
        ProtocolVersion.extract_version,
        (ValueError,),
        _bad_version,
        'ProtocolVersion.extract_version returns (ProtocolVersion, the rest of the data) or raises ValueError',
    ),
    DecoderRule(
        'parse_frame + blob_to_dict',
        decode_frame,
        (InvalidMessageError, InvalidMessage),
        _not_a_dict,
        'a received frame parses and deserializes to a dict, or raises InvalidMessageError or InvalidMessage',
    ),
)


def check(rule: DecoderRule, data: bytes) -> Verdict:
    """Run one decoder on one input and judge the outcome by its rule."""
    try:
        result = rule.decode(data)
    except rule.documented_errors:
        return Verdict(Outcome.DOCUMENTED_ERROR)
    except Exception:
        return Verdict(Outcome.OTHER_EXCEPTION, traceback.format_exc())
    problem = rule.result_problem(data, result)
    return Verdict(Outcome.OK) if problem is None else Verdict(Outcome.BAD_RESULT, problem)


# The long run -------------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class DecoderTally:
    """The outcomes of one decoder over the run, and its slowest input."""

    outcomes: Counter[Outcome] = dataclasses.field(default_factory=collections.Counter)
    failure_kinds: Counter[str] = dataclasses.field(default_factory=collections.Counter)
    max_ns: int = 0


class Watchdog(threading.Thread):
    """
    Stops the run if one input takes longer than ``hang_seconds``: saves the input to ``failures_file`` and exits
    with status 2. A decoder that hangs inside C code holding the GIL starves this thread; ``faulthandler`` then
    dumps every thread's stack and exits after twice as long (re-armed by :meth:`progress` every 1024 inputs).
    """

    def __init__(self, hang_seconds: float, failures_file: pathlib.Path) -> None:
        super().__init__(name='fuzz-watchdog', daemon=True)
        self.hang_seconds = hang_seconds
        self.failures_file = failures_file
        self.index = 0
        self.data = b''

    def progress(self, index: int, data: bytes) -> None:
        self.index, self.data = index, data
        if index % 1024 == 0:
            faulthandler.dump_traceback_later(self.hang_seconds * 2, exit=True)

    def run(self) -> None:
        seen, since = -1, time.monotonic()
        while True:
            time.sleep(min(1.0, self.hang_seconds / 4))
            index, data = self.index, self.data
            if index != seen:
                seen, since = index, time.monotonic()
            elif time.monotonic() - since > self.hang_seconds:
                self.failures_file.write_text(
                    f'HANG: input #{index} ran for over {self.hang_seconds} s\ninput (hex): {data.hex()}\n'
                )
                print(
                    f'\nHANG: input #{index} ran for over {self.hang_seconds} s; saved to {self.failures_file}',
                    flush=True,
                )
                os._exit(2)


def _describe_failure(index: int, rule: DecoderRule, data: bytes, verdict: Verdict) -> str:
    return (
        f'=== input #{index}: {rule.name}: {verdict.outcome.value}\n'
        f'rule: {rule.rule}\n'
        f'input ({len(data)} bytes, hex): {data.hex()}\n'
        f'input (repr): {data!r}\n'
        f'{verdict.detail.rstrip()}\n\n'
    )


@dataclasses.dataclass
class FuzzRun:
    """What a run saw: the outcomes per decoder, the first failures, the slowest input and how long it all took."""

    tallies: Dict[str, DecoderTally]
    kept: List[str] = dataclasses.field(default_factory=list)
    slowest_ns: int = 0
    slowest_index: int = -1
    slowest_data: bytes = b''
    seconds: float = 0.0

    @property
    def failures(self) -> int:
        return sum(tally.outcomes[outcome] for tally in self.tallies.values() for outcome in FAILURES)


def fuzz(inputs: int, seed: int, keep: int, watchdog: Watchdog) -> FuzzRun:
    """Make ``inputs`` inputs, run every decoder on each, and tally the outcomes; print progress ten times."""
    corpus = seed_messages()
    choose = RandomChooser(seed)
    result = FuzzRun({rule.name: DecoderTally() for rule in DECODER_RULES})
    report_every = max(1, inputs // 10)
    print(
        f'Fuzzing {inputs:,} inputs (seed {seed}) through {len(DECODER_RULES)} decoders, from {len(corpus)} seed '
        f'messages of {min(map(len, corpus))} to {max(map(len, corpus))} bytes',
        flush=True,
    )
    started = time.perf_counter()
    for index in range(inputs):
        data = make_input(corpus, choose)
        watchdog.progress(index, data)
        input_ns = 0
        for rule in DECODER_RULES:
            before = time.perf_counter_ns()
            verdict = check(rule, data)
            elapsed = time.perf_counter_ns() - before
            input_ns += elapsed
            tally = result.tallies[rule.name]
            tally.outcomes[verdict.outcome] += 1
            tally.max_ns = max(tally.max_ns, elapsed)
            if verdict.outcome in FAILURES:
                tally.failure_kinds[verdict.detail.rstrip().rsplit('\n', 1)[-1][:120]] += 1
                if len(result.kept) < keep:
                    result.kept.append(_describe_failure(index, rule, data, verdict))
        if input_ns > result.slowest_ns:
            result.slowest_ns, result.slowest_index, result.slowest_data = input_ns, index, data
        if (index + 1) % report_every == 0:
            seconds = time.perf_counter() - started
            print(
                f'  {index + 1:>12,} inputs  {(index + 1) / seconds:>9,.0f} inputs/s  failures so far: '
                f'{result.failures}',
                flush=True,
            )
    result.seconds = time.perf_counter() - started
    return result


def best_time_ns(data: bytes, repeat: int = 20) -> int:
    """The shortest of ``repeat`` runs of every decoder on ``data``."""
    best = sys.maxsize
    for _ in range(repeat):
        before = time.perf_counter_ns()
        for rule in DECODER_RULES:
            check(rule, data)
        best = min(best, time.perf_counter_ns() - before)
    return best


def report(result: FuzzRun, inputs: int, failures_file: pathlib.Path) -> int:
    """Print the figures of a run, save its first failures, and return the exit status."""
    print(
        f'\n{inputs:,} inputs in {result.seconds:.1f} s: {inputs / result.seconds:,.0f} inputs/s '
        f'(each through all {len(DECODER_RULES)} decoders, input generation included)'
    )
    slowest = result.slowest_data
    print(
        f'slowest input: #{result.slowest_index} ({len(slowest)} bytes), {result.slowest_ns / 1e6:.2f} ms through all'
        f' decoders; timed again, best of 20: {best_time_ns(slowest) / 1e6:.3f} ms (a large difference is the '
        f'machine, not the input)\n'
    )
    header = f'{"decoder":34s}' + ''.join(f'{o.value:>18s}' for o in Outcome) + f'{"max ms":>9s}'
    print(header)
    print('-' * len(header))
    for name, tally in result.tallies.items():
        counts = ''.join(f'{tally.outcomes[o]:>18,}' for o in Outcome)
        print(f'{name:34s}{counts}{tally.max_ns / 1e6:>9.2f}')
    if not result.failures:
        print('\nNo undocumented exception and no bad result.')
        return 0
    print()
    for name, tally in result.tallies.items():
        for description, count in tally.failure_kinds.most_common():
            print(f'FAILURE {name}: {count:,} x {description}')
    failures_file.write_text(''.join(result.kept))
    print(f'\nThe first {len(result.kept)} failures are in {failures_file}')
    return 1


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--inputs', type=int, default=1_000_000, help='how many inputs (default 1,000,000)')
    parser.add_argument('--seed', type=int, default=0, help='the random seed (default 0)')
    parser.add_argument(
        '--failures-file',
        type=pathlib.Path,
        default=pathlib.Path(tempfile.gettempdir()) / 'pysoa_fuzz_decoders_failures.txt',
        help='where the first failures (or a hanging input) are saved (default: %(default)s)',
    )
    parser.add_argument('--keep', type=int, default=10, help='how many failures to save (default 10)')
    parser.add_argument(
        '--hang-seconds', type=float, default=10.0, help='an input that takes longer than this is a hang (default 10)'
    )
    arguments = parser.parse_args(argv)
    watchdog = Watchdog(arguments.hang_seconds, arguments.failures_file)
    watchdog.start()
    try:
        result = fuzz(arguments.inputs, arguments.seed, arguments.keep, watchdog)
    finally:
        faulthandler.cancel_dump_traceback_later()
    return report(result, arguments.inputs, arguments.failures_file)


if __name__ == '__main__':
    sys.exit(main())
