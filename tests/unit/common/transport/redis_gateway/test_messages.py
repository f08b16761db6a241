"""
The I/O-free wire form of Redis gateway messages (``redis_gateway._messages``), which every Redis transport uses: the
frames of a request or a response (chunked when a server's setting asks for it), and a message read back from its
frames, chunked or not.
"""

import logging
import time
from typing import (
    Any,
    Dict,
)

import msgpack
import pytest

from pysoa.common._metrics import free_metrics
from pysoa.common.serializer.json_serializer import JSONSerializer
from pysoa.common.serializer.msgpack_serializer import MsgpackSerializer
from pysoa.common.transport.errors import (
    InvalidMessageError,
    MessageTooLarge,
)
from pysoa.common.transport.redis_gateway._framing import (
    build_chunk_frames,
    parse_frame,
)
from pysoa.common.transport.redis_gateway._messages import (
    ChunkedResponse,
    ExpiredMessageReceived,
    MessageDecoder,
    MessageEncoder,
    make_serializer,
)
from pysoa.common.transport.redis_gateway.constants import ProtocolVersion


PREFIX = 'client.transport.redis_gateway.'


def encoder(**settings: Any) -> MessageEncoder:
    options: Dict[str, Any] = {
        'serializer': MsgpackSerializer(),
        'protocol_version': ProtocolVersion.VERSION_3,
        'message_expiry_in_seconds': 60,
        'maximum_message_size_in_bytes': 102400,
        'log_messages_larger_than_bytes': 102400,
    }
    options.update(settings)
    return MessageEncoder('svc', free_metrics, PREFIX, **options)


def decoder() -> MessageDecoder:
    return MessageDecoder('svc', free_metrics, PREFIX, MsgpackSerializer())


# Requests -------------------------------------------------------------------------------------------------------------


def test_a_request_is_one_frame_of_the_protocol_version_holding_the_envelope() -> None:
    frames, _, expires_at = encoder().encode(7, {'reply_to': 'service.svc.abc!0'}, {'actions': []})

    (frame,) = frames
    assert frame.startswith(b'pysoa-redis/3//content-type:application/msgpack;')
    envelope = msgpack.unpackb(parse_frame(frame).payload, raw=False)
    assert (envelope['request_id'], envelope['body']) == (7, {'actions': []})
    assert envelope['meta']['reply_to'] == 'service.svc.abc!0'
    assert envelope['meta']['__expiry__'] == expires_at


def test_a_request_of_protocol_version_2_in_json_has_no_version_marker() -> None:
    (frame,), _, _ = encoder(protocol_version=ProtocolVersion.VERSION_2, serializer=JSONSerializer()).encode(1, {}, {})

    assert frame.startswith(b'content-type:application/json;{')


def test_a_request_expires_after_the_setting_and_its_queue_lives_as_long() -> None:
    before = time.time()
    _, redis_expiry, expires_at = encoder(message_expiry_in_seconds=60).encode(1, {}, {})

    assert before + 60 <= expires_at <= time.time() + 60
    assert redis_expiry == 60


def test_a_calls_own_expiry_replaces_the_setting_and_its_queue_lives_ten_seconds_longer() -> None:
    before = time.time()
    _, redis_expiry, expires_at = encoder().encode(1, {}, {}, message_expiry_in_seconds=5)

    assert before + 5 <= expires_at <= time.time() + 5
    assert redis_expiry == 15


def test_the_callers_meta_is_not_modified() -> None:
    meta = {'reply_to': 'service.svc.abc!0'}
    encoder().encode(1, meta, {})

    assert meta == {'reply_to': 'service.svc.abc!0'}


def test_a_request_without_id_raises_invalid_message_error() -> None:
    with pytest.raises(InvalidMessageError, match='No request ID'):
        encoder().encode(None, {}, {})  # type: ignore[arg-type]


def test_a_request_over_the_maximum_size_raises_message_too_large_with_its_size() -> None:
    with pytest.raises(MessageTooLarge) as raised:
        encoder(maximum_message_size_in_bytes=100).encode(1, {}, {'data': 'x' * 200})

    assert raised.value.message_size_in_bytes > 200


def test_a_large_request_is_logged_as_oversized(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger='pysoa.transport.oversized_message'):
        encoder(log_messages_larger_than_bytes=100).encode(1, {}, {'data': 'x' * 200})

    assert caplog.messages == ['Oversized message sent for PySOA service svc']


def test_the_default_serializer_is_msgpack() -> None:
    assert isinstance(make_serializer(None), MsgpackSerializer)


def test_the_serializer_setting_names_another_serializer() -> None:
    assert isinstance(make_serializer({'path': 'pysoa.common.serializer:JSONSerializer'}), JSONSerializer)


# Responses ------------------------------------------------------------------------------------------------------------


def response_frame(message: Dict[str, Any]) -> bytes:
    packed: bytes = msgpack.packb(message, use_bin_type=True)
    return b'pysoa-redis/3//content-type:application/msgpack;' + packed


def test_a_response_is_read_with_the_serializer_and_version_of_its_frame() -> None:
    frame = parse_frame(b'content-type:application/json;{"request_id": 3, "meta": {}, "body": {"ok": true}}')

    message = decoder().decode(frame, frame.payload)

    assert (message.request_id, message.body) == (3, {'ok': True})
    assert message.meta is not None
    assert (message.meta['protocol_version'], type(message.meta['serializer'])) == (
        ProtocolVersion.VERSION_2,
        JSONSerializer,
    )


def test_an_expired_response_raises_expired_message_received_with_its_request_id() -> None:
    frame = parse_frame(response_frame({'request_id': 9, 'meta': {'__expiry__': time.time() - 1}, 'body': {}}))

    with pytest.raises(ExpiredMessageReceived) as raised:
        decoder().decode(frame, frame.payload)

    assert raised.value.request_id == 9


def test_a_response_without_request_id_raises_invalid_message_error() -> None:
    frame = parse_frame(response_frame({'meta': {}, 'body': {}}))

    with pytest.raises(InvalidMessageError, match='No request ID for service svc'):
        decoder().decode(frame, frame.payload)


def test_a_response_that_cannot_be_deserialized_raises_invalid_message_error() -> None:
    frame = parse_frame(b'pysoa-redis/3//content-type:application/msgpack;\xc1\xc1')

    with pytest.raises(InvalidMessageError, match='Invalid message for service svc'):
        decoder().decode(frame, frame.payload)


def test_a_response_whose_meta_is_not_a_dict_raises_invalid_message_error() -> None:
    frame = parse_frame(response_frame({'request_id': 1, 'meta': [1], 'body': {}}))

    with pytest.raises(InvalidMessageError, match='Invalid message meta'):
        decoder().decode(frame, frame.payload)


# Chunked responses ----------------------------------------------------------------------------------------------------


def chunks(payload: bytes, count: int) -> list:  # type: ignore[type-arg]
    size = -(-len(payload) // count)
    return [parse_frame(f) for f in build_chunk_frames(ProtocolVersion.VERSION_3, 'application/msgpack', payload, size)]


def test_chunks_in_order_make_the_whole_payload() -> None:
    first, *rest = chunks(b'abcdefghij', 3)
    response = ChunkedResponse(first, 'svc')
    for chunk in rest:
        assert not response.complete
        response.add(chunk)

    assert (response.complete, response.payload) == (True, b'abcdefghij')


def test_a_response_must_start_with_its_first_chunk() -> None:
    _, second, _ = chunks(b'abcdefghij', 3)

    with pytest.raises(InvalidMessageError, match='with chunk ID 2 of 3 as its first chunk'):
        ChunkedResponse(second, 'svc')


def test_a_chunk_out_of_order_raises_invalid_message_error() -> None:
    first, _, third = chunks(b'abcdefghij', 3)
    response = ChunkedResponse(first, 'svc')

    with pytest.raises(InvalidMessageError, match='incorrect chunk ID 3 expected 2 of 3'):
        response.add(third)


def test_a_chunk_of_another_response_raises_invalid_message_error() -> None:
    first, _, _ = chunks(b'abcdefghij', 3)
    response = ChunkedResponse(first, 'svc')

    with pytest.raises(InvalidMessageError, match='different chunk count 2 expecting chunk 2 of 3'):
        response.add(chunks(b'klmnop', 2)[1])


def test_an_incomplete_response_names_the_missing_chunk() -> None:
    first, _, _ = chunks(b'abcdefghij', 3)

    error = ChunkedResponse(first, 'svc').incomplete_error(2)

    assert str(error) == 'Incomplete chunked response for service svc: chunk 2 of 3 did not arrive within 2 seconds'


def test_whole_messages_between_chunks_are_kept_in_order_for_later() -> None:
    first, second, third = build_chunk_frames(ProtocolVersion.VERSION_3, 'application/msgpack', b'abcdefghij', 4)
    whole = [response_frame({'request_id': 1, 'meta': {}, 'body': {}}), b'content-type:application/json;{}']
    response = ChunkedResponse(parse_frame(first), 'svc')

    for data in (whole[0], second, whole[1], third):
        response.take(data)

    assert (response.complete, response.payload) == (True, b'abcdefghij')
    assert response.between == whole


# Responses, as a server sends them ------------------------------------------------------------------------------------


def server_encoder(**settings: Any) -> MessageEncoder:
    options: Dict[str, Any] = {
        'serializer': MsgpackSerializer(),
        'protocol_version': ProtocolVersion.VERSION_3,
        'message_expiry_in_seconds': 60,
        'maximum_message_size_in_bytes': 10**6,
        'log_messages_larger_than_bytes': 10**6,
        'chunk_messages_larger_than_bytes': 102400,
        'is_server': True,
    }
    options.update(settings)
    return MessageEncoder('svc', free_metrics, 'server.transport.redis_gateway.', **options)


def test_a_response_over_the_chunk_threshold_is_sent_in_chunks_of_at_most_the_threshold() -> None:
    frames, _, _ = server_encoder().encode(1, {}, {'data': 'x' * 250000})

    chunks_sent = [parse_frame(frame) for frame in frames]
    assert [(c.headers[b'chunk-id'], c.headers[b'chunk-count']) for c in chunks_sent] == [
        (b'1', b'3'),
        (b'2', b'3'),
        (b'3', b'3'),
    ]
    assert all(len(c.payload) <= 102400 for c in chunks_sent)
    envelope = msgpack.unpackb(b''.join(c.payload for c in chunks_sent), raw=False)
    assert envelope['body'] == {'data': 'x' * 250000}


def test_a_response_is_framed_in_the_version_and_serializer_of_its_request() -> None:
    meta = {'protocol_version': ProtocolVersion.VERSION_2, 'serializer': JSONSerializer()}

    (frame,), _, _ = server_encoder().encode(1, meta, {})

    assert frame.startswith(b'content-type:application/json;{')


def test_a_client_encoder_never_chunks() -> None:
    frames, _, _ = encoder(maximum_message_size_in_bytes=10**6, chunk_messages_larger_than_bytes=102400).encode(
        1,
        {},
        {'data': 'x' * 250000},
    )

    assert len(frames) == 1


def test_a_reply_whose_request_id_cannot_be_serialized_raises_invalid_message_error() -> None:
    with pytest.raises(InvalidMessageError, match=r'^Cannot reply to a request whose request ID or meta cannot be '):
        server_encoder().encode(object(), {}, {})  # type: ignore[arg-type]


# Requests, as a server receives them ----------------------------------------------------------------------------------


def test_a_server_refuses_a_chunked_request() -> None:
    first = build_chunk_frames(ProtocolVersion.VERSION_3, 'application/msgpack', b'abcdefghij', 4)[0]

    with pytest.raises(InvalidMessageError, match=r'^Unsupported chunked request on server Redis backend$'):
        MessageDecoder('svc', free_metrics, PREFIX, MsgpackSerializer(), 100).request_payload(parse_frame(first))


def test_a_server_refuses_a_request_over_its_maximum_size_before_reading_it() -> None:
    frame = parse_frame(b'pysoa-redis/3//content-type:application/msgpack;' + b'\xc1' * 101)

    with pytest.raises(MessageTooLarge, match='Request of 101 bytes for service svc exceeds the maximum message size'):
        MessageDecoder('svc', free_metrics, PREFIX, MsgpackSerializer(), 100).request_payload(frame)
