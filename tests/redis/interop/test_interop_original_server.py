"""
Our client calls a server of the original's: this project's ``Client`` sends requests over a real Redis to a server of
PySOA 1.4.9, running in a virtualenv of its own, and must understand its answers: in both protocol versions (2 and 3)
and with both serializers (MessagePack and JSON), in chunks when a response is large, with every MessagePack extension
type (and the other values only MessagePack carries), with action and job errors; and its requests that expire in the
queue must never run.

The server is ``original/interop_service.py``'s ``InteropServer``, the twin of ``services.InteropServer`` which
``test_interop_original_client.py`` calls with the original's client.
"""

from typing import (
    Any,
    Callable,
    Dict,
    Iterator,
    List,
)

import attr
import pytest

from pysoa.client.client import Client
from pysoa.common.errors import Error
from pysoa.common.transport.errors import MessageReceiveTimeout
from tests.redis.interop.helpers import (
    ACTION_ERRORS,
    BIG_ROWS,
    BODY,
    DEFAULT_WIRE,
    JOB_ERRORS,
    LATE_SERVICE,
    SERVICE,
    Wire,
    chunk_headers,
    client_config,
    original_server,
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

Connect = Callable[..., Client]


@pytest.fixture(scope='module')
def original_running_server(original_python: str, redis_session_server: RedisServer) -> Iterator[ServerProcess]:
    with original_server(original_python, redis_session_server.port) as server:
        yield server


@pytest.fixture
def connect(redis_server: RedisServer, original_running_server: ServerProcess) -> Connect:
    """``connect(wire)`` makes a client of ours that calls the original's server (protocol 3, MessagePack default)."""
    return lambda wire=DEFAULT_WIRE, peekable=False: Client(client_config(redis_server.port, wire, peekable))


def as_dicts(errors: List[Error]) -> List[Dict[str, Any]]:
    return [attr.asdict(error) for error in errors]


def test_our_client_gets_the_response_body_from_the_original_server(connect: Connect, wire: Wire) -> None:
    response = connect(wire).call_action(SERVICE, 'echo', BODY)

    assert (response.action, response.errors, response.body) == ('echo', [], BODY)


def test_the_original_server_answers_in_the_protocol_version_and_serializer_our_client_speaks(
    connect: Connect,
    redis_server: RedisServer,
    wire: Wire,
) -> None:
    client = connect(wire, peekable=True)
    request_id = client.send_request(SERVICE, [{'action': 'echo', 'body': BODY}])

    [frame] = wait_for_response_frames(redis_server)
    assert frame.startswith(wire.frame_prefix)
    [(response_id, job_response)] = list(client.get_all_responses(SERVICE, receive_timeout_in_seconds=10))
    assert response_id == request_id
    assert job_response.actions[0].body == BODY


def test_the_original_server_returns_the_correlation_id_our_client_sends(connect: Connect) -> None:
    job_response = connect().call_actions(SERVICE, [{'action': 'echo', 'body': {}}], correlation_id='interop-corr-2')

    assert job_response.context['correlation_id'] == 'interop-corr-2'


@pytest.mark.parametrize('name', sorted(MSGPACK_ONLY_VALUES))
def test_the_original_server_decodes_each_msgpack_only_value_our_client_sends(connect: Connect, name: str) -> None:
    response = connect().call_action(SERVICE, 'describe', {'value': MSGPACK_ONLY_VALUES[name]})

    assert response.body == {'described': to_json(MSGPACK_ONLY_VALUES[name])}


@pytest.mark.parametrize('name', sorted(MSGPACK_ONLY_VALUES))
def test_our_client_decodes_each_msgpack_only_value_the_original_server_sends(connect: Connect, name: str) -> None:
    response = connect().call_action(SERVICE, 'make_value', {'name': name})

    # compared in tagged form, which tells apart types that compare equal (a naive and an aware datetime, say)
    assert to_json(response.body) == {'value': to_json(MSGPACK_ONLY_VALUES[name])}


@pytest.mark.parametrize('serializer', ['msgpack', 'json'])
def test_our_client_reassembles_a_large_response_the_original_server_sends_in_chunks(
    connect: Connect,
    redis_server: RedisServer,
    serializer: str,
) -> None:
    client = connect(Wire(3, serializer), peekable=True)
    client.send_request(SERVICE, [{'action': 'big', 'body': {'rows': BIG_ROWS}}])

    frames = wait_for_response_frames(redis_server)
    count = len(frames)
    assert count > 1
    assert all(frame.startswith(Wire(3, serializer).frame_prefix) for frame in frames)
    assert [chunk_headers(frame) for frame in frames] == [(count, i) for i in range(1, count + 1)]
    [(_, job_response)] = list(client.get_all_responses(SERVICE, receive_timeout_in_seconds=10))
    assert job_response.actions[0].body == big_body(BIG_ROWS)


def test_the_original_server_answers_a_protocol_2_client_with_a_job_error_when_the_response_would_need_chunks(
    connect: Connect,
) -> None:
    with pytest.raises(Client.CallJobError) as raised:
        connect(Wire(2, 'msgpack')).call_action(SERVICE, 'big', {'rows': BIG_ROWS})

    assert [(e.code, e.message, e.is_caller_error) for e in raised.value.errors] == [
        ('RESPONSE_TOO_LARGE', 'Could not send the response because it was too large', False),
    ]


def test_our_client_raises_the_action_errors_of_the_original_server_with_every_field(
    connect: Connect,
    wire: Wire,
) -> None:
    with pytest.raises(Client.CallActionError) as raised:
        connect(wire).call_action(SERVICE, 'fail_action')

    [action_response] = raised.value.actions
    assert (action_response.action, as_dicts(action_response.errors), action_response.body) == (
        'fail_action',
        ACTION_ERRORS,
        {},
    )


def test_our_client_raises_the_job_errors_of_the_original_server_with_every_field(connect: Connect, wire: Wire) -> None:
    with pytest.raises(Client.CallJobError) as raised:
        connect(wire).call_action(SERVICE, 'fail_job')

    assert as_dicts(raised.value.errors) == JOB_ERRORS


def test_a_request_of_our_client_that_expires_before_the_original_server_takes_it_times_out_and_never_runs(
    connect: Connect,
    original_python: str,
    redis_server: RedisServer,
) -> None:
    client = connect()
    with pytest.raises(MessageReceiveTimeout):
        client.call_action(LATE_SERVICE, 'count', timeout=1)
    # Still queued, so it is up to the server to see that it expired.
    assert queue_length(redis_server, request_queue(LATE_SERVICE)) == 1

    with original_server(original_python, redis_server.port, 'LateInteropServer'):
        response = client.call_action(LATE_SERVICE, 'count', timeout=10)

    assert response.body == {'runs': 1}
