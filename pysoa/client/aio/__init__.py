"""
The asyncio client of PySOA: :class:`AsyncClient` calls services from coroutines, with the configuration, calls and
errors of :class:`pysoa.client.client.Client` and the same wire protocol, so it talks to any PySOA 2 or 1.4.9 server.

Also here: the contract of its middleware (:class:`AsyncClientMiddleware`) and of its transports
(:class:`AsyncClientTransport`, and :class:`ResponseListener` for transports that hand over responses as they
arrive), and :class:`ClientClosedError`.
"""

from pysoa.client.aio._client import AsyncClient
from pysoa.client.aio._handler import ClientClosedError
from pysoa.client.aio._middleware import (
    AsyncClientMiddleware,
    AsyncClientRequestMiddlewareTask,
    AsyncClientResponseMiddlewareTask,
)
from pysoa.client.aio._transport import (
    AsyncClientTransport,
    ResponseListener,
)


__all__ = (
    'AsyncClient',
    'AsyncClientMiddleware',
    'AsyncClientRequestMiddlewareTask',
    'AsyncClientResponseMiddlewareTask',
    'AsyncClientTransport',
    'ClientClosedError',
    'ResponseListener',
)
