"""
The contract between clients and servers on one side and a message backend on the other.

A client transport sends request messages and receives response messages; a server transport receives requests and
sends responses. A message is a request id, a ``meta`` dict (transport bookkeeping such as where to reply, never
business data) and a ``body`` dict (the job request or job response). Implementations usually subclass both
:class:`ClientTransport` and :class:`ServerTransport` to share backend code.
"""

import abc
import threading
from typing import (
    Any,
    Dict,
    NamedTuple,
    Optional,
)

from pymetrics.recorders.base import MetricsRecorder

from pysoa.common._metrics import free_metrics


__all__ = (
    'ClientTransport',
    'ReceivedMessage',
    'ServerTransport',
    'Transport',
    'get_hex_thread_id',
)


def get_hex_thread_id() -> str:
    """Return the current thread's identifier as (at least) 12 lower-case, zero-padded hexadecimal digits."""
    return f'{threading.get_ident() or 0:012x}'


class ReceivedMessage(NamedTuple):
    """A message received through a transport; all three fields are ``None`` when there was nothing to receive."""

    request_id: Optional[int]
    meta: Optional[Dict[str, Any]]
    body: Optional[Dict[str, Any]]


class Transport:
    """
    The base of all transports: it holds the name of the service it serves or calls and the metrics recorder.

    :param service_name: The name of the service this transport sends requests to or receives requests for.
    :param metrics: The metrics recorder to report to.

    :raises ValueError: If ``service_name`` is not a ``str`` or ``metrics`` is not a ``MetricsRecorder``.
    """

    def __init__(self, service_name: str, metrics: MetricsRecorder = free_metrics) -> None:
        if not isinstance(service_name, str):
            raise ValueError('service_name must be a unicode string')
        if not isinstance(metrics, MetricsRecorder):
            raise ValueError('metrics must be a MetricsRecorder')
        self.service_name = service_name
        self.metrics = metrics


class ClientTransport(Transport, metaclass=abc.ABCMeta):
    """The client side of a transport: sends job requests and receives job responses."""

    @abc.abstractmethod
    def send_request_message(
        self,
        request_id: int,
        meta: Dict[str, Any],
        body: Dict[str, Any],
        message_expiry_in_seconds: Optional[int] = None,
    ) -> None:
        """
        Send a request message.

        :param request_id: The request id, unique among this client's outstanding requests to the service.
        :param meta: Transport metadata for the message.
        :param body: The job request dict.
        :param message_expiry_in_seconds: How soon the message expires if no server picks it up; ``None`` means the
                                          transport's default.

        :raises: :class:`pysoa.common.transport.errors.ConnectionError`,
                 :class:`pysoa.common.transport.errors.MessageSendError`,
                 :class:`pysoa.common.transport.errors.MessageSendTimeout`,
                 :class:`pysoa.common.transport.errors.MessageTooLarge`
        """

    @abc.abstractmethod
    def receive_response_message(self, receive_timeout_in_seconds: Optional[int] = None) -> ReceivedMessage:
        """
        Receive the next response message, or ``ReceivedMessage(None, None, None)`` if no request is outstanding.

        :param receive_timeout_in_seconds: How long to block waiting for a response; ``None`` means the transport's
                                           default.

        :raises: :class:`pysoa.common.transport.errors.ConnectionError`,
                 :class:`pysoa.common.transport.errors.MessageReceiveError`,
                 :class:`pysoa.common.transport.errors.MessageReceiveTimeout`
        """


class ServerTransport(Transport, metaclass=abc.ABCMeta):
    """
    The server side of a transport: receives job requests and sends job responses.

    :param service_name: The name of the service whose requests this transport receives.
    :param metrics: The metrics recorder to report to.
    :param instance_index: The 1-based index of this server process among its forked siblings.
    """

    def __init__(
        self,
        service_name: str,
        metrics: MetricsRecorder = free_metrics,
        instance_index: int = 1,
    ) -> None:
        super().__init__(service_name, metrics)
        self.instance_index = instance_index

    def describe(self) -> str:
        """
        Where this transport receives requests from, for the server's start-up log line ("Listening for requests on
        ..."). Transports override it to name their queues and hosts; it must never include credentials.
        """
        return repr(self)

    @abc.abstractmethod
    def receive_request_message(self) -> ReceivedMessage:
        """
        Receive the next request message. Its ``meta`` carries whatever the transport needs to reply, and must be
        passed back unchanged to :meth:`send_response_message`.

        :raises: :class:`pysoa.common.transport.errors.ConnectionError`,
                 :class:`pysoa.common.transport.errors.MessageReceiveError`,
                 :class:`pysoa.common.transport.errors.MessageReceiveTimeout`
        """

    def start_receiving(self) -> None:
        """
        Called by :meth:`pysoa.server.server.Server.run` before it serves requests one after the other, from the
        thread that serves, until :meth:`stop_receiving`. In between, a transport may start receiving the next
        request before it is asked to (the Redis transport starts waiting for it in the same round trip that sends a
        response). By default, it does nothing.
        """

    def stop_receiving(self) -> None:
        """
        Called once when the server stops serving (after :meth:`start_receiving`), from the thread that served: a
        transport that started receiving a request it was then not asked for hands it back here. By default, it does
        nothing.
        """

    @abc.abstractmethod
    def send_response_message(self, request_id: int, meta: Dict[str, Any], body: Dict[str, Any]) -> None:
        """
        Send a response message.

        :param request_id: The id of the request this responds to.
        :param meta: The ``meta`` dict received with the request.
        :param body: The job response dict.

        :raises: :class:`pysoa.common.transport.errors.ConnectionError`,
                 :class:`pysoa.common.transport.errors.MessageSendError`,
                 :class:`pysoa.common.transport.errors.MessageSendTimeout`,
                 :class:`pysoa.common.transport.errors.MessageTooLarge`
        """
