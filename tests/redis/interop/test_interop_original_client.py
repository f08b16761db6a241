"""
The original's client calls a server of ours: a ``Client`` of PySOA 1.4.9, in a virtualenv of its own, sends requests
over a real Redis to this project's server, which must answer so that the original understands: in both protocol
versions (2 and 3) and with both serializers (MessagePack and JSON), in chunks when a response is large, with every
MessagePack extension type (and the other values only MessagePack carries), with action and job errors; and requests
that expire in the queue must never run.

The server is ``services.InteropServer``; ``original/interop_service.py`` is its twin for the original, used by
``test_interop_original_server.py``, which runs the same calls the other way round.
"""

from typing import (
    Callable,
    Iterator,
)

import pytest

from tests.redis.interop.helpers import (
    ACTION_ERRORS,
    BIG_ROWS,
    BODY,
    DEFAULT_WIRE,
    JOB_ERRORS,
    LATE_SERVICE,
    SERVICE,
    OriginalClient,
    OriginalClientRaised,
    Wire,
    chunk_headers,
    client_config,
    our_server,
    queue_length,
    request_queue,
    wait_for_response_frames,
)
from tests.redis.interop.original.wire_values import (
    MSGPACK_ONLY_VALUES,
    big_body,
    to_json,
)
from tests.support.redis_processes import RedisServer
from tests.support.server_runner import ServerProcess


pytestmark = pytest.mark.interop

Connect = Callable[..., OriginalClient]


@pytest.fixture(scope='module')
def our_running_server(redis_session_server: RedisServer) -> Iterator[ServerProcess]:
    with our_server(redis_session_server.port) as server:
        yield server


@pytest.fixture
def connect(
    make_original_client: Callable[..., OriginalClient],
    redis_server: RedisServer,
    our_running_server: ServerProcess,
) -> Connect:
    """``connect(wire)`` starts a client of the original that calls our server (protocol 3, MessagePack by default)."""
    return lambda wire=DEFAULT_WIRE: make_original_client(client_config(redis_server.port, wire))


def test_the_original_client_gets_the_response_body_from_our_server(connect: Connect, wire: Wire) -> None:
    response = connect(wire).call('call_action', SERVICE, 'echo', BODY)

    assert response == {'action': 'echo', 'errors': [], 'body': BODY}


def test_our_server_answers_in_the_protocol_version_and_serializer_the_original_client_speaks(
    connect: Connect,
    redis_server: RedisServer,
    wire: Wire,
) -> None:
    client = connect(wire)
    request_id = client.call('send_request', SERVICE, [{'action': 'echo', 'body': BODY}])

    [frame] = wait_for_response_frames(redis_server)
    assert frame.startswith(wire.frame_prefix)
    [(response_id, job_response)] = client.call('get_all_responses', SERVICE, receive_timeout_in_seconds=10)
    assert response_id == request_id
    assert job_response['actions'][0]['body'] == BODY


def test_our_server_returns_the_correlation_id_the_original_client_sends(connect: Connect) -> None:
    job_response = connect().call(
        'call_actions',
        SERVICE,
        [{'action': 'echo', 'body': {}}],
        correlation_id='interop-correlation-1',
    )

    assert job_response['context']['correlation_id'] == 'interop-correlation-1'


@pytest.mark.parametrize('name', sorted(MSGPACK_ONLY_VALUES))
def test_our_server_decodes_each_msgpack_only_value_the_original_client_sends(connect: Connect, name: str) -> None:
    response = connect().call('call_action', SERVICE, 'describe', {'value': MSGPACK_ONLY_VALUES[name]})

    assert response['body'] == {'described': to_json(MSGPACK_ONLY_VALUES[name])}


@pytest.mark.parametrize('name', sorted(MSGPACK_ONLY_VALUES))
def test_the_original_client_decodes_each_msgpack_only_value_our_server_sends(connect: Connect, name: str) -> None:
    response = connect().call('call_action', SERVICE, 'make_value', {'name': name})

    assert response['body'] == {'value': to_json(MSGPACK_ONLY_VALUES[name])}


@pytest.mark.parametrize('serializer', ['msgpack', 'json'])
def test_the_original_client_reassembles_a_large_response_our_server_sends_in_chunks(
    connect: Connect,
    redis_server: RedisServer,
    serializer: str,
) -> None:
    client = connect(Wire(3, serializer))
    client.call('send_request', SERVICE, [{'action': 'big', 'body': {'rows': BIG_ROWS}}])

    frames = wait_for_response_frames(redis_server)
    count = len(frames)
    assert count > 1
    assert all(frame.startswith(Wire(3, serializer).frame_prefix) for frame in frames)
    assert [chunk_headers(frame) for frame in frames] == [(count, i) for i in range(1, count + 1)]
    [(_, job_response)] = client.call('get_all_responses', SERVICE, receive_timeout_in_seconds=10)
    assert job_response['actions'][0]['body'] == big_body(BIG_ROWS)


def test_our_server_answers_a_protocol_2_client_with_a_job_error_when_the_response_would_need_chunks(
    connect: Connect,
) -> None:
    with pytest.raises(OriginalClientRaised) as raised:
        connect(Wire(2, 'msgpack')).call('call_action', SERVICE, 'big', {'rows': BIG_ROWS})

    assert raised.value.type == 'CallJobError'
    assert [(e['code'], e['message'], e['is_caller_error']) for e in raised.value.errors] == [
        ('RESPONSE_TOO_LARGE', 'Could not send the response because it was too large', False),
    ]


def test_the_original_client_raises_the_action_errors_of_our_server_with_every_field(
    connect: Connect,
    wire: Wire,
) -> None:
    with pytest.raises(OriginalClientRaised) as raised:
        connect(wire).call('call_action', SERVICE, 'fail_action')

    assert raised.value.type == 'CallActionError'
    assert raised.value.actions == [{'action': 'fail_action', 'errors': ACTION_ERRORS, 'body': {}}]


def test_the_original_client_raises_the_job_errors_of_our_server_with_every_field(connect: Connect, wire: Wire) -> None:
    with pytest.raises(OriginalClientRaised) as raised:
        connect(wire).call('call_action', SERVICE, 'fail_job')

    assert raised.value.type == 'CallJobError'
    assert raised.value.errors == JOB_ERRORS


def test_a_request_of_the_original_client_that_expires_before_our_server_takes_it_times_out_and_never_runs(
    connect: Connect,
    redis_server: RedisServer,
) -> None:
    with pytest.raises(OriginalClientRaised) as raised:
        connect().call('call_action', LATE_SERVICE, 'count', timeout=1)
    assert raised.value.type == 'MessageReceiveTimeout'
    # Still queued, so it is up to the server to see that it expired.
    assert queue_length(redis_server, request_queue(LATE_SERVICE)) == 1

    with our_server(redis_server.port, 'LateInteropServer'):
        # Another client: a 1.4.9 client keeps a timed-out request pending, and its next call would wait for that one.
        response = connect().call('call_action', LATE_SERVICE, 'count', timeout=10)

    assert response['body'] == {'runs': 1}
