"""
The Redis gateway wire protocol against real Redis: frames of protocol versions 1, 2 and 3 as they sit on the
queues, the envelope's meta, answers in the request's version and content type, and chunked responses (including
many chunked responses to one client at once).
"""

import json
import math
from typing import (
    Any,
    Dict,
    Iterator,
    List,
    cast,
)

import msgpack
import pytest

from pysoa.client.errors import CallJobError
from pysoa.common.transport.base import get_hex_thread_id
from pysoa.common.types import ActionResponse
from pysoa.server.server import Server
from tests.redis.services import (
    OTHER_SERVER_CLASS_PATH,
    OTHER_SERVICE,
    REQUEST_QUEUE_KEY,
    SERVICE,
    V3_MSGPACK_PREFIX,
    RedisTestServer,
    chunk_frames,
    client_transport,
    job_request,
    make_client,
    make_server,
    pack,
    reply_queue_key,
    response_envelope,
    server_settings,
    standard_kwargs,
)
from tests.support.redis_processes import RedisServer
from tests.support.server_runner import ServerProcess


JSON_SERIALIZER = {'path': 'pysoa.common.serializer:JSONSerializer'}

PREFIXES = {
    (1, 'msgpack'): b'',
    (2, 'msgpack'): b'content-type:application/msgpack;',
    (2, 'json'): b'content-type:application/json;',
    (3, 'msgpack'): b'pysoa-redis/3//content-type:application/msgpack;',
    (3, 'json'): b'pysoa-redis/3//content-type:application/json;',
}

CHUNK_SIZE = 102400
CHUNKING = {
    'chunk_messages_larger_than_bytes': CHUNK_SIZE,
    'maximum_message_size_in_bytes': 5 * CHUNK_SIZE * 2,
    'log_messages_larger_than_bytes': 0,
}


def _unpack(payload: bytes, serializer: str) -> Dict[str, Any]:
    if serializer == 'json':
        result: Dict[str, Any] = json.loads(payload.decode('utf-8'))
    else:
        result = msgpack.unpackb(payload, raw=False)
    return result


def _client_kwargs(port: int, version: int, serializer: str) -> Dict[str, Any]:
    kwargs = standard_kwargs(port, protocol_version=version)
    if serializer == 'json':
        kwargs['default_serializer_config'] = JSON_SERIALIZER
    return kwargs


@pytest.fixture
def server(redis_server: RedisServer) -> Iterator[Server]:
    """A MessagePack-default server of the test service, handling requests when the test says."""
    server = make_server(RedisTestServer, standard_kwargs(redis_server.port))
    yield server
    server.teardown()


@pytest.fixture
def chunking_server(redis_server: RedisServer) -> Iterator[Server]:
    """A server of the test service that chunks responses above 100KB, handling requests when the test says."""
    server = make_server(RedisTestServer, standard_kwargs(redis_server.port, **CHUNKING))
    yield server
    server.teardown()


# Request frames -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(('version', 'serializer'), sorted(PREFIXES))
def test_request_frame_starts_with_the_prefix_of_the_protocol_version(
    redis_server: RedisServer,
    version: int,
    serializer: str,
) -> None:
    transport = client_transport(_client_kwargs(redis_server.port, version, serializer))
    body = job_request(('echo', {'version': version}))

    transport.send_request_message(17, {}, body)

    with redis_server.client() as connection:
        [frame] = connection.lrange(REQUEST_QUEUE_KEY, 0, -1)
    prefix = PREFIXES[(version, serializer)]
    assert frame.startswith(prefix)
    message = _unpack(frame[len(prefix) :], serializer)
    assert message['request_id'] == 17
    assert message['body'] == body


def test_version_1_request_frame_is_the_bare_msgpack_envelope(redis_server: RedisServer) -> None:
    transport = client_transport(standard_kwargs(redis_server.port, protocol_version=1))

    transport.send_request_message(3, {}, job_request(('echo', {})))

    with redis_server.client() as connection:
        [frame] = connection.lrange(REQUEST_QUEUE_KEY, 0, -1)
    assert set(msgpack.unpackb(frame, raw=False)) == {'request_id', 'meta', 'body'}


def test_request_meta_carries_client_version_reply_to_and_expiry(redis_server: RedisServer) -> None:
    client = make_client(standard_kwargs(redis_server.port))

    client.call_action_future(SERVICE, 'echo', {})

    with redis_server.client() as connection:
        [frame] = connection.lrange(REQUEST_QUEUE_KEY, 0, -1)
    meta = msgpack.unpackb(frame[len(V3_MSGPACK_PREFIX) :], raw=False)['meta']
    transport = client.handlers[SERVICE].transport
    assert set(meta) == {'client_version', 'reply_to', '__expiry__'}
    assert len(meta['client_version']) == 3
    assert all(isinstance(part, int) for part in meta['client_version'])
    assert meta['client_version'] >= [0, 70, 0]
    assert meta['reply_to'] == f'service.{SERVICE}.{transport.client_id}!{get_hex_thread_id()}'  # type: ignore
    assert isinstance(meta['__expiry__'], float)


# Answers in the request's version and content type ------------------------------------------------------------------


@pytest.mark.parametrize(('version', 'serializer'), sorted(PREFIXES))
def test_server_answers_in_the_version_and_content_type_of_the_request(
    redis_server: RedisServer,
    server: Server,
    version: int,
    serializer: str,
) -> None:
    client = make_client(_client_kwargs(redis_server.port, version, serializer), peekable=True)
    future = client.call_action_future(SERVICE, 'echo', {'asked_in': [version, serializer]}, timeout=10)

    server.handle_next_request()

    with redis_server.client() as connection:
        [frame] = connection.lrange(reply_queue_key(client.handlers[SERVICE].transport), 0, -1)  # type: ignore
    prefix = PREFIXES[(version, serializer)]
    assert frame.startswith(prefix)
    response = _unpack(frame[len(prefix) :], serializer)
    assert response['body']['actions'][0]['body'] == {'asked_in': [version, serializer]}
    assert future.result().body == {'asked_in': [version, serializer]}


def test_response_meta_echoes_the_request_meta_with_a_fresh_expiry(redis_server: RedisServer, server: Server) -> None:
    transport = client_transport(standard_kwargs(redis_server.port), peekable=True)
    request_meta = {'client_version': [1, 4, 9], 'custom': 'kept'}
    transport.send_request_message(5, request_meta, job_request(('echo', {})))
    with redis_server.client() as connection:
        [request_frame] = connection.lrange(REQUEST_QUEUE_KEY, 0, -1)
        request_expiry = msgpack.unpackb(request_frame[len(V3_MSGPACK_PREFIX) :], raw=False)['meta']['__expiry__']

        server.handle_next_request()

        [frame] = connection.lrange(reply_queue_key(transport), 0, -1)
    meta = msgpack.unpackb(frame[len(V3_MSGPACK_PREFIX) :], raw=False)['meta']
    assert meta['client_version'] == [1, 4, 9]
    assert meta['custom'] == 'kept'
    assert meta['reply_to'] == reply_queue_key(transport)[len('pysoa:') :]
    assert meta['__expiry__'] > request_expiry
    assert 'serializer' not in meta
    assert 'protocol_version' not in meta


# Chunked responses --------------------------------------------------------------------------------------------------


def test_large_response_to_a_version_3_client_is_pushed_as_chunk_frames(
    redis_server: RedisServer,
    chunking_server: Server,
) -> None:
    transport = client_transport(standard_kwargs(redis_server.port), peekable=True)
    transport.send_request_message(9, {}, job_request(('big', {'size': 300000})))

    chunking_server.handle_next_request()

    with redis_server.client() as connection:
        frames = connection.lrange(reply_queue_key(transport), 0, -1)
    payloads = []
    for chunk_id, frame in enumerate(frames, start=1):
        headers = V3_MSGPACK_PREFIX + b'chunk-count:%d;chunk-id:%d;' % (len(frames), chunk_id)
        assert frame.startswith(headers)
        payloads.append(frame[len(headers) :])
    payload = b''.join(payloads)
    assert len(frames) == math.ceil(len(payload) / CHUNK_SIZE) >= 3
    assert all(len(p) == CHUNK_SIZE for p in payloads[:-1])
    response = msgpack.unpackb(payload, raw=False)
    assert response['body']['actions'][0]['body'] == {'data': 'x' * 300000}


def test_chunked_response_arrives_whole_for_a_version_3_client(
    redis_server: RedisServer,
    chunking_server: Server,
) -> None:
    client = make_client(standard_kwargs(redis_server.port))
    future = client.call_action_future(SERVICE, 'big', {'size': 300000, 'letter': 'q'}, timeout=10)

    chunking_server.handle_next_request()

    assert future.result().body == {'data': 'q' * 300000}


def test_version_2_client_gets_response_too_large_instead_of_a_chunked_response(
    redis_server: RedisServer,
    chunking_server: Server,
) -> None:
    client = make_client(standard_kwargs(redis_server.port, protocol_version=2))
    future = client.call_action_future(SERVICE, 'big', {'size': 300000}, timeout=10)

    chunking_server.handle_next_request()

    with pytest.raises(CallJobError) as error_info:
        future.result()
    assert [e.code for e in error_info.value.errors] == ['RESPONSE_TOO_LARGE']


def test_response_below_the_chunk_threshold_is_one_frame(redis_server: RedisServer, chunking_server: Server) -> None:
    transport = client_transport(standard_kwargs(redis_server.port), peekable=True)
    transport.send_request_message(9, {}, job_request(('big', {'size': 50000})))

    chunking_server.handle_next_request()

    with redis_server.client() as connection:
        [frame] = connection.lrange(reply_queue_key(transport), 0, -1)
    assert b'chunk-count' not in frame[:100]


def test_whole_response_pushed_between_chunks_is_received_after_the_chunked_one(redis_server: RedisServer) -> None:
    transport = client_transport(standard_kwargs(redis_server.port, receive_timeout_in_seconds=2))
    for request_id in (1, 2):
        transport.send_request_message(request_id, {}, job_request(('echo', {})))
    chunked = pack(response_envelope(1, {'data': 'c' * 1000}))
    first, second = chunk_frames(chunked, 2)
    whole = V3_MSGPACK_PREFIX + pack(response_envelope(2, {'whole': True}))
    with redis_server.client() as connection:
        connection.rpush(reply_queue_key(transport), first, whole, second)

    received = [transport.receive_response_message() for _ in range(2)]

    assert [(r.request_id, r.body['actions'][0]['body']) for r in received] == [  # type: ignore
        (1, {'data': 'c' * 1000}),
        (2, {'whole': True}),
    ]
    assert transport.requests_outstanding == 0


# Many chunked responses to one client at once (FIX 1) -------------------------------------------------------------


@pytest.fixture(scope='module')
def chunking_server_processes(redis_session_server: RedisServer) -> Iterator[List[ServerProcess]]:
    """Three server processes of the other service, answering concurrently with chunked responses."""
    settings = server_settings(standard_kwargs(redis_session_server.port, **CHUNKING))
    processes = [ServerProcess(OTHER_SERVER_CLASS_PATH, settings) for _ in range(3)]
    for process in processes:
        process.start()
    yield processes
    for process in processes:
        process.stop()


def test_parallel_calls_all_receive_their_chunked_responses(
    redis_server: RedisServer,
    chunking_server_processes: List[ServerProcess],
) -> None:
    client = make_client(standard_kwargs(redis_server.port), services=(OTHER_SERVICE,))
    letters = [chr(ord('a') + i) for i in range(20)]

    responses = cast(
        List[ActionResponse],
        list(
            client.call_actions_parallel(
                OTHER_SERVICE,
                [{'action': 'big', 'body': {'size': 300000, 'letter': letter}} for letter in letters],
                timeout=30,
            )
        ),
    )

    assert [r.body['data'] for r in responses] == [letter * 300000 for letter in letters]


def test_concurrent_futures_all_receive_their_chunked_responses(
    redis_server: RedisServer,
    chunking_server_processes: List[ServerProcess],
) -> None:
    client = make_client(standard_kwargs(redis_server.port), services=(OTHER_SERVICE,))
    letters = [chr(ord('A') + i) for i in range(20)]
    futures = [
        client.call_action_future(OTHER_SERVICE, 'big', {'size': 300000, 'letter': letter}, timeout=30)
        for letter in letters
    ]

    results = [future.result().body['data'] for future in futures]

    assert results == [letter * 300000 for letter in letters]
