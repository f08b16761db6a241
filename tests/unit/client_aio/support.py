"""
What the AsyncClient unit tests share: running a test coroutine with a deadline, client settings for the in-process
services of the synchronous client's tests, a transport whose responses each test delivers itself, and middleware.
"""

import asyncio
import functools
from typing import (
    Any,
    Awaitable,
    Callable,
    Dict,
    List,
    Optional,
    Tuple,
    Type,
)

from conformity import fields
from pymetrics.recorders.base import MetricsRecorder

from pysoa.client.aio import (
    AsyncClient,
    AsyncClientMiddleware,
    AsyncClientRequestMiddlewareTask,
    AsyncClientResponseMiddlewareTask,
    AsyncClientTransport,
)
from pysoa.client.aio._transport import ASYNC_TRANSPORTS
from pysoa.client.middleware import (
    ClientMiddleware,
    ClientRequestMiddlewareTask,
    ClientResponseMiddlewareTask,
)
from pysoa.common.transport.base import (
    ClientTransport,
    ReceivedMessage,
)
from pysoa.common.transport.errors import MessageReceiveTimeout
from pysoa.common.types import (
    JobRequest,
    JobResponse,
)
from pysoa.server.server import Server
from tests.unit.client.services import (
    SERVER_SETTINGS,
    MainServer,
    OtherServer,
)


MODULE = 'tests.unit.client_aio.support'

#: The longest any test may take: a test that hangs fails instead.
TEST_DEADLINE_SECONDS = 30


def run_async(test: Callable[..., Awaitable[None]]) -> Callable[..., None]:
    """Make a coroutine test function a plain one, run in a new event loop, failing if it takes too long."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        async def with_deadline() -> None:
            await asyncio.wait_for(test(*args, **kwargs), TEST_DEADLINE_SECONDS)

        asyncio.run(with_deadline())

    return run


def local_service(server_class: Type[Server], **settings: Any) -> Dict[str, Any]:
    """The client settings of a service run in-process by the local transport."""
    return dict(
        {
            'transport': {
                'path': 'pysoa.common.transport.local:LocalClientTransport',
                'kwargs': {'server_class': server_class, 'server_settings': SERVER_SETTINGS},
            },
        },
        **settings,
    )


def local_config(**settings: Any) -> Dict[str, Any]:
    """A client configuration for the services ``svc`` and ``other``, both in-process."""
    return {'svc': local_service(MainServer, **settings), 'other': local_service(OtherServer, **settings)}


# A transport each test drives ---------------------------------------------------------------------------------------


@fields.ClassConfigurationSchema.provider(
    fields.Dictionary(
        {'receive_timeout_in_seconds': fields.Float()},
        optional_keys=('receive_timeout_in_seconds',),
    )
)
class HandDeliveredTransport(ClientTransport):
    """The synchronous name of :class:`HandDeliveredAsyncTransport`, for settings; it cannot be used itself."""

    def send_request_message(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError('Use HandDeliveredAsyncTransport')

    def receive_response_message(self, receive_timeout_in_seconds: Optional[int] = None) -> ReceivedMessage:
        raise NotImplementedError('Use HandDeliveredAsyncTransport')


class HandDeliveredAsyncTransport(AsyncClientTransport):
    """
    Records what is sent; delivers only what the test hands it (:meth:`deliver`, :meth:`fail_next_receive`), in
    whatever order the test chooses.
    """

    def __init__(self, service_name: str, metrics: MetricsRecorder, receive_timeout_in_seconds: float = 5) -> None:
        super().__init__(service_name, metrics)
        self.receive_timeout = receive_timeout_in_seconds
        self.sent: List[Tuple[int, Dict[str, Any], Dict[str, Any], Optional[int]]] = []
        self.send_errors: List[Exception] = []
        self.receives = 0
        self.closed = False
        self._inbox: asyncio.Queue[Any] = asyncio.Queue()

    @property
    def default_receive_timeout_in_seconds(self) -> Optional[float]:
        return self.receive_timeout

    async def send_request_message(
        self,
        request_id: int,
        meta: Dict[str, Any],
        body: Dict[str, Any],
        message_expiry_in_seconds: Optional[int] = None,
    ) -> None:
        if self.send_errors:
            raise self.send_errors.pop(0)
        self.sent.append((request_id, meta, body, message_expiry_in_seconds))

    async def receive_response_message(self, receive_timeout_in_seconds: Optional[float] = None) -> ReceivedMessage:
        self.receives += 1
        try:
            delivery = await asyncio.wait_for(self._inbox.get(), receive_timeout_in_seconds)
        except asyncio.TimeoutError:
            raise MessageReceiveTimeout(f'No message received for service {self.service_name}') from None
        if isinstance(delivery, Exception):
            raise delivery
        return delivery  # type: ignore[no-any-return]

    def request_ids(self) -> List[int]:
        return [request_id for request_id, _, _, _ in self.sent]

    def deliver(self, request_id: Any, body: Optional[Dict[str, Any]] = None, **action_body: Any) -> None:
        """Deliver a response to ``request_id``: ``body`` as the job response, by default one ``echo`` action."""
        if body is None:
            body = {'actions': [{'action': 'echo', 'body': action_body}]}
        self._inbox.put_nowait(ReceivedMessage(request_id, {}, body))

    def fail_next_receive(self, error: Exception) -> None:
        self._inbox.put_nowait(error)

    async def close(self) -> None:
        self.closed = True


class HandDeliveredClient(AsyncClient):
    """An AsyncClient that also knows the hand-delivered transport (how a project adds a transport of its own)."""

    transport_classes = dict(
        ASYNC_TRANSPORTS,
        **{f'{MODULE}:HandDeliveredTransport': f'{MODULE}:HandDeliveredAsyncTransport'},
    )


def hand_delivered_client(
    *services: str,
    receive_timeout_in_seconds: float = 5,
    **settings: Any,
) -> HandDeliveredClient:
    """A client of ``services`` (by default ``svc``), each through its own hand-delivered transport."""
    transport = {
        'path': f'{MODULE}:HandDeliveredTransport',
        'kwargs': {'receive_timeout_in_seconds': receive_timeout_in_seconds},
    }
    config = {service: dict({'transport': transport}, **settings) for service in services or ('svc',)}
    return HandDeliveredClient(config)


def transport_of(client: AsyncClient, service: str = 'svc') -> HandDeliveredAsyncTransport:
    transport = client._get_handler(service).transport
    assert isinstance(transport, HandDeliveredAsyncTransport)
    return transport


async def wait_until(condition: Callable[[], Any], description: str, timeout: float = 5) -> None:
    """Let the loop run until ``condition()`` is true, failing after ``timeout`` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, f'Timed out waiting for {description}'
        await asyncio.sleep(0.001)


# Middleware ---------------------------------------------------------------------------------------------------------


@fields.ClassConfigurationSchema.provider(fields.Dictionary({'name': fields.UnicodeString()}))
class AsyncTrailMiddleware(AsyncClientMiddleware):
    """
    Appends its name to a ``trail`` list in the request's meta and context on the way out, and in the response's
    context on the way back, so tests can see the order middleware ran in.
    """

    def __init__(self, name: str) -> None:
        self.name = name

    def async_request(self, send_request: AsyncClientRequestMiddlewareTask) -> AsyncClientRequestMiddlewareTask:
        async def send(request_id: int, meta: Dict[str, Any], job_request: JobRequest, expiry: Optional[int]) -> None:
            meta.setdefault('trail', []).append(self.name)
            job_request.context.setdefault('trail', []).append(self.name)
            await send_request(request_id, meta, job_request, expiry)

        return send

    def async_response(self, get_response: AsyncClientResponseMiddlewareTask) -> AsyncClientResponseMiddlewareTask:
        async def receive(timeout: Optional[float]) -> Tuple[Optional[int], Optional[JobResponse]]:
            request_id, job_response = await get_response(timeout)
            if job_response is not None:
                job_response.context.setdefault('trail', []).append(self.name)
            return request_id, job_response

        return receive


class BothClientsMiddleware(AsyncClientMiddleware):
    """Marks the request's context with the kind of client that sent it: one class for both clients."""

    def request(self, send_request: ClientRequestMiddlewareTask) -> ClientRequestMiddlewareTask:
        def send(request_id: int, meta: Dict[str, Any], job_request: JobRequest, expiry: Optional[int]) -> None:
            job_request.context['sent_by'] = 'sync'
            send_request(request_id, meta, job_request, expiry)

        return send

    def async_request(self, send_request: AsyncClientRequestMiddlewareTask) -> AsyncClientRequestMiddlewareTask:
        async def send(request_id: int, meta: Dict[str, Any], job_request: JobRequest, expiry: Optional[int]) -> None:
            job_request.context['sent_by'] = 'async'
            await send_request(request_id, meta, job_request, expiry)

        return send


class SyncOnlyMiddleware(ClientMiddleware):
    """Middleware written for the synchronous client only."""

    def response(self, get_response: ClientResponseMiddlewareTask) -> ClientResponseMiddlewareTask:
        return get_response
