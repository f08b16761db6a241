"""Protocol versions, protocol features and size constants of the Redis gateway transport."""

import pytest

from pysoa.common.transport.redis_gateway.constants import (
    DEFAULT_MAXIMUM_MESSAGE_BYTES_CLIENT,
    DEFAULT_MAXIMUM_MESSAGE_BYTES_SERVER,
    MINIMUM_CHUNKED_MESSAGE_BYTES,
    REDIS_BACKEND_TYPES,
    ProtocolFeature,
    ProtocolVersion,
)


def test_protocol_versions_are_the_integers_1_to_3() -> None:
    assert [int(v) for v in ProtocolVersion] == [1, 2, 3]
    assert ProtocolVersion(3) is ProtocolVersion.VERSION_3
    assert ProtocolVersion.VERSION_2 < ProtocolVersion.VERSION_3


@pytest.mark.parametrize('version', list(ProtocolVersion))
def test_version_prefix_names_the_version_number(version: ProtocolVersion) -> None:
    assert version.prefix == b'pysoa-redis/%d//' % int(version)


@pytest.mark.parametrize(
    ('data', 'version', 'rest'),
    [
        (b'pysoa-redis/3//content-type:json;{}', ProtocolVersion.VERSION_3, b'content-type:json;{}'),
        (b'pysoa-redis/2//content-type:x;', ProtocolVersion.VERSION_2, b'content-type:x;'),
        (b'pysoa-redis/1//\x80', ProtocolVersion.VERSION_1, b'\x80'),
        (b'content-type:application/msgpack;\x80', ProtocolVersion.VERSION_2, b'content-type:application/msgpack;\x80'),
        (b'\x83\xa4meta\x80', ProtocolVersion.VERSION_1, b'\x83\xa4meta\x80'),
        (b'', ProtocolVersion.VERSION_1, b''),
    ],
)
def test_extract_version_reads_the_version_marker_or_infers_the_version(
    data: bytes,
    version: ProtocolVersion,
    rest: bytes,
) -> None:
    assert ProtocolVersion.extract_version(data) == (version, rest)


def test_extract_version_takes_the_message_data_by_keyword() -> None:
    assert ProtocolVersion.extract_version(message_data=b'pysoa-redis/3//content-type:json;') == (
        ProtocolVersion.VERSION_3,
        b'content-type:json;',
    )


def test_extract_version_of_an_unknown_version_raises_value_error() -> None:
    with pytest.raises(ValueError):
        ProtocolVersion.extract_version(b'pysoa-redis/9//content-type:application/msgpack;')


@pytest.mark.parametrize(
    ('feature', 'first_version'),
    [
        (ProtocolFeature.CONTENT_TYPE_HEADER, 2),
        (ProtocolFeature.VERSION_MARKER, 3),
        (ProtocolFeature.CHUNKED_RESPONSES, 3),
    ],
)
def test_features_are_supported_from_the_version_that_introduced_them(
    feature: ProtocolFeature,
    first_version: int,
) -> None:
    assert [feature.supported_in(v) for v in ProtocolVersion] == [int(v) >= first_version for v in ProtocolVersion]


def test_size_constants() -> None:
    assert DEFAULT_MAXIMUM_MESSAGE_BYTES_CLIENT == 102400
    assert DEFAULT_MAXIMUM_MESSAGE_BYTES_SERVER == 256000
    assert MINIMUM_CHUNKED_MESSAGE_BYTES == 102400


def test_backend_types() -> None:
    assert set(REDIS_BACKEND_TYPES) == {'redis.standard', 'redis.sentinel'}
