"""
Calling the service under test from asyncio tests: an :class:`pysoa.client.aio.AsyncClient` that runs the service's
server in-process, through the local transport, as :class:`pysoa.test.server.ServerTestCase` does for the synchronous
client::

    from pysoa.test.aio import local_async_client


    async def test_square():
        async with local_async_client(ExampleServer, SOA_SERVER_SETTINGS) as client:
            response = await client.call_action('example', 'square', {'number': 7})

        assert response.body == {'square': 49}

Requests go through the server's validation, middleware and actions, with no serialization; ``stub_action`` reaches
the client as any other.
"""

from typing import (
    Any,
    Mapping,
    Optional,
    Type,
)

from pysoa.client.aio import AsyncClient
from pysoa.client.aio._local import AsyncLocalClientTransport
from pysoa.common.types import (
    ActionResponse,
    Body,
    Context,
)
from pysoa.server.server import Server


__all__ = (
    'call_local_action',
    'local_async_client',
)


def local_async_client(
    server_class: Type[Server],
    server_settings: Optional[Mapping[str, Any]] = None,
    context: Optional[Context] = None,
    client_class: Type[AsyncClient] = AsyncClient,
) -> AsyncClient:
    """
    An asynchronous client of ``server_class``'s service (``server_class.service_name``), run in-process. The server is
    built, and its ``setup()`` run, at once; as in ``ServerTestCase``, it leaves Django's database connections to the
    test.

    :param server_class: The service's server class.
    :param server_settings: Its settings (its ``transport`` setting is ignored); by default, the defaults.
    :param context: The base context of the client's requests.
    :param client_class: The client class, for a subclass of :class:`~pysoa.client.aio.AsyncClient`.

    :raises TypeError: If ``server_class`` is not a :class:`~pysoa.server.server.Server` with a service name.
    """
    if not isinstance(server_class, type) or not issubclass(server_class, Server) or not server_class.service_name:
        raise TypeError(f'server_class must be a Server subclass with a service_name, not {server_class!r}')
    service_name = server_class.service_name
    client = client_class(
        {
            service_name: {
                'transport': {
                    'path': 'pysoa.common.transport.local:LocalClientTransport',
                    'kwargs': {'server_class': server_class, 'server_settings': dict(server_settings or {})},
                }
            }
        },
        context=context,
    )
    transport = client._get_handler(service_name).transport
    if isinstance(transport, AsyncLocalClientTransport):
        transport.server._skip_django_database_cleanup = True
    return client


async def call_local_action(
    server_class: Type[Server],
    action: str,
    body: Optional[Body] = None,
    server_settings: Optional[Mapping[str, Any]] = None,
    **call_kwargs: Any,
) -> ActionResponse:
    """
    Call one action of ``server_class``'s service in-process, with a client of its own, and return the response.

    :param call_kwargs: The other arguments of :meth:`pysoa.client.aio.AsyncClient.call_action` (``switches``,
                        ``context``, ``raise_action_errors``, ...).

    :raises pysoa.client.errors.CallActionError: If the action failed (unless ``raise_action_errors=False``).
    """
    async with local_async_client(server_class, server_settings) as client:
        (service_name,) = client.settings
        return await client.call_action(service_name, action, body, **call_kwargs)
