"""
Every Redis URL form, end to end: a server configured by the URL (``server_transport_settings``) and the ``pysoa``
command given the same URL find each other, over TLS with an ACL user, and through Redis Sentinel.
"""

import json
import urllib.parse
from typing import Iterator

import pytest

from pysoa.common.transport.redis_gateway.url_settings import server_transport_settings
from tests.cli.cli_service.server import CliServer
from tests.cli.conftest import run_pysoa
from tests.redis.conftest import (
    TLS_PASSWORD,
    TLS_USER,
)
from tests.support.redis_processes import (
    RedisServer,
    SentinelCluster,
    TlsFiles,
)
from tests.support.server_runner import ThreadedServer


def serving(url: str) -> ThreadedServer:
    """The ``cli`` server in a thread of this process, taking requests from the Redis of ``url``."""
    settings = {'transport': server_transport_settings(url)}
    settings['transport']['kwargs']['receive_timeout_in_seconds'] = 1
    return ThreadedServer(CliServer, settings)


@pytest.fixture
def tls_url(tls_acl_redis_server: RedisServer, tls_files: TlsFiles) -> Iterator[str]:
    ca_file = urllib.parse.quote(str(tls_files.ca_certificate))
    yield (
        f'rediss://{TLS_USER}:{urllib.parse.quote(TLS_PASSWORD)}@127.0.0.1:{tls_acl_redis_server.tls_port}'
        f'?ssl_ca_certs={ca_file}'
    )


def test_a_rediss_url_with_an_acl_user_reaches_the_service_over_tls_checking_the_host_name(tls_url: str) -> None:
    with serving(tls_url):
        run = run_pysoa('call', 'cli', 'square', '{"number": 11}', '--redis', tls_url)

    assert (run.status, json.loads(run.stdout or 'null')) == (0, {'square': 121}), run.stderr


def test_a_rediss_url_with_a_wrong_password_is_a_transport_error(tls_url: str) -> None:
    wrong = tls_url.replace(urllib.parse.quote(TLS_PASSWORD), 'wrong-password')

    run = run_pysoa('call', 'cli', 'square', '--redis', wrong, '--timeout', '2')

    assert run.status == 3
    assert run.stderr.startswith('pysoa call: transport error calling service cli: ')
    assert 'wrong-password' not in run.stderr


def test_a_sentinel_url_reaches_the_service_through_the_master_the_sentinels_name(
    sentinel_cluster: SentinelCluster,
) -> None:
    sentinels = ','.join(f'{host}:{port}' for host, port in sentinel_cluster.sentinel_hosts)
    url = f'redis+sentinel://{sentinels}/0?service={sentinel_cluster.service_name}'

    with serving(url):
        run = run_pysoa('status', 'cli', '--redis', url)

    assert run.status == 0, run.stderr
    assert run.stdout.splitlines()[2] == 'healthy'
