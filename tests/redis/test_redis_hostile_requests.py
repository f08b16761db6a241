"""
Hostile requests pushed straight onto a service's request queue, with values no PySOA client sends: unusable client
versions, lone surrogates where the reply echoes them, and reply queues that cannot or must not receive a reply. The
server answers each with an error response or drops it with one log line, and answers the next normal call at once.

The hostile-input corpus against a real server process is in ``test_redis_hostile_corpus.py``.
"""

import decimal
import io
import logging
import time
from typing import (
    Any,
    Dict,
    Iterator,
    List,
    Optional,
)

import pytest
import redis

from pysoa.common.logging import PySOALogContextFilter
from pysoa.common.serializer.msgpack_serializer import MsgpackSerializer
from pysoa.common.transport.errors import (
    InvalidMessageError,
    MessageSendError,
)
from pysoa.common.transport.redis_gateway._framing import parse_frame
from pysoa.server.internal._response_conversion import client_version_from_meta
from pysoa.server.server import Server
from pysoa.server.settings import ServerSettings
from tests.redis.services import (
    REQUEST_QUEUE_KEY,
    SERVICE,
    RecordingMetricsRecorder,
    RedisTestServer,
    envelope,
    job_request,
    lenient_v3_frame,
    make_client,
    make_server,
    serve_queued_requests,
    standard_kwargs,
)
from tests.support.redis_processes import RedisServer


REPLY_TO = f'service.{SERVICE}.{"ab" * 16}!00000000cafe'
REPLY_KEY = 'pysoa:' + REPLY_TO
V3_JSON_PREFIX = b'pysoa-redis/3//content-type:application/json;'
SEND_PREFIX = 'server.transport.redis_gateway.send.'


@pytest.fixture
def server(redis_server: RedisServer) -> Iterator[Server]:
    """A server of the test service, handling requests when the test says."""
    server = make_server(RedisTestServer, standard_kwargs(redis_server.port))
    yield server
    server.teardown()


def _replies(connection: redis.Redis, key: str = REPLY_KEY) -> List[Dict[str, Any]]:
    """The MessagePack replies waiting on ``key``, deserialized."""
    frames: List[bytes] = connection.lrange(key, 0, -1)  # type: ignore[assignment]
    return [MsgpackSerializer().blob_to_dict(parse_frame(frame).payload) for frame in frames]


def _problem_records(caplog: pytest.LogCaptureFixture) -> List[logging.LogRecord]:
    """What was logged at WARNING or above, leaving out the job logger's request and response lines."""
    return [r for r in caplog.records if r.levelno >= logging.WARNING and r.name != 'pysoa.server.job']


def _serve_then_answer_a_good_call(
    redis_server: RedisServer,
    server: Server,
    caplog: pytest.LogCaptureFixture,
    *frames: bytes,
) -> float:
    """
    Push ``frames`` and then a normal call, serve them all, check the normal call's answer; return how long serving
    took.
    """
    client = make_client(standard_kwargs(redis_server.port))
    with redis_server.client() as connection:
        connection.rpush(REQUEST_QUEUE_KEY, *frames)
        future = client.call_action_future(SERVICE, 'echo', {'good': True}, timeout=10)
        started = time.monotonic()
        with caplog.at_level(logging.INFO):
            assert serve_queued_requests(server, connection) == len(frames) + 1
        elapsed = time.monotonic() - started
    assert future.result(timeout=5).body == {'good': True}
    return elapsed


def _metrics(server: Server) -> RecordingMetricsRecorder:
    metrics = server.metrics
    assert isinstance(metrics, RecordingMetricsRecorder)
    return metrics


# 1. Unusable client versions ----------------------------------------------------------------------------------------


UNUSABLE_CLIENT_VERSIONS: Dict[str, Any] = {
    'float_infinity': [float('inf'), 4, 9],
    'negative_float_infinity': [1, float('-inf'), 9],
    'decimal_infinity': [decimal.Decimal('Infinity'), 4, 9],
    'float_nan': [float('nan'), 4, 9],
    'decimal_nan': [decimal.Decimal('NaN'), 4, 9],
    'decimal_signaling_nan': [decimal.Decimal('sNaN'), 4, 9],
    'negative_part': [1, -4, 9],
    'huge_int': [2**64 - 1, 4, 9],
    'fraction': [1.5, 4, 9],
    'digit_strings': ['1', '4', '9'],
    'text': ['one', 'four', 'nine'],
    'booleans': [True, True, True],
    'nested_lists': [[1], [4], [9]],
    'map_part': [{'major': 1}, 4, 9],
    'none_part': [None, 4, 9],
    'bare_number': 149,
    'empty_list': [],
    'too_many_parts': list(range(1, 10_000)),
}


def _is_caller_error_sent(reply: Dict[str, Any]) -> bool:
    [action_response] = reply['body']['actions']
    [error] = action_response['errors']
    return 'is_caller_error' in error


@pytest.mark.parametrize('client_version', sorted(UNUSABLE_CLIENT_VERSIONS))
def test_unusable_client_version_is_treated_as_missing(
    redis_server: RedisServer,
    server: Server,
    caplog: pytest.LogCaptureFixture,
    client_version: str,
) -> None:
    frame = lenient_v3_frame(
        envelope(
            reply_to=REPLY_TO,
            body=job_request(('fail', {})),
            client_version=UNUSABLE_CLIENT_VERSIONS[client_version],
        )
    )

    _serve_then_answer_a_good_call(redis_server, server, caplog, frame)

    with redis_server.client() as connection:
        [reply] = _replies(connection)
    assert not _is_caller_error_sent(reply)  # what a client announcing no version gets (spec 17.15)
    assert _problem_records(caplog) == []


def test_json_infinity_in_client_version_is_treated_as_missing(
    redis_server: RedisServer,
    server: Server,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Python's json module reads 1e999 as float('inf'); json.dumps cannot write it, so build the text by hand.
    frame = (
        V3_JSON_PREFIX
        + (
            b'{"request_id": 7, "meta": {"client_version": [1e999, 4, 9], "reply_to": "%s"}, "body": '
            b'{"control": {"continue_on_error": false}, "context": {"switches": [], "correlation_id": "c"}, '
            b'"actions": [{"action": "fail", "body": {}}]}}'
        )
        % REPLY_TO.encode()
    )

    _serve_then_answer_a_good_call(redis_server, server, caplog, frame)

    with redis_server.client() as connection:
        [raw_reply] = connection.lrange(REPLY_KEY, 0, -1)
    assert raw_reply.startswith(V3_JSON_PREFIX)
    assert b'"BROKEN"' in raw_reply and b'is_caller_error' not in raw_reply


def test_usable_client_versions_are_still_read() -> None:
    assert client_version_from_meta({'client_version': [1, 4, 9]}) == (1, 4, 9)
    assert client_version_from_meta({'client_version': (0, 70, 0)}) == (0, 70, 0)
    assert client_version_from_meta({'client_version': [2.0, decimal.Decimal('1'), 0]}) == (2, 1, 0)
    assert client_version_from_meta({'client_version': [decimal.Decimal('1E+1'), 0, 0]}) == (10, 0, 0)
    assert client_version_from_meta({}) == (0, 40, 0)


# 3. Numbers that take long to convert -------------------------------------------------------------------------------


HUGE_EXPONENTS = ['1E+1000000', '-1E+1000000', '9.99E+999999999999999999', '1E-1000000']


@pytest.mark.parametrize('number', HUGE_EXPONENTS)
def test_huge_decimal_exponent_in_client_version_is_rejected_in_bounded_time(
    redis_server: RedisServer,
    server: Server,
    caplog: pytest.LogCaptureFixture,
    number: str,
) -> None:
    frame = lenient_v3_frame(
        envelope(
            reply_to=REPLY_TO,
            body=job_request(('fail', {})),
            client_version=[decimal.Decimal(number), 4, 9],
        )
    )

    elapsed = _serve_then_answer_a_good_call(redis_server, server, caplog, frame)

    assert elapsed < 2.0, f'Serving a request whose client version is {number} took {elapsed:.1f} seconds'
    with redis_server.client() as connection:
        [reply] = _replies(connection)
    assert not _is_caller_error_sent(reply)


# 2. Lone surrogates where the reply echoes them ---------------------------------------------------------------------


SURROGATE = 'bad \ud800 text'


def _envelope_with_meta(extra_meta: Dict[str, Any]) -> Dict[str, Any]:
    message = envelope(reply_to=REPLY_TO)
    message['meta'].update(extra_meta)
    return message


# The reply cannot be sent back to these requests: their id or meta, which every reply echoes, cannot be serialized.
UNANSWERABLE_WITH_SURROGATES: Dict[str, Dict[str, Any]] = {
    'meta_value': envelope(reply_to=REPLY_TO, note=SURROGATE),
    'meta_key': _envelope_with_meta({SURROGATE: 1}),
    'nested_meta_value': envelope(reply_to=REPLY_TO, note={'deep': [SURROGATE]}),
    'request_id': envelope(request_id=SURROGATE, reply_to=REPLY_TO),
    'client_version': envelope(reply_to=REPLY_TO, client_version=[SURROGATE, 4, 9]),
    'reply_to': envelope(reply_to=REPLY_TO + SURROGATE),
}


@pytest.mark.parametrize('place', sorted(UNANSWERABLE_WITH_SURROGATES))
def test_lone_surrogate_echoed_by_every_reply_drops_the_reply_with_one_log_line(
    redis_server: RedisServer,
    server: Server,
    caplog: pytest.LogCaptureFixture,
    place: str,
) -> None:
    frame = lenient_v3_frame(UNANSWERABLE_WITH_SURROGATES[place])

    _serve_then_answer_a_good_call(redis_server, server, caplog, frame)

    with redis_server.client() as connection:
        assert _replies(connection) == []
    [record] = _problem_records(caplog)
    assert record.getMessage().startswith('Could not send the response to request')
    assert isinstance(record.exc_info[1], InvalidMessageError)  # type: ignore[index]
    assert _metrics(server).counter_total('server.error.response_not_sent') == 1


# A reply to these can be sent once the offending value is left out: the server answers RESPONSE_NOT_SERIALIZABLE.
ANSWERABLE_WITH_SURROGATES: Dict[str, Dict[str, Any]] = {
    'correlation_id': job_request(('echo', {})) | {'context': {'switches': [], 'correlation_id': SURROGATE}},
    'action_name': job_request((SURROGATE, {})),
    'action_body': job_request(('echo', {'text': SURROGATE})),
}


@pytest.mark.parametrize('place', sorted(ANSWERABLE_WITH_SURROGATES))
def test_lone_surrogate_in_what_only_the_response_body_echoes_is_answered_with_an_error(
    redis_server: RedisServer,
    server: Server,
    caplog: pytest.LogCaptureFixture,
    place: str,
) -> None:
    frame = lenient_v3_frame(envelope(reply_to=REPLY_TO, body=ANSWERABLE_WITH_SURROGATES[place]))

    _serve_then_answer_a_good_call(redis_server, server, caplog, frame)

    with redis_server.client() as connection:
        [reply] = _replies(connection)
    assert [e['code'] for e in reply['body']['errors']] == ['RESPONSE_NOT_SERIALIZABLE']
    assert [r.getMessage() for r in _problem_records(caplog)] == [
        'Could not send the response because it failed to serialize',
    ]


# 4. Reply queues holding another type -------------------------------------------------------------------------------


def test_reply_queue_holding_another_type_drops_each_reply_and_keeps_serving(
    redis_server: RedisServer,
    server: Server,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with redis_server.client() as connection:
        connection.set(REPLY_KEY, 'not a list')
    frames = [lenient_v3_frame(envelope(request_id=n, reply_to=REPLY_TO)) for n in range(10)]

    _serve_then_answer_a_good_call(redis_server, server, caplog, *frames)

    with redis_server.client() as connection:
        assert connection.get(REPLY_KEY) == b'not a list'
    records = _problem_records(caplog)
    assert [r.getMessage() for r in records] == [
        f'Could not send the response to request {n}; dropping it' for n in range(10)
    ]
    assert all('WRONGTYPE' in str(r.exc_info[1]) for r in records)  # type: ignore[index]
    metrics = _metrics(server)
    assert metrics.counter_total('server.error.response_not_sent') == 10
    assert metrics.counter_total(SEND_PREFIX + 'error.response') == 10


def test_transport_failure_while_sending_a_reply_still_raises_a_transient_error(
    redis_server: RedisServer,
    server: Server,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def redis_is_down(*_args: Any, **_kwargs: Any) -> None:
        raise redis.ConnectionError('Connection refused')

    monkeypatch.setattr(server.transport.core.backend_layer, 'send_message_to_queue', redis_is_down)  # type: ignore
    with redis_server.client() as connection:
        connection.rpush(REQUEST_QUEUE_KEY, lenient_v3_frame(envelope(reply_to=REPLY_TO)))

    with pytest.raises(MessageSendError) as error_info:
        server.handle_next_request()

    assert not isinstance(error_info.value, InvalidMessageError)  # counted by the run loop as a transport failure
    assert _metrics(server).counter_total(SEND_PREFIX + 'error.unknown') == 1


# 5. Reply targets that are not reply queues -------------------------------------------------------------------------


NOT_REPLY_QUEUES: Dict[str, Optional[str]] = {
    'own_request_queue': f'service.{SERVICE}',
    'other_request_queue': 'service.other',
    'no_thread_marker': f'service.{SERVICE}.{"ab" * 16}',
    'empty_thread_id': f'service.{SERVICE}.{"ab" * 16}!',
    'marker_only': '!',
    'arbitrary_key': 'some:other:key!1',
    'prefixed_key': f'pysoa:service.{SERVICE}.{"ab" * 16}!00000000cafe',
    'whitespace': f'service.{SERVICE} x.{"ab" * 16}!00000000cafe',
    'non_hex_thread_id': f'service.{SERVICE}.{"ab" * 16}!thread',
}


@pytest.mark.parametrize('reply_to', sorted(NOT_REPLY_QUEUES))
def test_reply_to_that_is_not_a_reply_queue_is_refused_with_one_log_line(
    redis_server: RedisServer,
    server: Server,
    caplog: pytest.LogCaptureFixture,
    reply_to: str,
) -> None:
    frame = lenient_v3_frame(envelope(reply_to=NOT_REPLY_QUEUES[reply_to], body=job_request(('echo', {}))))

    _serve_then_answer_a_good_call(redis_server, server, caplog, frame)

    with redis_server.client() as connection:
        assert connection.llen(REQUEST_QUEUE_KEY) == 0  # nothing came back as a new request
        assert connection.keys('pysoa:*') == []
    [record] = _problem_records(caplog)
    assert isinstance(record.exc_info[1], InvalidMessageError)  # type: ignore[index]
    assert 'is not a reply queue' in str(record.exc_info[1])  # type: ignore[index]
    metrics = _metrics(server)
    assert metrics.counter_total(SEND_PREFIX + 'error.invalid_reply_queue') == 1
    assert metrics.counter_total('server.error.response_not_sent') == 1


# Nesting deeper than logging can recurse -----------------------------------------------------------------------------


@pytest.fixture
def production_log() -> Iterator[io.StringIO]:
    """The root logger writing INFO and above as the default ``logging`` setting of servers does, into a buffer."""
    console = ServerSettings.defaults['logging']['formatters']['console']['format']
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(console))
    handler.addFilter(PySOALogContextFilter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def _nested(depth: int) -> Dict[str, Any]:
    value: Dict[str, Any] = {}
    for _ in range(depth):
        value = {'n': value}
    return value


DEEP = 1_000  # MessagePack readers accept 1,024 levels; Python recursion stops at 1,000 frames
TOO_DEEP_TO_LOG: Dict[str, Dict[str, Any]] = {
    'body': envelope(reply_to=REPLY_TO, body=_nested(DEEP)),
    'action_body': envelope(reply_to=REPLY_TO, body=job_request(('echo', _nested(DEEP)))),
    'context': envelope(
        reply_to=REPLY_TO,
        body=job_request(('echo', {}))
        | {
            'context': {'switches': [], 'correlation_id': 'c', 'deep': _nested(DEEP)},
        },
    ),
    'correlation_id': envelope(
        reply_to=REPLY_TO,
        body=job_request(('echo', {}))
        | {
            'context': {'switches': [], 'correlation_id': _nested(DEEP)},
        },
    ),
    'request_id': envelope(request_id=_nested(DEEP), reply_to=REPLY_TO),
}


@pytest.mark.parametrize('place', sorted(TOO_DEEP_TO_LOG))
def test_request_nested_too_deeply_to_log_is_served_and_logged_without_logging_errors(
    redis_server: RedisServer,
    server: Server,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    production_log: io.StringIO,
    place: str,
) -> None:
    _serve_then_answer_a_good_call(redis_server, server, caplog, lenient_v3_frame(TOO_DEEP_TO_LOG[place]))

    assert 'Logging error' not in capsys.readouterr().err  # what the logging module prints when a handler fails
    with redis_server.client() as connection:
        assert len(_replies(connection)) == 1
    if place in ('body', 'action_body', 'context'):
        assert 'nested too deeply to log>' in production_log.getvalue()
