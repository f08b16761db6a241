"""
Malformed frames pushed straight onto real Redis queues: a server logs and drops each bad request and keeps
answering good ones; a client drops a bad response (including a chunk sequence that never completes) with a warning,
since it cannot tell which request it answered, and still receives the responses that follow.
"""

import json
import logging
from typing import (
    Callable,
    Dict,
    Iterator,
    List,
)

import pytest

from pysoa.common.transport.errors import (
    InvalidMessageError,
    MessageReceiveError,
    MessageReceiveTimeout,
    MessageSendError,
)
from pysoa.server.server import Server
from tests.redis.services import (
    REQUEST_QUEUE_KEY,
    SERVICE,
    V3_MSGPACK_PREFIX,
    RecordingMetricsRecorder,
    RedisTestServer,
    chunk_frames,
    client_transport,
    envelope,
    job_request,
    make_client,
    make_server,
    pack,
    reply_queue_key,
    response_envelope,
    serve_queued_requests,
    standard_kwargs,
    v3_frame,
)
from tests.support.redis_processes import RedisServer


NOBODY = f'service.{SERVICE}.{"0" * 32}!000000000001'  # a reply queue nobody reads
CLIENT_TRANSPORT_LOGGER = 'pysoa.common.transport.redis_gateway.client'


def _request() -> bytes:
    return pack(envelope(request_id=1, reply_to=NOBODY))


BAD_REQUESTS: Dict[str, Callable[[], List[bytes]]] = {
    'garbage_bytes': lambda: [b'\xc1\xc1\xc1 this is not a message'],
    'empty_frame': lambda: [b''],
    'unknown_protocol_version': lambda: [b'pysoa-redis/9//content-type:application/msgpack;' + _request()],
    'unknown_content_type_with_foreign_payload': lambda: [
        b'pysoa-redis/3//content-type:application/x-unknown;' + json.dumps(envelope(reply_to=NOBODY)).encode(),
    ],
    'json_content_type_with_msgpack_payload': lambda: [b'pysoa-redis/3//content-type:application/json;' + _request()],
    'not_a_map': lambda: [V3_MSGPACK_PREFIX + pack([1, 2, 3])],  # type: ignore[arg-type]
    'truncated_chunk_sequence': lambda: chunk_frames(_request(), 3, ids=[1, 2]),
    'complete_chunked_request': lambda: chunk_frames(_request(), 2),
    'interleaved_chunks_of_two_requests': lambda: [
        frame for pair in zip(chunk_frames(_request(), 2), chunk_frames(_request(), 2)) for frame in pair
    ],
    'no_request_id': lambda: [v3_frame(envelope(request_id=None, reply_to=NOBODY))],
    'meta_not_a_map': lambda: [v3_frame({'request_id': 1, 'meta': 'not a map', 'body': job_request(('echo', {}))})],
}


@pytest.fixture
def server(redis_server: RedisServer) -> Iterator[Server]:
    """A server of the test service, handling requests when the test says."""
    server = make_server(RedisTestServer, standard_kwargs(redis_server.port))
    yield server
    server.teardown()


# Bad requests -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize('bad_request', sorted(BAD_REQUESTS))
def test_server_drops_a_bad_request_and_answers_the_next_good_one(
    redis_server: RedisServer,
    server: Server,
    caplog: pytest.LogCaptureFixture,
    bad_request: str,
) -> None:
    frames = BAD_REQUESTS[bad_request]()
    client = make_client(standard_kwargs(redis_server.port), peekable=True)
    with redis_server.client() as connection:
        connection.rpush(REQUEST_QUEUE_KEY, *frames)
        future = client.call_action_future(SERVICE, 'echo', {'good': True}, timeout=10)

        with caplog.at_level(logging.ERROR, logger='pysoa.server'):
            assert serve_queued_requests(server, connection) == len(frames) + 1

        assert connection.keys('pysoa:*') == [reply_queue_key(client.handlers[SERVICE].transport).encode()]  # type: ignore
    assert future.result().body == {'good': True}
    dropped = [r for r in caplog.records if r.getMessage() == 'Dropping a request the transport could not read']
    assert len(dropped) == len(frames)
    assert all(isinstance(r.exc_info[1], InvalidMessageError) for r in dropped)  # type: ignore[index]


def test_server_reads_an_unknown_content_type_with_its_default_serializer(
    redis_server: RedisServer,
    server: Server,
) -> None:
    transport = client_transport(standard_kwargs(redis_server.port))
    with redis_server.client() as connection:
        connection.rpush(
            REQUEST_QUEUE_KEY,
            b'pysoa-redis/3//content-type:application/x-unknown;'
            + pack(
                envelope(request_id=4, reply_to=reply_queue_key(transport)[len('pysoa:') :]),
            ),
        )

        server.handle_next_request()

        assert connection.llen(reply_queue_key(transport)) == 1


def test_server_runs_a_job_without_reply_queue_and_keeps_serving(
    redis_server: RedisServer,
    server: Server,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = make_client(standard_kwargs(redis_server.port))
    with redis_server.client() as connection:
        connection.rpush(REQUEST_QUEUE_KEY, v3_frame(envelope(request_id=1, reply_to=None)))
        future = client.call_action_future(SERVICE, 'echo', {'good': True}, timeout=10)

        with caplog.at_level(logging.ERROR, logger='pysoa.server'):
            assert serve_queued_requests(server, connection) == 2

    assert future.result().body == {'good': True}
    [record] = [r for r in caplog.records if r.name == 'pysoa.server' and r.levelno >= logging.ERROR]
    assert isinstance(record.exc_info[1], InvalidMessageError)  # type: ignore[index]
    assert record.exc_info[1].args[0] == 'Missing reply queue name'  # type: ignore[index]
    metrics = server.metrics
    assert isinstance(metrics, RecordingMetricsRecorder)
    assert metrics.counter_total('server.transport.redis_gateway.send.error.missing_reply_queue') == 1


def test_request_queue_key_of_another_type_fails_sending_with_message_send_error(redis_server: RedisServer) -> None:
    metrics = RecordingMetricsRecorder()
    transport = client_transport(standard_kwargs(redis_server.port), metrics=metrics)
    with redis_server.client() as connection:
        connection.set(REQUEST_QUEUE_KEY, 'not a list')

    with pytest.raises(MessageSendError) as error_info:
        transport.send_request_message(1, {}, job_request(('echo', {})))

    assert error_info.value.args[0] == f'Redis error sending message for service {SERVICE}'
    assert 'WRONGTYPE' in str(error_info.value.args[1:])
    assert metrics.counter_total('client.transport.redis_gateway.send.error.response') == 1
    assert transport.requests_outstanding == 0


def test_request_queue_key_of_another_type_fails_receiving_with_message_receive_error(
    redis_server: RedisServer,
    server: Server,
) -> None:
    with redis_server.client() as connection:
        connection.set(REQUEST_QUEUE_KEY, 'not a list')

    with pytest.raises(MessageReceiveError) as error_info:
        server.transport.receive_request_message()

    assert error_info.value.args[:2] == (f'Unknown error receiving message for service {SERVICE}', 'ResponseError')
    metrics = server.metrics
    assert isinstance(metrics, RecordingMetricsRecorder)
    assert metrics.counter_total('server.transport.redis_gateway.receive.error.unknown') == 1


# Bad responses ------------------------------------------------------------------------------------------------------


def _response(request_id: int = 1) -> bytes:
    return pack(response_envelope(request_id, {'good': True}))


BAD_RESPONSES: Dict[str, Callable[[], List[bytes]]] = {
    'garbage_bytes': lambda: [b'\xc1\xc1\xc1 this is not a message'],
    'unknown_protocol_version': lambda: [b'pysoa-redis/9//content-type:application/msgpack;' + _response()],
    'unknown_content_type_with_foreign_payload': lambda: [
        b'pysoa-redis/3//content-type:application/x-unknown;' + json.dumps({'request_id': 1}).encode(),
    ],
    'no_request_id': lambda: [V3_MSGPACK_PREFIX + pack({'meta': {}, 'body': {}})],
    'interleaved_chunks_of_two_responses': lambda: [
        frame for pair in zip(chunk_frames(_response(1), 2), chunk_frames(_response(2), 2)) for frame in pair
    ],
    'interleaved_chunks_with_different_counts': lambda: [
        chunk_frames(_response(1), 2)[0],
        *chunk_frames(_response(2), 3),
    ],
    'chunk_sequence_not_starting_at_one': lambda: chunk_frames(_response(), 3, ids=[2, 3]),
    'first_chunk_without_chunk_id': lambda: [V3_MSGPACK_PREFIX + b'chunk-count:2;' + _response()],
    'later_chunk_without_chunk_count': lambda: [
        chunk_frames(_response(), 2)[0],
        V3_MSGPACK_PREFIX + b'chunk-id:2;' + _response()[100:],
    ],
    'chunk_count_not_a_number': lambda: [V3_MSGPACK_PREFIX + b'chunk-count:two;chunk-id:1;' + _response()],
}

BAD_RESPONSE_ERRORS = {
    'interleaved_chunks_of_two_responses': 'has incorrect chunk ID 1 expected 2 of 2',
    'interleaved_chunks_with_different_counts': 'has different chunk count 3 expecting chunk 2 of 2',
    'first_chunk_without_chunk_id': 'missing chunk ID',
    'later_chunk_without_chunk_count': 'missing chunk headers expecting chunk 2 of 2',
}


@pytest.mark.parametrize('bad_response', sorted(BAD_RESPONSES))
def test_client_drops_a_bad_response_with_a_warning_and_receives_the_next_one(
    redis_server: RedisServer,
    caplog: pytest.LogCaptureFixture,
    bad_response: str,
) -> None:
    metrics = RecordingMetricsRecorder()
    transport = client_transport(standard_kwargs(redis_server.port, receive_timeout_in_seconds=1), metrics=metrics)
    transport.send_request_message(1, {}, job_request(('echo', {})))
    with redis_server.client() as connection:
        connection.rpush(reply_queue_key(transport), *BAD_RESPONSES[bad_response](), V3_MSGPACK_PREFIX + _response(1))

    with caplog.at_level(logging.WARNING, logger=CLIENT_TRANSPORT_LOGGER):
        request_id, _meta, body = transport.receive_response_message()

    assert request_id == 1
    assert body['actions'][0]['body'] == {'good': True}  # type: ignore[index]
    warnings = [r.getMessage() for r in caplog.records if r.name == CLIENT_TRANSPORT_LOGGER]
    assert warnings
    assert all(w.startswith('Dropped an unreadable message from the reply queue') for w in warnings)
    assert BAD_RESPONSE_ERRORS.get(bad_response, '') in warnings[0]
    assert metrics.counter_total('client.transport.redis_gateway.receive.error.invalid_message') == len(warnings)
    assert transport.requests_outstanding == 0


def test_chunk_sequence_that_never_completes_is_dropped_and_the_receive_times_out(
    redis_server: RedisServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    transport = client_transport(standard_kwargs(redis_server.port, receive_timeout_in_seconds=1))
    transport.send_request_message(1, {}, job_request(('echo', {})))
    with redis_server.client() as connection:
        connection.rpush(reply_queue_key(transport), *chunk_frames(_response(), 3, ids=[1, 2]))

    with caplog.at_level(logging.WARNING, logger=CLIENT_TRANSPORT_LOGGER), pytest.raises(MessageReceiveTimeout):
        transport.receive_response_message()

    [warning] = [r.getMessage() for r in caplog.records if r.name == CLIENT_TRANSPORT_LOGGER]
    assert 'chunk 3 of 3 did not arrive' in warning
    assert transport.requests_outstanding == 1  # nothing says which request the chunks answered


def test_client_receives_a_good_response_after_a_bad_one(redis_server: RedisServer) -> None:
    transport = client_transport(standard_kwargs(redis_server.port, receive_timeout_in_seconds=1))
    for sent_id in (1, 2):
        transport.send_request_message(sent_id, {}, job_request(('echo', {})))
    with redis_server.client() as connection:
        connection.rpush(reply_queue_key(transport), b'\xc1 garbage', V3_MSGPACK_PREFIX + _response(2))

    request_id, _meta, body = transport.receive_response_message()

    assert request_id == 2
    assert body['actions'][0]['body'] == {'good': True}  # type: ignore[index]
    assert transport.requests_outstanding == 1


def test_bad_response_leaves_the_calling_future_to_time_out(redis_server: RedisServer) -> None:
    client = make_client(standard_kwargs(redis_server.port, receive_timeout_in_seconds=1))
    future = client.call_action_future(SERVICE, 'echo', {})
    with redis_server.client() as connection:
        connection.rpush(
            reply_queue_key(client.handlers[SERVICE].transport),  # type: ignore[arg-type]
            b'pysoa-redis/9//content-type:application/msgpack;' + _response(),
        )

    with pytest.raises(MessageReceiveTimeout):
        future.result()


def test_response_that_is_not_a_job_response_fails_its_future_with_invalid_message_error(
    redis_server: RedisServer,
) -> None:
    client = make_client(standard_kwargs(redis_server.port, receive_timeout_in_seconds=1))
    future = client.call_action_future(SERVICE, 'echo', {})
    request_id = client.handlers[SERVICE].request_counter - 1
    with redis_server.client() as connection:
        connection.rpush(
            reply_queue_key(client.handlers[SERVICE].transport),  # type: ignore[arg-type]
            v3_frame({'request_id': request_id, 'meta': {}, 'body': {'not': 'a job response'}}),
        )

    with pytest.raises(InvalidMessageError, match=f'invalid job response to request {request_id}'):
        future.result()
