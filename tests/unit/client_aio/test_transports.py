"""
Which asynchronous transport the AsyncClient uses for the transport a service's settings name, and the asynchronous
local transport.
"""

from typing import (
    Any,
    Dict,
    Optional,
)

import pytest
from conformity import fields

from pysoa.client.aio import AsyncClient
from pysoa.client.aio._local import AsyncLocalClientTransport
from pysoa.client.aio._transport import async_transport_class
from pysoa.client.errors import ImproperlyConfigured
from pysoa.common._metrics import free_metrics
from pysoa.common.transport.base import (
    ClientTransport,
    ReceivedMessage,
)
from pysoa.common.transport.errors import MessageReceiveTimeout
from pysoa.common.transport.redis_gateway._async_client import AsyncRedisClientTransport
from pysoa.common.transport.redis_gateway.client import RedisClientTransport
from tests.unit.client.services import MainServer
from tests.unit.client_aio.support import (
    local_config,
    run_async,
)


class TunedRedisClientTransport(RedisClientTransport):
    """A project's own subclass of the Redis transport."""


def test_the_redis_transport_has_the_asynchronous_redis_transport_as_its_twin() -> None:
    assert async_transport_class(RedisClientTransport) is AsyncRedisClientTransport


def test_a_subclass_of_a_transport_gets_the_twin_of_its_base() -> None:
    assert async_transport_class(TunedRedisClientTransport) is AsyncRedisClientTransport


@fields.ClassConfigurationSchema.provider(fields.Dictionary({}))
class UnknownTransport(ClientTransport):
    """A transport the AsyncClient knows no twin of."""

    def send_request_message(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError

    def receive_response_message(self, receive_timeout_in_seconds: Optional[int] = None) -> ReceivedMessage:
        raise NotImplementedError


def test_a_transport_without_twin_is_refused_naming_the_transports_that_have_one() -> None:
    config = {'svc': {'transport': {'path': f'{__name__}:UnknownTransport'}}}

    with pytest.raises(ImproperlyConfigured) as raised:
        AsyncClient(config)

    assert str(raised.value) == (
        f'The AsyncClient cannot use the transport {__name__}:UnknownTransport: it has no asynchronous counterpart. '
        'Configure one of: pysoa.common.transport.local:LocalClientTransport, '
        'pysoa.common.transport.redis_gateway.client:RedisClientTransport.'
    )


def test_the_twins_can_be_extended_by_import_path() -> None:
    twins: Dict[str, str] = {
        f'{__name__}:UnknownTransport': 'pysoa.client.aio._local:AsyncLocalClientTransport',
    }

    assert async_transport_class(UnknownTransport, twins) is AsyncLocalClientTransport


@run_async
async def test_the_local_transport_runs_each_request_through_the_server_as_it_is_sent() -> None:
    transport = AsyncLocalClientTransport('svc', free_metrics, server_class=MainServer, server_settings={})
    body = {
        'control': {'continue_on_error': False},
        'context': {'switches': [], 'correlation_id': 'c'},
        'actions': [{'action': 'echo', 'body': {'hello': 'world'}}],
    }

    await transport.send_request_message(1, {}, body)
    response = await transport.receive_response_message(0.01)

    assert response.request_id == 1
    assert response.body is not None
    assert response.body['actions'][0]['body'] == {'hello': 'world'}


@run_async
async def test_the_local_transport_times_out_when_no_response_is_ready() -> None:
    transport = AsyncLocalClientTransport('svc', free_metrics, server_class=MainServer, server_settings={})

    with pytest.raises(MessageReceiveTimeout):
        await transport.receive_response_message(0.01)


@run_async
async def test_the_local_transport_gives_the_server_its_settings() -> None:
    async with AsyncClient(local_config()) as client:
        await client.call_action('svc', 'echo')
        transport = client.handlers['svc'].transport

    assert isinstance(transport, AsyncLocalClientTransport)
    assert transport.server.settings['middleware'][0]['path'].endswith('RejectForbiddenJobsMiddleware')


@run_async
async def test_a_subclass_of_the_local_transport_is_built_as_configured() -> None:
    config = {
        'svc': {
            'transport': {
                'path': 'pysoa.test.stub_service:StubClientTransport',
                'kwargs': {'action_map': {'get_user': {'body': {'name': 'Ada'}}}},
            }
        }
    }

    async with AsyncClient(config) as client:
        response = await client.call_action('svc', 'get_user')

    assert response.body == {'name': 'Ada'}
