"""Building and parsing the frames (version marker, headers, payload) that travel on Redis lists."""

import pytest

from pysoa.common.transport.errors import InvalidMessageError
from pysoa.common.transport.redis_gateway._framing import (
    build_chunk_frames,
    build_frame_prefix,
    parse_frame,
)
from pysoa.common.transport.redis_gateway.constants import ProtocolVersion


V1, V2, V3 = ProtocolVersion.VERSION_1, ProtocolVersion.VERSION_2, ProtocolVersion.VERSION_3


# Building -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ('version', 'mime_type', 'prefix'),
    [
        (V1, 'application/msgpack', b''),
        (V2, 'application/msgpack', b'content-type:application/msgpack;'),
        (V2, 'application/json', b'content-type:application/json;'),
        (V3, 'application/msgpack', b'pysoa-redis/3//content-type:application/msgpack;'),
        (V3, 'application/json', b'pysoa-redis/3//content-type:application/json;'),
    ],
)
def test_frame_prefix_of_each_version(version: ProtocolVersion, mime_type: str, prefix: bytes) -> None:
    assert build_frame_prefix(version, mime_type) == prefix


def test_chunk_frames_repeat_the_prefix_and_number_the_chunks_from_one() -> None:
    frames = build_chunk_frames(V3, 'application/msgpack', b'abcdefghij', 4)

    assert frames == [
        b'pysoa-redis/3//content-type:application/msgpack;chunk-count:3;chunk-id:1;abcd',
        b'pysoa-redis/3//content-type:application/msgpack;chunk-count:3;chunk-id:2;efgh',
        b'pysoa-redis/3//content-type:application/msgpack;chunk-count:3;chunk-id:3;ij',
    ]


def test_payload_of_an_exact_multiple_of_the_chunk_size_has_no_empty_chunk() -> None:
    frames = build_chunk_frames(V3, 'application/json', b'x' * 12, 4)

    assert len(frames) == 3
    assert frames[-1].endswith(b'chunk-count:3;chunk-id:3;xxxx')


# Parsing ------------------------------------------------------------------------------------------------------------


def test_version_3_frame_is_parsed_into_version_headers_and_payload() -> None:
    frame = parse_frame(b'pysoa-redis/3//content-type:application/json;{"a": 1}')

    assert frame.version == V3
    assert frame.headers == {b'content-type': b'application/json'}
    assert frame.content_type == 'application/json'
    assert frame.payload == b'{"a": 1}'


def test_version_2_frame_is_recognised_by_its_content_type_header() -> None:
    frame = parse_frame(b'content-type:application/msgpack;\x81\xa1a\x01')

    assert frame.version == V2
    assert frame.content_type == 'application/msgpack'
    assert frame.payload == b'\x81\xa1a\x01'


def test_version_1_frame_is_all_payload() -> None:
    frame = parse_frame(b'\x81\xa1a\x01')

    assert frame.version == V1
    assert frame.headers == {}
    assert frame.content_type is None
    assert frame.payload == b'\x81\xa1a\x01'


def test_chunk_headers_are_parsed() -> None:
    frame = parse_frame(b'pysoa-redis/3//content-type:application/msgpack;chunk-count:12;chunk-id:7;data')

    assert frame.headers == {
        b'content-type': b'application/msgpack',
        b'chunk-count': b'12',
        b'chunk-id': b'7',
    }
    assert frame.payload == b'data'


def test_whitespace_around_header_parts_is_allowed() -> None:
    frame = parse_frame(b'pysoa-redis/3// content-type : application/json ; chunk-id:\t2;{}')

    assert frame.headers == {b'content-type': b'application/json', b'chunk-id': b'2'}
    assert frame.payload == b'{}'


@pytest.mark.parametrize(
    ('rest', 'headers', 'payload'),
    [
        pytest.param(b'\x81\xa1a\x01', {}, b'\x81\xa1a\x01', id='a whole message'),
        pytest.param(b'', {}, b'', id='no payload'),
        pytest.param(b' chunk-count:2;chunk-id:1;x', {b'chunk-count': b'2', b'chunk-id': b'1'}, b'x', id='space'),
        pytest.param(b'\tchunk-id:2;x', {b'chunk-id': b'2'}, b'x', id='tab'),
        pytest.param(b'content-type:application/json;{}', {}, b'{}', id='content type again'),
        pytest.param(b'  \x81', {}, b'  \x81', id='whitespace then no header'),
    ],
)
def test_a_version_3_messagepack_frame_has_the_headers_that_follow_its_content_type(
    rest: bytes,
    headers: dict,  # type: ignore[type-arg]
    payload: bytes,
) -> None:
    frame = parse_frame(b'pysoa-redis/3//content-type:application/msgpack;' + rest)

    expected_type = b'application/json' if rest.startswith(b'content-type') else b'application/msgpack'
    assert (frame.version, frame.headers, frame.payload) == (V3, {b'content-type': expected_type, **headers}, payload)


def test_whitespace_after_the_last_header_belongs_to_the_payload() -> None:
    assert parse_frame(b'pysoa-redis/3//content-type:application/json;  {}').payload == b'  {}'


def test_unknown_header_names_are_left_in_the_payload() -> None:
    frame = parse_frame(b'pysoa-redis/3//content-type:application/json;x-custom:1;{}')

    assert frame.headers == {b'content-type': b'application/json'}
    assert frame.payload == b'x-custom:1;{}'


def test_version_3_frame_without_headers_has_the_whole_rest_as_payload() -> None:
    frame = parse_frame(b'pysoa-redis/3//\x80')

    assert frame.version == V3
    assert frame.headers == {}
    assert frame.payload == b'\x80'


def test_unknown_protocol_version_raises_invalid_message_error() -> None:
    with pytest.raises(InvalidMessageError, match='9'):
        parse_frame(b'pysoa-redis/9//content-type:application/msgpack;\x80')


def test_built_chunk_frames_parse_back_into_the_payload() -> None:
    payload = bytes(range(256)) * 10
    frames = [parse_frame(f) for f in build_chunk_frames(V3, 'application/msgpack', payload, 1000)]

    assert [f.headers[b'chunk-id'] for f in frames] == [b'1', b'2', b'3']
    assert {f.headers[b'chunk-count'] for f in frames} == {b'3'}
    assert b''.join(f.payload for f in frames) == payload
