"""
The contract between :class:`pysoa.client.aio.AsyncClient` and an asynchronous transport, and how the client picks the
asynchronous twin of the (synchronous) transport class its settings name.
"""

import abc
from typing import (
    Any,
    Callable,
    Dict,
    Optional,
    Protocol,
    Type,
)

from conformity import fields
from pymetrics.recorders.base import MetricsRecorder

from pysoa.client.errors import ImproperlyConfigured
from pysoa.common.transport.base import (
    ClientTransport,
    ReceivedMessage,
)
from pysoa.common.transport.errors import (
    MessageReceiveTimeout,
    PySOATransportError,
)


__all__ = (
    'ASYNC_TRANSPORTS',
    'AsyncClientTransport',
    'ResponseListener',
    'async_transport_class',
)


class ResponseListener(Protocol):
    """What a transport hands responses to as they arrive (see :meth:`AsyncClientTransport.listen`)."""

    @property
    def waiting(self) -> int:
        """How many responses are awaited: the transport receives while this is not 0."""

    def response_received(self, message: ReceivedMessage) -> None:
        """A response arrived (its body as the server sent it: a job response's dict, if the server is sound)."""

    def receive_failed(self, error: PySOATransportError) -> None:
        """
        Receiving failed: for one request only if ``error`` has a ``request_id`` attribute (its response expired),
        else for every response awaited.
        """


class AsyncClientTransport(abc.ABC):
    """
    The client side of a transport, for :class:`pysoa.client.aio.AsyncClient`: sends job requests and receives the
    job responses of every request the client sent to one service, in whatever order they come. The client routes
    each response to its caller by request id; the transport only moves messages.

    An instance is created by the client, with the keyword arguments of the synchronous transport its settings name,
    and used from one event loop only.

    :param service_name: The name of the service called.
    :param metrics: The metrics recorder.
    """

    def __init__(self, service_name: str, metrics: MetricsRecorder) -> None:
        self.service_name = service_name
        self.metrics = metrics

    @classmethod
    def from_settings(
        cls,
        configured_class: Type[ClientTransport],
        service_name: str,
        metrics: MetricsRecorder,
        **kwargs: Any,
    ) -> 'AsyncClientTransport':
        """
        The transport for a service whose settings name ``configured_class`` (this class's synchronous twin, or a
        subclass of it) with ``kwargs``. By default, ``cls(service_name, metrics, **kwargs)``.
        """
        return cls(service_name, metrics, **kwargs)

    @property
    def default_receive_timeout_in_seconds(self) -> Optional[float]:
        """How long a call waits for its response when it gives no ``timeout`` (``None``: as long as it takes)."""
        return None

    @property
    def default_message_expiry_in_seconds(self) -> Optional[float]:
        """How long a request sent without expiry stays valid (``None``: forever)."""
        return None

    def no_response_error(self, timeout: float) -> MessageReceiveTimeout:
        """The error of a call whose response did not come within ``timeout`` seconds; transports may say more."""
        return MessageReceiveTimeout(f'No response from service {self.service_name} arrived within {timeout:g} seconds')

    @property
    def responses_ready(self) -> bool:
        """
        Whether :meth:`receive_response_message` has a response ready, without waiting: the client lets the calls it
        just answered run before it waits for more. By default ``False``.
        """
        return False

    @abc.abstractmethod
    async def send_request_message(
        self,
        request_id: int,
        meta: Dict[str, Any],
        body: Dict[str, Any],
        message_expiry_in_seconds: Optional[int] = None,
    ) -> None:
        """
        Send a request message; see :meth:`pysoa.common.transport.base.ClientTransport.send_request_message`.

        :raises pysoa.common.transport.errors.PySOATransportError: If it cannot be sent.
        """

    def start_send_request_message(
        self,
        request_id: int,
        meta: Dict[str, Any],
        body: Dict[str, Any],
        message_expiry_in_seconds: Optional[int],
        sent: Callable[[Optional[BaseException]], None],
    ) -> bool:
        """
        Optional: send a request as :meth:`send_request_message` does, without waiting until it is accepted, and call
        ``sent`` with ``None`` once it is, or with the exception :meth:`send_request_message` would raise. A call
        without client middleware uses it, so that it waits for nothing but its response. Return ``False`` if the
        request was not sent (the default: the transport cannot do this); the client then awaits
        :meth:`send_request_message`.
        """
        return False

    def listen(self, listener: ResponseListener) -> bool:
        """
        Optional: from now on, hand every response to ``listener`` as it arrives, instead of waiting for
        :meth:`receive_response_message` (which is not called again). The transport receives whenever
        ``listener.waiting`` is not 0 after it sends a request, until it is 0. A client without middleware uses it,
        so that a response reaches its caller with no receiving task in between. Return ``False`` if the transport
        cannot (the default): the client then calls :meth:`receive_response_message`.
        """
        return False

    @abc.abstractmethod
    async def receive_response_message(self, receive_timeout_in_seconds: Optional[float] = None) -> ReceivedMessage:
        """
        The next response message to any of this transport's requests.

        :param receive_timeout_in_seconds: How long to wait; ``None`` means the transport's default.

        :raises pysoa.common.transport.errors.MessageReceiveTimeout: If none arrived in time (with a ``request_id``
                                                                     attribute when the one that arrived had expired).
        :raises pysoa.common.transport.errors.InvalidMessageError: If what arrived cannot be read.
        :raises pysoa.common.transport.errors.PySOATransportError: If receiving failed.
        """

    async def close(self) -> None:  # noqa: B027  (a hook: transports without resources need not override it)
        """Release the transport's connections. The client calls it once, when it is closed."""


ASYNC_TRANSPORTS: Dict[str, str] = {
    'pysoa.common.transport.redis_gateway.client:RedisClientTransport': (
        'pysoa.common.transport.redis_gateway._async_client:AsyncRedisClientTransport'
    ),
    'pysoa.common.transport.local:LocalClientTransport': 'pysoa.client.aio._local:AsyncLocalClientTransport',
}
"""
The asynchronous twin of each synchronous client transport, by import path (``module:Class``). A subclass of a
transport listed here gets its base class's twin.
"""


def async_transport_class(
    transport_class: Type[ClientTransport],
    twins: Dict[str, str] = ASYNC_TRANSPORTS,
) -> Type[AsyncClientTransport]:
    """
    The asynchronous twin of a client transport class. A subclass of a synchronous transport gets the twin of its
    base: only a twin that builds on the configured class (as the local one does) keeps what the subclass changes.

    :raises ImproperlyConfigured: If the class (and each of its bases) has none.
    """
    for cls in transport_class.__mro__:
        twin_path = twins.get(f'{cls.__module__}:{cls.__qualname__}')
        if twin_path is not None:
            twin: Type[AsyncClientTransport] = fields.PythonPath.resolve_python_path(twin_path)
            return twin
    raise ImproperlyConfigured(
        f'The AsyncClient cannot use the transport {transport_class.__module__}:{transport_class.__qualname__}: it '
        f'has no asynchronous counterpart. Configure one of: {", ".join(sorted(twins))}.',
    )
