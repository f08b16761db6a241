"""The local transport of the :class:`pysoa.client.aio.AsyncClient`: the service's server runs in the loop's thread."""

import asyncio
import collections
from typing import (
    Any,
    Deque,
    Dict,
    Optional,
    Type,
)

from pymetrics.recorders.base import MetricsRecorder

from pysoa.client.aio._transport import AsyncClientTransport
from pysoa.common.transport.base import (
    ClientTransport,
    ReceivedMessage,
)
from pysoa.common.transport.errors import MessageReceiveTimeout
from pysoa.common.transport.local import LocalClientTransport
from pysoa.server.server import Server


__all__ = ('AsyncLocalClientTransport',)


class AsyncLocalClientTransport(AsyncClientTransport):
    """
    The asynchronous twin of :class:`pysoa.common.transport.local.LocalClientTransport` (and its subclasses, such as
    the test toolkit's ``StubClientTransport``): it builds the synchronous transport the settings name, with their
    kwargs, and passes each request through it. Sending a request runs it through the server at once, in the event
    loop's thread: the loop waits while the action runs, as the caller's thread does with the synchronous client. Its
    response is then ready to receive. Nothing is serialized, and requests never expire.

    :param service_name: The name of the service; it must equal the server class's ``service_name``.
    :param metrics: The metrics recorder.
    :param local_transport_class: The synchronous local transport class to build.
    :param kwargs: Its settings (``server_class``, ``server_settings``, ...).
    """

    @classmethod
    def from_settings(
        cls,
        configured_class: Type[ClientTransport],
        service_name: str,
        metrics: MetricsRecorder,
        **kwargs: Any,
    ) -> 'AsyncLocalClientTransport':
        if not issubclass(configured_class, LocalClientTransport):
            raise TypeError(f'{configured_class!r} is not a LocalClientTransport')
        return cls(service_name, metrics, local_transport_class=configured_class, **kwargs)

    def __init__(
        self,
        service_name: str,
        metrics: MetricsRecorder,
        local_transport_class: Type[LocalClientTransport] = LocalClientTransport,
        **kwargs: Any,
    ) -> None:
        super().__init__(service_name, metrics)
        self._local = local_transport_class(service_name, metrics, **kwargs)
        self._responses: Deque[ReceivedMessage] = collections.deque()
        self._arrival: Optional[asyncio.Future[None]] = None

    @property
    def server(self) -> Server:
        """The server that handles this transport's requests."""
        return self._local.server

    @property
    def responses_ready(self) -> bool:
        return bool(self._responses)

    async def send_request_message(
        self,
        request_id: int,
        meta: Dict[str, Any],
        body: Dict[str, Any],
        message_expiry_in_seconds: Optional[int] = None,
    ) -> None:
        """Run the request through the server; its response (if it asks for one) is then ready to receive."""
        local = self._local
        local.send_request_message(request_id, meta, body, message_expiry_in_seconds)
        while True:
            response = local.receive_response_message()
            if response.request_id is None and response.body is None:
                break
            self._responses.append(response)
        arrival = self._arrival
        if self._responses and arrival is not None and not arrival.done():
            arrival.set_result(None)

    async def receive_response_message(self, receive_timeout_in_seconds: Optional[float] = None) -> ReceivedMessage:
        """The oldest response not yet received, waiting up to the timeout (``None``: until one is ready)."""
        while not self._responses:
            arrival = self._arrival = asyncio.get_running_loop().create_future()
            try:
                await asyncio.wait_for(arrival, receive_timeout_in_seconds)
            except asyncio.TimeoutError:
                raise MessageReceiveTimeout(f'No message received for service {self.service_name}') from None
            finally:
                self._arrival = None
        return self._responses.popleft()
