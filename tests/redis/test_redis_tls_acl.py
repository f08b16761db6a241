"""
The Redis gateway transport against a Redis that accepts only TLS connections from one ACL user: calls work with the
right connection arguments (from the synchronous client, and from the AsyncClient on either event loop), and wrong
credentials fail promptly with a transport error.
"""

import asyncio
import time
from typing import (
    Any,
    Dict,
    List,
    cast,
)

import pytest
import uvloop

from pysoa.client.aio import AsyncClient
from pysoa.common.transport.errors import (
    MessageReceiveError,
    MessageSendError,
)
from pysoa.common.transport.redis_gateway.server import RedisServerTransport
from pysoa.common.types import ActionResponse
from tests.redis.conftest import (
    TLS_PASSWORD,
    TLS_USER,
)
from tests.redis.services import (
    REQUEST_QUEUE_KEY,
    SERVICE,
    RecordingMetricsRecorder,
    RedisTestServer,
    client_settings,
    client_transport,
    job_request,
    make_client,
    server_settings,
    standard_kwargs,
)
from tests.support.redis_processes import (
    RedisServer,
    TlsFiles,
)
from tests.support.server_runner import ThreadedServer


# redis-py (>= 6) retries failed connections, authentication failures included, 10 times with a backoff capped at 1
# second, so a refused login takes a few seconds to surface: "promptly" means well within this bound, not a hang.
PROMPTLY = 15


def _tls_kwargs(server: RedisServer, tls_files: TlsFiles, **connection_kwargs: Any) -> Dict[str, Any]:
    assert server.tls_port is not None
    kwargs = standard_kwargs(server.tls_port)
    kwargs['backend_layer_kwargs']['connection_kwargs'] = dict(
        {
            'ssl': True,
            'ssl_ca_certs': str(tls_files.ca_certificate),
            'username': TLS_USER,
            'password': TLS_PASSWORD,
        },
        **connection_kwargs,
    )
    return kwargs


@pytest.fixture
def tls_server(tls_acl_redis_server: RedisServer) -> RedisServer:
    with tls_acl_redis_server.client() as connection:
        connection.flushall()
    return tls_acl_redis_server


def test_calls_succeed_over_tls_as_the_acl_user(tls_server: RedisServer, tls_files: TlsFiles) -> None:
    kwargs = _tls_kwargs(tls_server, tls_files)

    with ThreadedServer(RedisTestServer, server_settings(kwargs)) as server:
        responses = cast(
            List[ActionResponse],
            list(
                make_client(kwargs).call_actions_parallel(
                    SERVICE,
                    [{'action': 'echo', 'body': {'i': i}} for i in range(3)],
                    timeout=10,
                )
            ),
        )

    assert [r.body for r in responses] == [{'i': i} for i in range(3)]
    assert server.errors == []


@pytest.mark.parametrize('event_loop', ['asyncio', 'uvloop'])
def test_async_client_calls_succeed_over_tls_as_the_acl_user(
    tls_server: RedisServer,
    tls_files: TlsFiles,
    event_loop: str,
) -> None:
    kwargs = _tls_kwargs(tls_server, tls_files)

    async def calls() -> List[Any]:
        async with AsyncClient({SERVICE: client_settings(kwargs)}) as client:
            first = await client.call_action(SERVICE, 'echo', {'i': -1}, timeout=10)
            rest = await asyncio.gather(*(client.call_action(SERVICE, 'echo', {'i': i}, timeout=10) for i in range(20)))
            return [first.body, *(r.body for r in rest)]

    with ThreadedServer(RedisTestServer, server_settings(kwargs)) as server:
        bodies = (uvloop.run if event_loop == 'uvloop' else asyncio.run)(calls())

    assert bodies == [{'i': i} for i in range(-1, 20)]
    assert server.errors == []


def test_request_reaches_the_tls_server(tls_server: RedisServer, tls_files: TlsFiles) -> None:
    transport = client_transport(_tls_kwargs(tls_server, tls_files))

    transport.send_request_message(1, {}, job_request(('echo', {})))

    with tls_server.client() as connection:
        assert connection.llen(REQUEST_QUEUE_KEY) == 1


def test_wrong_password_fails_sending_promptly_with_message_send_error(
    tls_server: RedisServer,
    tls_files: TlsFiles,
) -> None:
    transport = client_transport(_tls_kwargs(tls_server, tls_files, password='wrong password'))

    started = time.monotonic()
    with pytest.raises(MessageSendError) as error_info:
        transport.send_request_message(1, {}, job_request(('echo', {})))

    assert time.monotonic() - started < PROMPTLY
    assert 'AuthenticationError' in error_info.value.args
    assert transport.requests_outstanding == 0


def test_wrong_password_fails_receiving_promptly_with_message_receive_error(
    tls_server: RedisServer,
    tls_files: TlsFiles,
) -> None:
    transport = RedisServerTransport(
        SERVICE,
        RecordingMetricsRecorder(),
        **_tls_kwargs(tls_server, tls_files, password='wrong password'),
    )

    started = time.monotonic()
    with pytest.raises(MessageReceiveError):
        transport.receive_request_message()

    assert time.monotonic() - started < PROMPTLY


def test_unknown_user_fails_sending_with_message_send_error(tls_server: RedisServer, tls_files: TlsFiles) -> None:
    transport = client_transport(_tls_kwargs(tls_server, tls_files, username='nobody'))

    with pytest.raises(MessageSendError):
        transport.send_request_message(1, {}, job_request(('echo', {})))


def test_connecting_without_tls_fails_sending_with_message_send_error(
    tls_server: RedisServer,
    tls_files: TlsFiles,
) -> None:
    kwargs = _tls_kwargs(tls_server, tls_files, ssl=False, socket_timeout=2)
    del kwargs['backend_layer_kwargs']['connection_kwargs']['ssl_ca_certs']
    transport = client_transport(kwargs)

    started = time.monotonic()
    with pytest.raises(MessageSendError):
        transport.send_request_message(1, {}, job_request(('echo', {})))

    assert time.monotonic() - started < PROMPTLY
