"""
Redis over TLS configured as PySOA 1.4.9 services configure it: naming certificate files in ``connection_kwargs``
switches TLS on (for the standard and the Sentinel backend alike), and certificates that do not name the host are
accepted unless ``ssl_check_hostname`` asks for the check. A failed Sentinel discovery says why it failed.
"""

from typing import (
    Any,
    Dict,
    Iterator,
)

import pytest
from redis.backoff import NoBackoff
from redis.retry import Retry

from pysoa.common.transport.errors import MessageSendError
from pysoa.common.transport.redis_gateway.backend.sentinel import SentinelRedisClient
from tests.redis.services import (
    REQUEST_QUEUE_KEY,
    client_transport,
    job_request,
    sentinel_kwargs,
    standard_kwargs,
)
from tests.support.redis_processes import (
    RedisServer,
    TlsFiles,
    free_port,
    make_tls_files,
    wait_for,
)


SENTINEL_SERVICE = 'pysoa-tls-master'


@pytest.fixture(scope='module')
def nameless_tls_files(tmp_path_factory: pytest.TempPathFactory, tls_files: TlsFiles) -> TlsFiles:
    """A server certificate from the test CA that names no host at all."""
    return make_tls_files(tmp_path_factory.mktemp('tls-nameless'), subject_alt_names=None, authority=tls_files)


def _tls_directives(files: TlsFiles) -> list:  # type: ignore[type-arg]
    return [
        f'tls-cert-file {files.server_certificate}',
        f'tls-key-file {files.server_key}',
        f'tls-ca-cert-file {files.ca_certificate}',
        'tls-auth-clients no',
    ]


@pytest.fixture(scope='module')
def nameless_tls_redis(tmp_path_factory: pytest.TempPathFactory, nameless_tls_files: TlsFiles) -> Iterator[RedisServer]:
    """A TLS-only Redis whose certificate names no host."""
    port = free_port()
    server = RedisServer(
        tmp_path_factory.mktemp('redis-tls-nameless'),
        0,
        [f'tls-port {port}', *_tls_directives(nameless_tls_files)],
        ping_kwargs={
            'host': '127.0.0.1',
            'port': port,
            'ssl': True,
            'ssl_check_hostname': False,
            'ssl_ca_certs': str(nameless_tls_files.ca_certificate),
        },
    )
    server.tls_port = port
    yield server.start()
    server.stop()


@pytest.fixture(scope='module')
def tls_master_sentinel(
    tmp_path_factory: pytest.TempPathFactory,
    nameless_tls_redis: RedisServer,
    nameless_tls_files: TlsFiles,
) -> Iterator[RedisServer]:
    """A (plain TCP) Sentinel that monitors the TLS-only Redis as the master of ``SENTINEL_SERVICE``."""
    sentinel = RedisServer(
        tmp_path_factory.mktemp('sentinel-tls-master'),
        free_port(),
        [
            'tls-replication yes',
            *_tls_directives(nameless_tls_files),
            'sentinel resolve-hostnames no',
            f'sentinel monitor {SENTINEL_SERVICE} 127.0.0.1 {nameless_tls_redis.tls_port} 1',
        ],
        sentinel=True,
    ).start()
    with sentinel.client() as client:
        wait_for(
            lambda: client.sentinel_master(SENTINEL_SERVICE).get('role-reported') == 'master',
            15,
            'the Sentinel to reach its TLS master',
        )
    yield sentinel
    sentinel.stop()


def _certificate_kwargs(files: TlsFiles, **extra: Any) -> Dict[str, Any]:
    """1.4.9-style TLS settings: certificate files, and no ``ssl`` key."""
    return dict(
        {
            'ssl_certfile': str(files.server_certificate),
            'ssl_keyfile': str(files.server_key),
            'ssl_ca_certs': str(files.ca_certificate),
        },
        **extra,
    )


def _standard_transport_kwargs(server: RedisServer, connection_kwargs: Dict[str, Any]) -> Dict[str, Any]:
    assert server.tls_port is not None
    kwargs = standard_kwargs(server.tls_port)
    kwargs['backend_layer_kwargs']['connection_kwargs'] = dict(
        connection_kwargs,
        retry=Retry(NoBackoff(), 0),
        socket_timeout=5,
    )
    return kwargs


def _request_arrives(server: RedisServer, transport_kwargs: Dict[str, Any]) -> bool:
    with server.client() as connection:
        connection.delete(REQUEST_QUEUE_KEY)
        client_transport(transport_kwargs).send_request_message(1, {}, job_request(('echo', {})))
        return bool(connection.llen(REQUEST_QUEUE_KEY) == 1)


def test_certificate_files_switch_the_standard_backend_to_tls_without_ssl_true(
    tls_acl_redis_server: RedisServer,
    tls_files: TlsFiles,
) -> None:
    from tests.redis.conftest import TLS_PASSWORD, TLS_USER

    kwargs = _standard_transport_kwargs(
        tls_acl_redis_server,
        _certificate_kwargs(tls_files, username=TLS_USER, password=TLS_PASSWORD),
    )

    assert _request_arrives(tls_acl_redis_server, kwargs)


def test_host_names_are_not_checked_by_default(nameless_tls_redis: RedisServer, nameless_tls_files: TlsFiles) -> None:
    kwargs = _standard_transport_kwargs(nameless_tls_redis, _certificate_kwargs(nameless_tls_files))

    assert _request_arrives(nameless_tls_redis, kwargs)


def test_ssl_check_hostname_refuses_a_certificate_that_does_not_name_the_host(
    nameless_tls_redis: RedisServer,
    nameless_tls_files: TlsFiles,
) -> None:
    kwargs = _standard_transport_kwargs(
        nameless_tls_redis,
        _certificate_kwargs(nameless_tls_files, ssl_check_hostname=True),
    )

    with pytest.raises(MessageSendError, match=r'(?i)hostname|IP address mismatch'):
        client_transport(kwargs).send_request_message(1, {}, job_request(('echo', {})))


def test_ssl_false_keeps_a_plain_connection_even_with_certificate_files(
    redis_server: RedisServer,
    tls_files: TlsFiles,
) -> None:
    kwargs = standard_kwargs(redis_server.port)
    kwargs['backend_layer_kwargs']['connection_kwargs'] = _certificate_kwargs(tls_files, ssl=False)

    with redis_server.client() as connection:
        client_transport(kwargs).send_request_message(1, {}, job_request(('echo', {})))
        assert connection.llen(REQUEST_QUEUE_KEY) == 1


def test_certificate_files_switch_the_sentinel_backend_masters_to_tls(
    tls_master_sentinel: RedisServer,
    nameless_tls_redis: RedisServer,
    nameless_tls_files: TlsFiles,
) -> None:
    kwargs = sentinel_kwargs(
        [('127.0.0.1', tls_master_sentinel.port)],
        sentinel_services=[SENTINEL_SERVICE],
        connection_kwargs=_certificate_kwargs(nameless_tls_files),
    )

    assert _request_arrives(nameless_tls_redis, kwargs)


def test_failed_sentinel_discovery_names_each_sentinel_and_why_it_failed() -> None:
    dead_port = free_port()

    with pytest.raises(Exception) as error_info:
        SentinelRedisClient(hosts=[('127.0.0.1', dead_port)], sentinel_kwargs={'retry': Retry(NoBackoff(), 0)})

    message = str(error_info.value)
    assert f'127.0.0.1:{dead_port}: ' in message
    assert 'Connection refused' in message
    assert 'ConnectionPool' not in message
    assert len(message) < 400


def test_failed_master_lookup_says_why_the_sentinels_could_not_answer(
    tls_master_sentinel: RedisServer,
    tls_files: TlsFiles,
) -> None:
    # The Sentinel speaks plain TCP: a client that insists on TLS to it cannot get an answer.
    backend = SentinelRedisClient(
        hosts=[('127.0.0.1', tls_master_sentinel.port)],
        sentinel_services=[SENTINEL_SERVICE],
        sentinel_kwargs={'ssl_ca_certs': str(tls_files.ca_certificate), 'retry': Retry(NoBackoff(), 0)},
    )

    with pytest.raises(Exception, match='Master not found') as error_info:
        backend.get_connection('pysoa:example')

    message = str(error_info.value)
    assert f'127.0.0.1:{tls_master_sentinel.port}' in message
    assert 'Timeout connecting' in message
    assert 'ConnectionPool' not in message
