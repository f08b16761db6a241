"""
AsyncClient middleware: each wraps the sending of requests and the receiving of responses, the first configured the
outermost; middleware written for the synchronous client only is refused, and one class can serve both clients.
"""

import asyncio

import pytest

from pysoa.client.aio import AsyncClient
from pysoa.client.client import Client
from pysoa.client.errors import ImproperlyConfigured
from pysoa.version import __version_info__
from tests.unit.client_aio.support import (
    MODULE,
    hand_delivered_client,
    local_config,
    run_async,
    transport_of,
    wait_until,
)


def trail_middleware(*names: str) -> list:  # type: ignore[type-arg]
    return [{'path': f'{MODULE}:AsyncTrailMiddleware', 'kwargs': {'name': name}} for name in names]


@run_async
async def test_request_middleware_runs_in_configured_order_around_sending() -> None:
    async with AsyncClient(local_config(middleware=trail_middleware('outer', 'inner'))) as client:
        response = await client.call_action('svc', 'headers')

    assert response.body['context']['trail'] == ['outer', 'inner']


@run_async
async def test_request_middleware_can_add_to_the_meta_that_travels_with_the_request() -> None:
    async with hand_delivered_client(middleware=trail_middleware('first', 'second')) as client:
        transport = transport_of(client)
        call = asyncio.ensure_future(client.call_action('svc', 'echo'))
        await wait_until(lambda: transport.sent, 'the request')
        transport.deliver(transport.request_ids()[0])
        await call

    ((_, meta, _, _),) = transport.sent
    assert meta['trail'] == ['first', 'second']
    assert meta['client_version'] == list(__version_info__)


@run_async
async def test_response_middleware_wraps_receiving_innermost_first() -> None:
    async with AsyncClient(local_config(middleware=trail_middleware('outer', 'inner'))) as client:
        response = await client.call_actions('svc', [{'action': 'echo'}])

    assert response.context['trail'] == ['inner', 'outer']


def test_middleware_written_for_the_synchronous_client_only_is_refused() -> None:
    config = local_config(middleware=[{'path': f'{MODULE}:SyncOnlyMiddleware'}])

    with pytest.raises(ImproperlyConfigured, match='SyncOnlyMiddleware of service svc is not an AsyncClientMiddleware'):
        AsyncClient(config)


@run_async
async def test_one_middleware_class_serves_both_clients_from_one_configuration() -> None:
    config = local_config(middleware=[{'path': f'{MODULE}:BothClientsMiddleware'}])

    async with AsyncClient(config) as async_client:
        from_async = await async_client.call_action('svc', 'headers')
    from_sync = Client(config).call_action('svc', 'headers')

    assert (from_async.body['context']['sent_by'], from_sync.body['context']['sent_by']) == ('async', 'sync')
