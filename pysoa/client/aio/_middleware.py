"""Middleware of the :class:`pysoa.client.aio.AsyncClient`: wraps the sending of requests and receiving of responses."""

from typing import (
    Any,
    Awaitable,
    Callable,
    Dict,
    Optional,
    Tuple,
)

from pysoa.client.middleware import ClientMiddleware
from pysoa.common.types import (
    JobRequest,
    JobResponse,
)


__all__ = (
    'AsyncClientMiddleware',
    'AsyncClientRequestMiddlewareTask',
    'AsyncClientResponseMiddlewareTask',
)

AsyncClientRequestMiddlewareTask = Callable[[int, Dict[str, Any], JobRequest, Optional[int]], Awaitable[None]]
"""Sends a request: ``async (request_id, meta, job_request, message_expiry_in_seconds) -> None``."""

AsyncClientResponseMiddlewareTask = Callable[
    [Optional[float]],
    Awaitable[Tuple[Optional[int], Optional[JobResponse]]],
]
"""Receives the next response: ``async (receive_timeout_in_seconds) -> (request_id, job_response)``."""


class AsyncClientMiddleware(ClientMiddleware):
    """
    The base class of middleware for the :class:`pysoa.client.aio.AsyncClient`, configured like any client middleware
    in a service's ``middleware`` setting (``{'path': 'module:Class', 'kwargs': {...}}``, the kwargs schema declared
    with ``@ClassConfigurationSchema.provider``). It mirrors :class:`pysoa.client.middleware.ClientMiddleware`, with
    coroutine functions in place of functions:

    * :meth:`async_request` wraps the sending of every request: it takes the next step, an
      :data:`AsyncClientRequestMiddlewareTask`, and returns one that does this middleware's work around awaiting it.
      It runs in the task of the call that sends the request, so it sees that call's context variables. It may change
      ``meta`` (it travels with the message) and the :class:`pysoa.common.types.JobRequest`.
    * :meth:`async_response` wraps the receiving of every response: it takes the next step, an
      :data:`AsyncClientResponseMiddlewareTask`, and returns one that does this middleware's work around awaiting it.
      Responses are received by the one task that receives all of the client's responses from that service, which
      then hands each to the call awaiting it, so this step does not run in the caller's task. A step that raises a
      :class:`pysoa.common.transport.errors.PySOATransportError` with a ``request_id`` attribute fails that call;
      any other exception fails every call awaiting a response from the service.

    The first configured middleware is the outermost, as for the synchronous client. Because this class extends
    :class:`~pysoa.client.middleware.ClientMiddleware`, one class can serve both clients from one configuration:
    the synchronous client calls ``request`` and ``response``, the asynchronous one ``async_request`` and
    ``async_response``. The synchronous methods of this class change nothing; the asynchronous client refuses
    middleware that is not an ``AsyncClientMiddleware``.
    """

    def async_request(self, send_request: AsyncClientRequestMiddlewareTask) -> AsyncClientRequestMiddlewareTask:
        """Wrap the sending of a request; the default changes nothing."""
        return send_request

    def async_response(self, get_response: AsyncClientResponseMiddlewareTask) -> AsyncClientResponseMiddlewareTask:
        """Wrap the receiving of a response; the default changes nothing."""
        return get_response
