"""
A corpus of hostile requests against a real server process and a real Redis: malformed frames, values no client
sends, random bytes, truncated and deeply nested MessagePack, a 50 MB blob, lying protocol and chunk headers. After
each, a normal call must be answered within a few seconds, and the server process must still be running.

The behaviour behind each kind of request is tested in detail in ``test_redis_hostile_requests.py`` and
``test_redis_bad_input.py``; this module checks that nothing in the corpus stops or stalls a server.
"""

import decimal
import json
import random
import time
from typing import (
    Any,
    Callable,
    Dict,
    Iterator,
    List,
)

import msgpack
import pytest
import redis

from tests.redis.services import (
    LOGGING_SERVER_CLASS_PATH,
    REQUEST_QUEUE_KEY,
    SERVICE,
    V3_MSGPACK_PREFIX,
    chunk_frames,
    envelope,
    job_request,
    lenient_v3_frame,
    make_client,
    pack,
    server_settings,
    standard_kwargs,
)
from tests.support.redis_processes import RedisServer
from tests.support.server_runner import ServerProcess


REPLY_TO = f'service.{SERVICE}.{"0" * 32}!000000000001'  # a reply queue nobody reads
STRING_KEY_REPLY_TO = f'service.{SERVICE}.{"1" * 32}!000000000001'
V3_JSON_PREFIX = b'pysoa-redis/3//content-type:application/json;'
SURROGATE = 'bad \ud800 text'
FIFTY_MB = 50 * 1024 * 1024
ANSWER_WITHIN_SECONDS = 5.0

Frames = Callable[[redis.Redis], List[bytes]]


def _frames(*messages: Any) -> Frames:
    """Version 3 MessagePack frames of ``messages``, packed leniently (surrogates, extension types)."""
    return lambda _connection: [lenient_v3_frame(m) for m in messages]


def _raw(*frames: bytes) -> Frames:
    return lambda _connection: list(frames)


def _good_request(**meta: Any) -> bytes:
    return pack(envelope(reply_to=REPLY_TO, **meta))


def _with(**meta: Any) -> Dict[str, Any]:
    return envelope(reply_to=REPLY_TO, **meta)


def _nested_arrays(depth: int) -> bytes:
    """MessagePack bytes of ``depth`` one-element arrays nested in each other around a nil."""
    return b'\x91' * depth + b'\xc0'


def _envelope_around(raw_body: bytes) -> bytes:
    """A version 3 frame of a valid envelope whose body is the MessagePack bytes ``raw_body``."""
    head = pack({'request_id': 1, 'meta': {'reply_to': REPLY_TO, 'client_version': [1, 4, 9]}})
    return V3_MSGPACK_PREFIX + bytes([head[0] + 1]) + head[1:] + pack('body') + raw_body  # type: ignore[arg-type]


def _json_nested(depth: int) -> bytes:
    return V3_JSON_PREFIX + b'{"request_id": 1, "meta": {"reply_to": "%s"}, "body": %s%s}' % (
        REPLY_TO.encode(),
        b'[' * depth,
        b']' * depth,
    )


def _nested_dicts(depth: int) -> Dict[str, Any]:
    value: Dict[str, Any] = {}
    for _ in range(depth):
        value = {'n': value}
    return value


def _random_bytes(seed: int, size: int) -> Frames:
    return _raw(random.Random(seed).randbytes(size))


def _wrong_type_reply_queue(connection: redis.Redis) -> List[bytes]:
    connection.set('pysoa:' + STRING_KEY_REPLY_TO, 'not a list')
    return [lenient_v3_frame(envelope(request_id=n, reply_to=STRING_KEY_REPLY_TO)) for n in range(10)]


GOOD = _good_request()

CORPUS: Dict[str, Frames] = {
    # 1. and 3. Client versions that are not versions
    'client_version_float_infinity': _frames(_with(client_version=[float('inf'), 4, 9])),
    'client_version_decimal_infinity': _frames(_with(client_version=[decimal.Decimal('Infinity'), 4, 9])),
    'client_version_json_1e999': _raw(
        V3_JSON_PREFIX + b'{"request_id": 1, "meta": {"reply_to": "%s", '
        b'"client_version": [1e999, 4, 9]}, "body": {}}' % REPLY_TO.encode()
    ),
    'client_version_nan': _frames(_with(client_version=[float('nan'), decimal.Decimal('NaN'), 9])),
    'client_version_negative': _frames(_with(client_version=[-1, -4, -9])),
    'client_version_huge_int': _frames(_with(client_version=[2**64 - 1, 4, 9])),
    'client_version_huge_json_int': _raw(
        V3_JSON_PREFIX + b'{"request_id": 1, "meta": {"reply_to": "%s", '
        b'"client_version": [%s, 4, 9]}, "body": {}}' % (REPLY_TO.encode(), b'9' * 4000)
    ),
    'client_version_strings': _frames(_with(client_version=['1', 'four', '9'])),
    'client_version_nested_junk': _frames(_with(client_version=[[[1]], {'a': {'b': None}}, b'\x00'])),
    'client_version_huge_decimal_exponent': _frames(_with(client_version=[decimal.Decimal('1E+1000000'), 4, 9])),
    'client_version_enormous_decimal_exponent': _frames(
        _with(client_version=[decimal.Decimal('9E+999999999999999999'), 4, 9]),
    ),
    # 2. Lone surrogates
    'surrogate_in_meta_value': _frames(_with(note=SURROGATE)),
    'surrogate_in_meta_key': _frames(_with(**{SURROGATE: SURROGATE})),
    'surrogate_request_id': _frames(envelope(request_id=SURROGATE, reply_to=REPLY_TO)),
    'surrogate_in_reply_to': _frames(envelope(reply_to=REPLY_TO + SURROGATE)),
    'surrogate_in_context_and_body': _frames(
        envelope(
            reply_to=REPLY_TO,
            body={
                'control': {'continue_on_error': True},
                'context': {'switches': [], 'correlation_id': SURROGATE, SURROGATE: SURROGATE},
                'actions': [{'action': SURROGATE, 'body': {}}, {'action': 'echo', 'body': {SURROGATE: SURROGATE}}],
            },
        )
    ),
    # 4. and 5. Reply queues
    'reply_queue_holding_a_string': _wrong_type_reply_queue,
    'reply_to_own_request_queue': _frames(envelope(reply_to=f'service.{SERVICE}', body={'not': 'a job'})),
    'reply_to_own_request_queue_with_prefix': _frames(envelope(reply_to=REQUEST_QUEUE_KEY)),
    'reply_to_arbitrary_key': _frames(envelope(reply_to='some-key')),
    'reply_to_not_a_string': _frames(envelope(reply_to=[REPLY_TO])),  # type: ignore[arg-type]
    'reply_to_huge': _frames(envelope(reply_to=f'service.{SERVICE}.{"a" * 200_000}!1')),
    # Random and truncated bytes
    'random_bytes_small': _random_bytes(1, 64),
    'random_bytes_large': _random_bytes(2, 200_000),
    'random_bytes_after_msgpack_prefix': lambda _c: [V3_MSGPACK_PREFIX + random.Random(3).randbytes(4096)],
    'random_bytes_after_json_prefix': lambda _c: [V3_JSON_PREFIX + random.Random(4).randbytes(4096)],
    'empty_frame': _raw(b''),
    'truncated_msgpack_halfway': _raw(V3_MSGPACK_PREFIX + GOOD[: len(GOOD) // 2]),
    'truncated_msgpack_last_byte': _raw(V3_MSGPACK_PREFIX + GOOD[:-1]),
    'truncated_msgpack_header_only': _raw(V3_MSGPACK_PREFIX + b'\xdf\xff\xff\xff\xff'),
    'truncated_extension_payloads': _frames(
        _with(note=msgpack.ExtType(5, b'\x00\x10' + b'1')),  # a Decimal announcing 16 characters, carrying 1
        _with(note=msgpack.ExtType(1, b'\x00\x01\x02')),  # a date-time of 3 bytes instead of 8
        _with(note=msgpack.ExtType(2, b'\x00')),  # an Amount without its currency and value
    ),
    'msgpack_trailing_garbage': _raw(V3_MSGPACK_PREFIX + GOOD + b'\xc1' * 100),
    'msgpack_unknown_extension': _raw(V3_MSGPACK_PREFIX + pack({'request_id': 1}) + b'\xd4\x63\x00'),
    'json_truncated': _raw(V3_JSON_PREFIX + b'{"request_id": 1, "meta": {"reply_to": "'),
    # Non-dict bodies and metas, wrong request ids
    'body_list': _frames(envelope(reply_to=REPLY_TO, body=[1, 2, 3])),  # type: ignore[arg-type]
    'body_string': _frames(envelope(reply_to=REPLY_TO, body='job')),  # type: ignore[arg-type]
    'body_int': _frames(envelope(reply_to=REPLY_TO, body=7)),  # type: ignore[arg-type]
    'body_bytes': _frames(envelope(reply_to=REPLY_TO, body=b'\x00' * 10)),  # type: ignore[arg-type]
    'body_missing': _frames({'request_id': 1, 'meta': {'reply_to': REPLY_TO}}),
    'body_with_junk_fields': _frames(
        envelope(
            reply_to=REPLY_TO,
            body={
                'control': [],
                'context': 'x',
                'actions': {'action': 'echo'},
                'extra': None,
            },
        )
    ),
    'actions_of_junk': _frames(
        envelope(
            reply_to=REPLY_TO,
            body={
                'control': {'continue_on_error': 'yes'},
                'context': {'switches': ['a', None, 1.5], 'correlation_id': 1},
                'actions': [None, 1, 'echo', {'action': None}, {'action': 'echo', 'body': []}],
            },
        )
    ),
    'meta_list': _frames({'request_id': 1, 'meta': [REPLY_TO], 'body': job_request(('echo', {}))}),
    'meta_string': _frames({'request_id': 1, 'meta': REPLY_TO, 'body': job_request(('echo', {}))}),
    'meta_int': _frames({'request_id': 1, 'meta': 1, 'body': job_request(('echo', {}))}),
    'meta_missing': _frames({'request_id': 1, 'body': job_request(('echo', {}))}),
    'meta_with_non_string_keys': _frames(
        {'request_id': 1, 'meta': {1: 2, 3.5: None, b'k': 'v', 'reply_to': REPLY_TO}, 'body': job_request(('echo', {}))}
    ),
    'meta_with_junk_expiry': _frames(
        _with(__expiry__='soon'),
        _with(__expiry__=decimal.Decimal('1E+1000000')),
        _with(__expiry__=float('nan')),
        _with(__expiry__=[1]),
        _with(__expiry__=2**64 - 1),
    ),
    'request_id_string': _frames(envelope(request_id='1', reply_to=REPLY_TO)),
    'request_id_float': _frames(
        envelope(request_id=1.5, reply_to=REPLY_TO), envelope(request_id=float('nan'), reply_to=REPLY_TO)
    ),
    'request_id_list': _frames(envelope(request_id=[1, 2], reply_to=REPLY_TO)),
    'request_id_map': _frames(envelope(request_id={'id': 1}, reply_to=REPLY_TO)),
    'request_id_bool': _frames(envelope(request_id=False, reply_to=REPLY_TO)),
    'request_id_bytes': _frames(envelope(request_id=b'\xff', reply_to=REPLY_TO)),
    'request_id_negative_and_huge': _frames(
        envelope(request_id=-(2**63), reply_to=REPLY_TO), envelope(request_id=2**64 - 1, reply_to=REPLY_TO)
    ),
    'request_id_decimal_huge_exponent': _frames(envelope(request_id=decimal.Decimal('1E+1000000'), reply_to=REPLY_TO)),
    'request_id_missing': _frames(envelope(request_id=None, reply_to=REPLY_TO)),
    # Deep nesting
    'nesting_depth_1_000_000': _raw(V3_MSGPACK_PREFIX + _nested_arrays(1_000_000)),
    'nesting_depth_1_000_000_in_body': lambda _c: [_envelope_around(_nested_arrays(1_000_000))],
    'nesting_depth_200_000_in_body': lambda _c: [_envelope_around(_nested_arrays(200_000))],
    'nesting_depth_1_000_in_body': lambda _c: [_envelope_around(_nested_arrays(1_000))],
    'nesting_depth_1_000_in_action_body': _frames(_with(body=job_request(('echo', _nested_dicts(1_000))))),
    'nesting_depth_1_000_in_context': _frames(
        _with(
            body=job_request(('echo', {}))
            | {
                'context': {'switches': [], 'correlation_id': 'c', 'deep': _nested_dicts(1_000)},
            }
        )
    ),
    'nesting_depth_1_000_in_meta': _frames(_with(deep=_nested_dicts(1_000))),
    'nesting_depth_1_000_in_correlation_id': _frames(
        _with(
            body=job_request(('echo', {}))
            | {
                'context': {'switches': [], 'correlation_id': _nested_dicts(1_000)},
            }
        )
    ),
    'nesting_depth_1_000_in_request_id': _frames(envelope(request_id=_nested_dicts(1_000), reply_to=REPLY_TO)),
    'json_nesting_depth_100_000': lambda _c: [_json_nested(100_000)],
    'json_nesting_depth_900': lambda _c: [_json_nested(900)],
    # Size
    'blob_of_50_mb': lambda _c: [V3_MSGPACK_PREFIX + b'\x00' * FIFTY_MB],
    'blob_of_50_mb_without_prefix': lambda _c: [b'\xc6' + b'\xff' * FIFTY_MB],
    'blob_of_50_mb_in_body': lambda _c: [_envelope_around(b'\xc6' + FIFTY_MB.to_bytes(4, 'big') + b'x' * FIFTY_MB)],
    'blob_of_50_mb_of_headers': lambda _c: [
        b'pysoa-redis/3//' + b'content-type:application/msgpack;' * (FIFTY_MB // 33)
    ],
    'length_prefix_larger_than_frame': _raw(V3_MSGPACK_PREFIX + b'\xdb\xff\xff\xff\xff' + b'x' * 10),
    # Protocol headers and version markers
    'version_0': _raw(b'pysoa-redis/0//content-type:application/msgpack;' + GOOD),
    'version_4': _raw(b'pysoa-redis/4//content-type:application/msgpack;' + GOOD),
    'version_huge': _raw(b'pysoa-redis/99999999999999999999999//content-type:application/msgpack;' + GOOD),
    'version_of_100_000_digits': _raw(b'pysoa-redis/' + b'9' * 100_000 + b'//' + GOOD),
    'version_negative': _raw(b'pysoa-redis/-3//content-type:application/msgpack;' + GOOD),
    'version_marker_unterminated': _raw(b'pysoa-redis/3/content-type:application/msgpack;' + GOOD),
    'version_marker_only': _raw(b'pysoa-redis/3//'),
    'content_type_empty': _raw(b'pysoa-redis/3//content-type:;' + GOOD),
    'content_type_unterminated': _raw(b'pysoa-redis/3//content-type:application/msgpack' + GOOD),
    'content_type_unknown': _raw(b'pysoa-redis/3//content-type:application/x-hostile;' + GOOD),
    'content_type_json_for_msgpack': _raw(V3_JSON_PREFIX + GOOD),
    'content_type_repeated': _raw(b'pysoa-redis/3//' + b'content-type:application/json;' * 10_000 + GOOD),
    'content_type_with_spaces': _raw(b'pysoa-redis/3// content-type : application/msgpack ;  ' + GOOD),
    'unknown_header': _raw(b'pysoa-redis/3//x-hostile:1;content-type:application/msgpack;' + GOOD),
    'version_2_header_spam': _raw(b'content-type' * 20_000),
    # Chunk headers that lie
    'chunk_single_complete': _raw(V3_MSGPACK_PREFIX + b'chunk-count:1;chunk-id:1;' + GOOD),
    'chunk_count_zero': _raw(V3_MSGPACK_PREFIX + b'chunk-count:0;chunk-id:1;' + GOOD),
    'chunk_count_negative': _raw(V3_MSGPACK_PREFIX + b'chunk-count:-1;chunk-id:1;' + GOOD),
    'chunk_count_huge': _raw(V3_MSGPACK_PREFIX + b'chunk-count:99999999999999999999;chunk-id:1;' + GOOD),
    'chunk_count_of_100_000_digits': _raw(
        V3_MSGPACK_PREFIX + b'chunk-count:' + b'9' * 100_000 + b';chunk-id:1;' + GOOD
    ),
    'chunk_id_beyond_count': _raw(V3_MSGPACK_PREFIX + b'chunk-count:3;chunk-id:5;' + GOOD),
    'chunk_id_without_count': _raw(V3_MSGPACK_PREFIX + b'chunk-id:1;' + GOOD),
    'chunk_count_not_a_number': _raw(V3_MSGPACK_PREFIX + b'chunk-count:many;chunk-id:one;' + GOOD),
    'chunks_that_never_complete': lambda _c: chunk_frames(GOOD, 3, ids=[1, 2]),
    'chunks_out_of_order': lambda _c: chunk_frames(GOOD, 3, ids=[3, 1, 2]),
}


class _ServerUnderAttack:
    """One server process for the whole corpus, restarted (and reported) if a request stopped it."""

    def __init__(self, redis_server: RedisServer) -> None:
        self._settings = server_settings(standard_kwargs(redis_server.port))
        self.process = ServerProcess(LOGGING_SERVER_CLASS_PATH, self._settings).start()

    def alive(self) -> bool:
        assert self.process.process is not None
        return self.process.process.poll() is None

    def restart_if_dead(self) -> None:
        """Start a new process if an earlier test (which failed) stopped this one, so later tests stay meaningful."""
        if not self.alive():
            self.process.stop()
            self.process = ServerProcess(LOGGING_SERVER_CLASS_PATH, self._settings).start()


@pytest.fixture(scope='module')
def server_under_attack(redis_session_server: RedisServer) -> Iterator[_ServerUnderAttack]:
    server = _ServerUnderAttack(redis_session_server)
    yield server
    server.process.stop()


def _attack_then_call(redis_server: RedisServer, server: _ServerUnderAttack, cases: List[str]) -> float:
    """
    Push the frames of ``cases``, then make a normal call; return how long the call took to be answered. Fails if the
    server process stopped, or left hostile frames on its request queue.
    """
    client = make_client(standard_kwargs(redis_server.port))
    output_before = len(server.process.output())
    with redis_server.client() as connection:
        # Replies left on reply queues by earlier tests on this shared Redis would be counted below as if pushed now.
        for key in connection.scan_iter('pysoa:service.*!*'):
            connection.delete(key)
        connection.config_resetstat()
        for case in cases:
            connection.rpush(REQUEST_QUEUE_KEY, *CORPUS[case](connection))
        started = time.monotonic()
        response = client.call_action(SERVICE, 'echo', {'after': cases[-1]}, timeout=int(ANSWER_WITHIN_SECONDS * 3))
        elapsed = time.monotonic() - started
        assert response.body == {'after': cases[-1]}
        # The server handled every hostile request before the normal call, so every reply it sent has been counted.
        # The only pushes allowed are the normal call and its answer, and the replies still waiting on reply queues:
        # one more means a reply went to a request queue (to be read as a request) or to some other key.
        assert _pushes_by_script(connection) == 2 + _frames_on_reply_queues(connection)
    output = server.process.output()[output_before:]
    assert server.alive(), f'The server process stopped:\n{output[-3000:]}'
    assert 'Logging error' not in output, output[-3000:]  # what the logging module prints when a handler fails
    return elapsed


def _pushes_by_script(connection: redis.Redis) -> int:
    """How many messages PySOA's enqueue script pushed (it sets their queue's TTL with one EXPIRE each)."""
    return int(connection.info('commandstats').get('cmdstat_expire', {}).get('calls', 0))


def _frames_on_reply_queues(connection: redis.Redis) -> int:
    return sum(
        connection.llen(key) for key in connection.scan_iter('pysoa:service.*!*') if connection.type(key) == b'list'
    )


@pytest.mark.parametrize('case', list(CORPUS))
def test_server_process_answers_a_normal_call_right_after_a_hostile_request(
    redis_server: RedisServer,
    server_under_attack: _ServerUnderAttack,
    case: str,
) -> None:
    server_under_attack.restart_if_dead()

    elapsed = _attack_then_call(redis_server, server_under_attack, [case])

    assert elapsed < ANSWER_WITHIN_SECONDS, f'The normal call after {case} took {elapsed:.1f} seconds'


def test_server_process_survives_the_whole_corpus_in_one_go(
    redis_server: RedisServer,
    server_under_attack: _ServerUnderAttack,
) -> None:
    server_under_attack.restart_if_dead()
    cases = [case for case in CORPUS if 'fifty' not in case and '50_mb' not in case] + ['blob_of_50_mb']

    elapsed = _attack_then_call(redis_server, server_under_attack, cases)

    assert elapsed < 4 * ANSWER_WITHIN_SECONDS, f'The normal call after the whole corpus took {elapsed:.1f} seconds'


def test_json_corpus_frames_are_what_they_claim() -> None:
    # Guards the hand-written JSON frames: each one parses (except the deliberately broken ones).
    for case in ('client_version_json_1e999', 'client_version_huge_json_int', 'json_nesting_depth_900'):
        [frame] = CORPUS[case](None)  # type: ignore[arg-type]
        assert isinstance(json.loads(frame[len(V3_JSON_PREFIX) :]), dict)
