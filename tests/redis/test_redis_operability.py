"""
Against a real Redis: a fractional call timeout, ``'host:port'`` host strings and settings from a Redis URL work end
to end, and a call nobody answers says where its request went and why no answer may have come.
"""

from typing import Iterator

import pytest

from pysoa.client.client import Client
from pysoa.common.transport.errors import MessageReceiveTimeout
from pysoa.common.transport.redis_gateway.url_settings import (
    client_transport_settings,
    server_transport_settings,
)
from tests.redis.services import (
    SERVICE,
    RedisTestServer,
    make_client,
    server_settings,
    standard_kwargs,
)
from tests.support.redis_processes import RedisServer
from tests.support.server_runner import ThreadedServer


@pytest.fixture
def served(redis_server: RedisServer) -> Iterator[RedisServer]:
    """The test's Redis, with a server of ``redis_test`` taking requests from it in a thread."""
    with ThreadedServer(RedisTestServer, server_settings(standard_kwargs(redis_server.port))):
        yield redis_server


def test_a_call_with_a_fractional_timeout_is_answered(served: RedisServer) -> None:
    client = make_client(standard_kwargs(served.port))

    assert client.call_action(SERVICE, 'echo', {'n': 1}, timeout=0.5).body == {'n': 1}


def test_a_host_port_string_connects_to_that_port(served: RedisServer) -> None:
    client = make_client(
        {
            'backend_type': 'redis.standard',
            'backend_layer_kwargs': {
                'hosts': [f'127.0.0.1:{served.port}'],
            },
        }
    )

    assert client.call_action(SERVICE, 'echo', {'n': 2}, timeout=5).body == {'n': 2}


def test_a_client_and_a_server_configured_by_the_same_url_talk(redis_server: RedisServer) -> None:
    url = f'redis://127.0.0.1:{redis_server.port}/0'
    settings = {'transport': server_transport_settings(url)}
    settings['transport']['kwargs']['receive_timeout_in_seconds'] = 1

    with ThreadedServer(RedisTestServer, settings):
        client = Client({SERVICE: {'transport': client_transport_settings(url)}})
        assert client.call_action(SERVICE, 'echo', {'n': 3}, timeout=5).body == {'n': 3}


def test_a_url_with_another_database_does_not_reach_a_server_on_database_0(served: RedisServer) -> None:
    client = Client({SERVICE: {'transport': client_transport_settings(f'redis://127.0.0.1:{served.port}/1')}})

    with pytest.raises(MessageReceiveTimeout):
        client.call_action(SERVICE, 'echo', {}, timeout=1)


def test_a_call_nobody_answers_says_where_the_request_went_and_why_no_answer_may_have_come(
    redis_server: RedisServer,
) -> None:
    client = make_client(standard_kwargs(redis_server.port), services=['ghost'])

    with pytest.raises(MessageReceiveTimeout) as error:
        client.call_action('ghost', 'echo', {}, timeout=1)

    message = str(error.value)
    assert message.startswith(
        'No response from service ghost arrived within 1 seconds (on reply queue pysoa:service.ghost.'
    )
    assert f'The request went to queue pysoa:service.ghost on Redis 127.0.0.1:{redis_server.port}: ' in message
    assert 'if no server of service ghost is consuming that queue' in message
