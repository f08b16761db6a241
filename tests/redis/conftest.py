"""Fixtures that start real Redis processes (see tests/support/redis_processes.py)."""

import pathlib
from typing import Iterator

import pytest

from tests.support.redis_processes import (
    RedisServer,
    SentinelCluster,
    TlsFiles,
    free_port,
    make_tls_files,
)


@pytest.fixture(scope='session')
def second_redis_session_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp('redis-second'), free_port()).start()
    yield server
    server.stop()


@pytest.fixture
def second_redis_server(second_redis_session_server: RedisServer) -> RedisServer:
    """Another standalone Redis, for tests of several masters; emptied before each test."""
    with second_redis_session_server.client() as client:
        client.flushall()
    return second_redis_session_server


@pytest.fixture
def sentinel_cluster(tmp_path: pathlib.Path) -> Iterator[SentinelCluster]:
    """A master, a replica and three Sentinels, new for each test (tests may fail it over)."""
    cluster = SentinelCluster(tmp_path / 'sentinel-cluster')
    try:
        yield cluster.start()
    finally:
        cluster.stop()


@pytest.fixture(scope='session')
def redis_without_blmpop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A Redis whose BLMPOP is disabled, as on the Redis versions before 7."""
    server = RedisServer(tmp_path_factory.mktemp('redis-no-blmpop'), free_port(), ['rename-command BLMPOP ""']).start()
    yield server
    server.stop()


@pytest.fixture(scope='session')
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp('tls'))


TLS_USER = 'pysoa-service'
TLS_PASSWORD = 'correct-horse-battery-staple'


@pytest.fixture(scope='session')
def tls_acl_redis_server(tmp_path_factory: pytest.TempPathFactory, tls_files: TlsFiles) -> Iterator[RedisServer]:
    """A Redis that accepts only TLS connections, and only from the ACL user ``TLS_USER``."""
    port = free_port()
    server = RedisServer(
        tmp_path_factory.mktemp('redis-tls'),
        0,
        [
            f'tls-port {port}',
            f'tls-cert-file {tls_files.server_certificate}',
            f'tls-key-file {tls_files.server_key}',
            f'tls-ca-cert-file {tls_files.ca_certificate}',
            'tls-auth-clients no',
            'user default off',
            f'user {TLS_USER} on >{TLS_PASSWORD} ~pysoa:* &* +@all',
        ],
        ping_kwargs={
            'host': '127.0.0.1',
            'port': port,
            'ssl': True,
            'ssl_ca_certs': str(tls_files.ca_certificate),
            'username': TLS_USER,
            'password': TLS_PASSWORD,
        },
    )
    server.tls_port = port
    yield server.start()
    server.stop()


@pytest.fixture(scope='session')
def stable_sentinel_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SentinelCluster]:
    """A Sentinel cluster shared by the tests that do not fail it over (``sentinel_cluster`` is for those that do)."""
    cluster = SentinelCluster(pathlib.Path(tmp_path_factory.mktemp('stable-sentinel')))
    try:
        yield cluster.start()
    finally:
        cluster.stop()


@pytest.fixture
def cluster(stable_sentinel_cluster: SentinelCluster) -> SentinelCluster:
    """The stable Sentinel cluster, its master emptied."""
    with stable_sentinel_cluster.master.client() as connection:
        connection.flushall()
    return stable_sentinel_cluster
