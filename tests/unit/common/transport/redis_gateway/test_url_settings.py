"""
``settings_from_url``: the Redis transport settings of a ``redis://``, ``rediss://`` or ``redis+sentinel://`` URL,
for services and clients configured by their environment (``PYSOA_REDIS_URL``).
"""

from typing import (
    Any,
    Dict,
)

import pytest

from pysoa.client.settings import ClientSettings
from pysoa.common.transport.redis_gateway import settings_from_url
from pysoa.common.transport.redis_gateway.client import RedisClientTransport
from pysoa.common.transport.redis_gateway.server import RedisServerTransport
from pysoa.common.transport.redis_gateway.settings import (
    RedisClientTransportSchema,
    RedisServerTransportSchema,
)
from pysoa.common.transport.redis_gateway.url_settings import (
    RedisUrlError,
    client_transport_settings,
    redis_url_from_environment,
    server_transport_settings,
)
from pysoa.server.settings import ServerSettings


def backend_layer(url: str) -> Dict[str, Any]:
    settings = settings_from_url(url)
    layer: Dict[str, Any] = settings['backend_layer_kwargs']
    return layer


def test_a_redis_url_names_one_standard_redis() -> None:
    assert settings_from_url('redis://redis.internal:6380') == {
        'backend_type': 'redis.standard',
        'backend_layer_kwargs': {'hosts': [('redis.internal', 6380)], 'connection_kwargs': {}},
    }


def test_the_port_defaults_to_6379() -> None:
    assert backend_layer('redis://redis.internal')['hosts'] == [('redis.internal', 6379)]


def test_the_path_names_the_database() -> None:
    assert backend_layer('redis://redis.internal/3')['connection_kwargs'] == {'db': 3}


def test_a_bare_slash_names_no_database() -> None:
    assert backend_layer('redis://redis.internal/')['connection_kwargs'] == {}


def test_user_and_password_are_those_of_the_redis_connections() -> None:
    assert backend_layer('redis://my_service:s3cret@redis.internal')['connection_kwargs'] == {
        'username': 'my_service',
        'password': 's3cret',
    }


def test_a_password_without_user_name_is_a_password_alone() -> None:
    assert backend_layer('redis://:s3cret@redis.internal')['connection_kwargs'] == {'password': 's3cret'}


def test_credentials_are_percent_decoded() -> None:
    assert backend_layer('redis://us%40er:p%3Ass%40word@redis.internal')['connection_kwargs'] == {
        'username': 'us@er',
        'password': 'p:ss@word',
    }


def test_an_ipv6_host_is_written_in_brackets() -> None:
    assert backend_layer('redis://[::1]:6380')['hosts'] == [('::1', 6380)]


def test_a_rediss_url_connects_with_tls_and_checks_host_names() -> None:
    assert backend_layer('rediss://redis.internal:6380')['connection_kwargs'] == {
        'ssl': True,
        'ssl_check_hostname': True,
    }


def test_a_rediss_url_takes_certificate_files_and_the_host_name_check_as_parameters() -> None:
    connection_kwargs = backend_layer(
        'rediss://redis.internal?ssl_ca_certs=/etc/ca.pem&ssl_certfile=/etc/me.pem&ssl_keyfile=/etc/me.key'
        '&ssl_check_hostname=false',
    )['connection_kwargs']

    assert connection_kwargs == {
        'ssl': True,
        'ssl_check_hostname': False,
        'ssl_ca_certs': '/etc/ca.pem',
        'ssl_certfile': '/etc/me.pem',
        'ssl_keyfile': '/etc/me.key',
    }


def test_a_sentinel_url_lists_the_sentinels_with_their_default_port_26379() -> None:
    assert settings_from_url('redis+sentinel://sentinel-1,sentinel-2:26380,[::1]') == {
        'backend_type': 'redis.sentinel',
        'backend_layer_kwargs': {
            'hosts': [('sentinel-1', 26379), ('sentinel-2', 26380), ('::1', 26379)],
            'connection_kwargs': {},
        },
    }


def test_a_sentinel_url_names_its_services_in_order_and_the_database_and_credentials_of_the_masters() -> None:
    layer = backend_layer('redis+sentinel://:s3cret@sentinel-1/2?service=primary&service=secondary')

    assert layer['sentinel_services'] == ['primary', 'secondary']
    assert layer['connection_kwargs'] == {'password': 's3cret', 'db': 2}


def test_the_scheme_is_case_insensitive() -> None:
    assert settings_from_url('REDIS://redis.internal')['backend_type'] == 'redis.standard'


@pytest.mark.parametrize(
    ('url', 'message'),
    [
        ('redis.internal:6379', 'is not a Redis URL: write redis://'),
        ('http://redis.internal', 'Unsupported Redis URL scheme "http://"'),
        ('redis://', 'has no host'),
        ('redis://redis-1,redis-2', 'only redis+sentinel:// URLs can'),
        ('redis://redis.internal:63x9', 'invalid port "63x9"'),
        ('redis://redis.internal:0', 'invalid port "0"'),
        ('redis://redis.internal/one', 'the database is a number'),
        ('redis://redis.internal?ssl_ca_certs=/etc/ca.pem', 'for TLS, use rediss://'),
        ('rediss://redis.internal?service=primary', 'rediss:// URLs take ssl_ca_certs'),
        ('redis+sentinel://sentinel-1?ssl_certfile=/etc/me.pem', 'redis+sentinel:// URLs take service'),
        ('rediss://redis.internal?ssl_check_hostname=maybe', 'write true or false'),
        ('rediss://redis.internal?ssl_ca_certs=/a&ssl_ca_certs=/b', 'exactly one value'),
        ('redis://redis.internal#db', 'percent-encode "#"'),
    ],
)
def test_a_url_that_cannot_be_read_is_refused_saying_what_to_write(url: str, message: str) -> None:
    with pytest.raises(RedisUrlError) as error:
        settings_from_url(url)

    assert message in str(error.value)


@pytest.mark.parametrize(
    'url',
    [
        'redis://user:hunter2@redis.internal:6379/x',
        'redis://:hunter2@redis.internal?unknown=1',
        'user:hunter2@redis.internal',
        'redis://:hunter2@redis.internal:99999',
    ],
)
def test_an_error_never_shows_the_password(url: str) -> None:
    with pytest.raises(RedisUrlError) as error:
        settings_from_url(url)

    assert 'hunter2' not in str(error.value)
    assert '***' in str(error.value)


def test_the_url_is_read_from_pysoa_redis_url_in_the_environment() -> None:
    assert redis_url_from_environment({'PYSOA_REDIS_URL': 'redis://redis.internal'}) == 'redis://redis.internal'


def test_a_missing_environment_variable_says_which_to_set() -> None:
    with pytest.raises(RedisUrlError, match='Set the PYSOA_REDIS_URL environment variable'):
        redis_url_from_environment({})


def test_transport_settings_without_a_url_take_it_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('PYSOA_REDIS_URL', 'redis://redis.internal:6380')

    assert server_transport_settings()['kwargs'] == settings_from_url('redis://redis.internal:6380')
    assert client_transport_settings()['kwargs'] == settings_from_url('redis://redis.internal:6380')


@pytest.mark.parametrize(
    'url',
    [
        'redis://u:p@redis.internal:6380/1',
        'rediss://redis.internal?ssl_ca_certs=/etc/ca.pem',
        'redis+sentinel://sentinel-1,sentinel-2/1?service=primary',
    ],
)
def test_the_settings_pass_the_transport_settings_schemas(url: str) -> None:
    assert RedisClientTransportSchema.errors(settings_from_url(url)) == []
    assert RedisServerTransportSchema.errors(settings_from_url(url)) == []


def test_a_server_settings_transport_from_a_url_is_the_redis_server_transport() -> None:
    settings = ServerSettings({'transport': server_transport_settings('redis://redis.internal')})

    assert settings['transport']['object'] is RedisServerTransport


def test_a_client_settings_transport_from_a_url_is_the_redis_client_transport() -> None:
    settings = ClientSettings({'transport': client_transport_settings('redis://redis.internal')})

    assert settings['transport']['object'] is RedisClientTransport
