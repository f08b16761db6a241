"""
The local transport: the client runs the service's server in its own thread, with no serialization and no network.
Used for tests, demos, and services that are libraries of each other in one process.
"""

import collections
from typing import (
    Any,
    Deque,
    Dict,
    Mapping,
    Optional,
    Type,
    Union,
)

from conformity import fields
from pymetrics.recorders.base import MetricsRecorder

from pysoa.common._metrics import free_metrics
from pysoa.common.transport.base import (
    ClientTransport,
    ReceivedMessage,
    ServerTransport,
)
from pysoa.server.server import Server


__all__ = (
    'LocalClientTransport',
    'LocalClientTransportSchema',
    'LocalServerTransport',
    'LocalServerTransportSchema',
)

_LOCAL_DESCRIPTION = 'the local transport (requests come from clients in this process; there is no queue)'


class LocalClientTransportSchema(fields.Dictionary):
    """The settings schema of :class:`LocalClientTransport`: the keyword arguments of its constructor."""

    contents = {
        'server_class': fields.Any(
            fields.TypePath(base_classes=Server),
            fields.TypeReference(base_classes=Server),
            description='The server class to run, which must extend `Server`, or its import path '
            '(`module.name:ClassName`)',
        ),
        'server_settings': fields.Any(
            fields.PythonPath(value_schema=fields.SchemalessDictionary(key_type=fields.UnicodeString())),
            fields.SchemalessDictionary(key_type=fields.UnicodeString()),
            description='The settings of the server, or the import path (`module.name:VARIABLE`) of a dict holding '
            'them; its `transport` setting is ignored',
        ),
    }
    description = 'The settings for the local client transport'


class LocalServerTransportSchema(fields.Dictionary):
    """The settings schema of :class:`LocalServerTransport`, which takes none."""

    contents = {}
    description = 'The local server transport takes no settings'


@fields.ClassConfigurationSchema.provider(LocalClientTransportSchema())
class LocalClientTransport(ClientTransport, ServerTransport):
    """
    A client transport that builds the service's server itself and runs each request synchronously in the calling
    thread. Messages are passed by reference: nothing is serialized, so values of any type reach the server as they
    are, and there is no size limit or expiry.

    The server's ``setup()`` runs when the transport is created; its ``run()`` loop never does (so no signal
    handling, harakiri or heartbeat), but ``request.run_coroutine`` works.

    :param service_name: The name of the service; it must equal the server class's ``service_name``.
    :param metrics: The metrics recorder.
    :param server_class: The server class, or its import path ``'module.name:ClassName'``.
    :param server_settings: The server's settings dict, or the import path ``'module.name:VARIABLE'`` of one.
    """

    def __init__(
        self,
        service_name: str,
        metrics: MetricsRecorder = free_metrics,
        server_class: Union[str, Type[Server], None] = None,
        server_settings: Union[str, Mapping[str, Any], None] = None,
    ) -> None:
        super().__init__(service_name, metrics)

        if isinstance(server_class, str):
            try:
                server_class = fields.PythonPath.resolve_python_path(server_class)
            except (ImportError, AttributeError, ValueError) as e:
                raise type(e)(f'Could not resolve server class path {server_class}: {e}') from e
        if not isinstance(server_class, type) or not issubclass(server_class, Server):
            raise TypeError('server_class must be or extend Server')
        if server_class.service_name != service_name:
            raise ValueError(
                f'Server {server_class!r} service name "{server_class.service_name}" does not match "{service_name}"',
            )

        if isinstance(server_settings, str):
            server_settings = fields.PythonPath.resolve_python_path(server_settings)
        if not isinstance(server_settings, Mapping):
            raise TypeError(f'server_settings must be a dict or the import path of one, not {server_settings!r}')
        # A copy, so the caller's settings keep their own transport.
        settings_data = dict(server_settings)
        settings_data['transport'] = {'path': 'pysoa.common.transport.local:LocalServerTransport'}

        self.server_class: Type[Server] = server_class
        self.server_settings = server_class.settings_class(settings_data)
        self.server: Server = server_class(self.server_settings)
        self.server.transport = self
        self.server.setup()

        self._responses: Deque[ReceivedMessage] = collections.deque()

    def send_request_message(
        self,
        request_id: int,
        meta: Dict[str, Any],
        body: Dict[str, Any],
        message_expiry_in_seconds: Optional[int] = None,
    ) -> None:
        """Run the request through the server now; its response waits for :meth:`receive_response_message`."""
        self.server.handle_message(request_id, meta, body)

    def describe(self) -> str:
        return _LOCAL_DESCRIPTION

    def receive_request_message(self) -> ReceivedMessage:
        """
        Not for the server to call: :meth:`send_request_message` hands it each request directly (so, as PySOA 1.4.9
        put it, the request was already received).

        :raises RuntimeError: Always.
        """
        raise RuntimeError('Local server tried to receive message more than once')

    def send_response_message(self, request_id: int, meta: Dict[str, Any], body: Dict[str, Any]) -> None:
        """Queue the server's response for the client."""
        self._responses.append(ReceivedMessage(request_id, meta, body))

    def receive_response_message(self, receive_timeout_in_seconds: Optional[int] = None) -> ReceivedMessage:
        """Return the oldest queued response, or ``ReceivedMessage(None, None, None)`` at once if there is none."""
        if self._responses:
            return self._responses.popleft()
        return ReceivedMessage(None, None, None)


@fields.ClassConfigurationSchema.provider(LocalServerTransportSchema())
class LocalServerTransport(ServerTransport):
    """
    A placeholder that marks a server as run by :class:`LocalClientTransport`, which replaces it; it cannot be used
    to run a server on its own.
    """

    def describe(self) -> str:
        return _LOCAL_DESCRIPTION

    def receive_request_message(self) -> ReceivedMessage:
        raise TypeError('The LocalServerTransport cannot be used directly; it is a stub.')

    def send_response_message(self, request_id: int, meta: Dict[str, Any], body: Dict[str, Any]) -> None:
        raise TypeError('The LocalServerTransport cannot be used directly; it is a stub.')
