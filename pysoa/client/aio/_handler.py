"""
One service as seen from an :class:`pysoa.client.aio.AsyncClient`: its transport and middleware, the calls waiting
for a response, and how each response reaches the call waiting for it.
"""

import asyncio
import logging
import random
from typing import (
    Any,
    Dict,
    Iterable,
    List,
    Optional,
    Tuple,
    Type,
)

from pymetrics.instruments import TimerResolution
from pymetrics.recorders.base import MetricsRecorder

from pysoa.client.aio._deadlines import Deadlines
from pysoa.client.aio._middleware import (
    AsyncClientMiddleware,
    AsyncClientRequestMiddlewareTask,
    AsyncClientResponseMiddlewareTask,
)
from pysoa.client.aio._transport import AsyncClientTransport
from pysoa.client.service_handler import InvalidJobResponseError
from pysoa.client.settings import ClientSettings
from pysoa.common._metrics import make_metrics_recorder
from pysoa.common._wire import job_request_to_dict
from pysoa.common.transport.base import ReceivedMessage
from pysoa.common.transport.errors import (
    MessageReceiveError,
    MessageReceiveTimeout,
    PySOATransportError,
)
from pysoa.common.types import (
    JobRequest,
    JobResponse,
)
from pysoa.utils import chain_middleware
from pysoa.version import __version_info__


__all__ = (
    'AsyncServiceHandler',
    'ClientClosedError',
    'discard',
)

_logger = logging.getLogger('pysoa.client.client')
_MICROSECONDS = TimerResolution.MICROSECONDS


class ClientClosedError(MessageReceiveError):
    """
    The :class:`pysoa.client.aio.AsyncClient` was closed: the call was waiting for its response then, or was made
    after. Make calls inside ``async with AsyncClient(...)``, or before ``await client.close()``.
    """


class AsyncServiceHandler:
    """
    Sends requests to one service and receives all of its responses, through the configured middleware and
    transport. Created by :class:`pysoa.client.aio.AsyncClient` on the first call to the service.

    Every request waiting for a response has a future, by request id, resolved with the response when it arrives.
    Without middleware, a transport that can (see ``AsyncClientTransport.listen``) hands each response to the handler
    as it arrives. Otherwise one task (started when a request is sent and none runs, ending once no request has waited
    for :attr:`idle_receive_seconds`) receives every response on the client's reply queue, through the middleware.
    A response nobody waits for any more (its call timed out or was cancelled) is dropped, with a warning on the
    logger ``pysoa.client.client`` and the metric ``client.receive.error.unwanted_response``: request ids never
    repeat, so it cannot reach another call.

    :param service_name: The service's name.
    :param settings: The service's (validated) client settings.
    :param transport_class: The asynchronous transport class to build with the settings' transport kwargs.
    """

    _client_version: List[int] = list(__version_info__)

    idle_receive_seconds: float = 1.0
    """
    How long the receiving task waits for a response at a time. It stops once it has waited that long while no call
    was waiting; until then, a new call's response is received at once.
    """

    def __init__(
        self,
        service_name: str,
        settings: ClientSettings,
        transport_class: Type[AsyncClientTransport],
    ) -> None:
        self.service_name = service_name
        self.metrics: MetricsRecorder = make_metrics_recorder(settings['metrics'])
        with self.metrics.timer('client.transport.initialize', resolution=_MICROSECONDS):
            self.transport: AsyncClientTransport = transport_class.from_settings(
                settings['transport']['object'],
                service_name,
                self.metrics,
                **settings['transport'].get('kwargs', {}),
            )
        with self.metrics.timer('client.middleware.initialize', resolution=_MICROSECONDS):
            self.middleware: List[AsyncClientMiddleware] = [
                m['object'](**m.get('kwargs', {})) for m in settings['middleware']
            ]
        base_send: AsyncClientRequestMiddlewareTask = self._base_send_request
        base_receive: AsyncClientResponseMiddlewareTask = self._base_get_response
        self._send_request_stack = chain_middleware([m.async_request for m in self.middleware], base_send)
        self._get_response_stack = chain_middleware([m.async_response for m in self.middleware], base_receive)

        # Without middleware, the handler calls the transport itself: one coroutine less per request, and, from a
        # transport that can, each response as it arrives, with no receiving task.
        self._plain = not self.middleware
        self.request_counter = random.randint(1, 1000000)
        self._waiting: Dict[int, asyncio.Future[JobResponse]] = {}
        self._deadlines = Deadlines(self._time_out_one)
        self._receiver: Optional[asyncio.Task[None]] = None
        self._pushed = self._plain and self.transport.listen(self)
        self._closed = False

    @property
    def waiting(self) -> int:
        """How many requests wait for a response."""
        return len(self._waiting)

    # Sending --------------------------------------------------------------------------------------------------------

    async def _base_send_request(
        self,
        request_id: int,
        meta: Dict[str, Any],
        job_request: JobRequest,
        message_expiry_in_seconds: Optional[int] = None,
    ) -> None:
        with self.metrics.timer('client.send.excluding_middleware', resolution=_MICROSECONDS):
            body = job_request_to_dict(job_request) if isinstance(job_request, JobRequest) else job_request
            await self.transport.send_request_message(request_id, meta, body, message_expiry_in_seconds)

    async def send_request(
        self,
        job_request: JobRequest,
        message_expiry_in_seconds: Optional[int] = None,
    ) -> Tuple[int, Optional['asyncio.Future[JobResponse]']]:
        """
        Send a job request through the middleware and transport.

        :return: The request's id, and the future of its response (``None`` if the request asks for none). The
                 future waits until the response arrives, an error stands for it, or the caller stops waiting with
                 :meth:`forget`.

        :raises ClientClosedError: If the client was closed.
        """
        if self._closed:
            raise ClientClosedError(f'This AsyncClient was closed: it cannot call service {self.service_name} any more')
        request_id = self.request_counter
        self.request_counter += 1
        future: Optional[asyncio.Future[JobResponse]] = None
        if not job_request.control.get('suppress_response'):
            # Waiting, and receiving, before the request leaves: its response may come before this coroutine resumes.
            loop = asyncio.get_running_loop()
            future = loop.create_future()
            self._waiting[request_id] = future
            if self._receiver is None and not self._pushed:
                self._receiver = loop.create_task(self._receive_responses())
        meta: Dict[str, Any] = {'client_version': list(self._client_version)}
        try:
            with self.metrics.timer('client.send.including_middleware', resolution=_MICROSECONDS):
                if self._plain:
                    with self.metrics.timer('client.send.excluding_middleware', resolution=_MICROSECONDS):
                        await self.transport.send_request_message(
                            request_id,
                            meta,
                            job_request_to_dict(job_request),
                            message_expiry_in_seconds,
                        )
                else:
                    await self._send_request_stack(request_id, meta, job_request, message_expiry_in_seconds)
        except BaseException:
            if future is not None:
                self.forget_one(request_id)
            raise
        finally:
            self.metrics.publish_all()
        return request_id, future

    @property
    def plain(self) -> bool:
        """Whether the service has no middleware: :meth:`call_wire` can send its jobs."""
        return self._plain

    async def call(
        self,
        job_request: JobRequest,
        timeout: Optional[int],
        started: float,
    ) -> JobResponse:
        """
        Send a job request and return its response: :meth:`send_request` then :meth:`wait_for`, waiting up to what is
        left of ``timeout`` since ``started`` (the loop's time), or the transport's receive timeout once sent; without
        middleware, :meth:`call_wire` with the job's wire form.
        """
        if self._plain:
            return await self.call_wire(job_request_to_dict(job_request), timeout, started)
        request_id, future = await self.send_request(job_request, timeout)
        assert future is not None, 'a call expects a response'
        loop = asyncio.get_running_loop()
        patience = self.patience(timeout, started, loop)
        return await self.wait_for(request_id, future, patience, timeout or patience)

    async def call_wire(
        self,
        body: Dict[str, Any],
        timeout: Optional[int],
        started: Optional[float] = None,
    ) -> JobResponse:
        """
        Send a job request in its wire form (see :mod:`pysoa.common._wire`) straight to the transport, and return its
        response, waiting up to what is left of ``timeout`` since ``started`` (the loop's time; by default now) once
        sent, or the transport's receive timeout. Only for a service without middleware (see :attr:`plain`). Through
        a transport that can (see ``AsyncClientTransport.start_send_request_message``), the call waits only for the
        response: the request's acceptance, or the error that stops it, reaches it through the response's future.

        :raises ClientClosedError: If the client was closed.
        """
        if self._closed:
            raise ClientClosedError(f'This AsyncClient was closed: it cannot call service {self.service_name} any more')
        loop = asyncio.get_running_loop()
        if started is None:
            started = loop.time()
        request_id = self.request_counter
        self.request_counter = request_id + 1
        future: asyncio.Future[JobResponse] = loop.create_future()
        waiting = self._waiting
        waiting[request_id] = future
        if self._receiver is None and not self._pushed:
            self._receiver = loop.create_task(self._receive_responses())

        def sent(error: Optional[BaseException]) -> None:
            if error is None:
                patience = self.patience(timeout, started, loop)
                if patience is not None:
                    self._deadlines.add(loop, loop.time() + patience, request_id, timeout or patience)
            elif waiting.pop(request_id, None) is future and not future.done():
                future.set_exception(error)

        meta: Dict[str, Any] = {'client_version': list(self._client_version)}
        transport = self.transport
        try:
            with self.metrics.timer('client.send.including_middleware', resolution=_MICROSECONDS):
                with self.metrics.timer('client.send.excluding_middleware', resolution=_MICROSECONDS):
                    if not transport.start_send_request_message(request_id, meta, body, timeout, sent):
                        await transport.send_request_message(request_id, meta, body, timeout)
                        sent(None)
        except BaseException:
            self.forget_one(request_id)
            raise
        finally:
            self.metrics.publish_all()
        try:
            return await future
        except BaseException:  # answered, its future is gone already
            self.forget_one(request_id)
            raise

    def patience(
        self,
        timeout: Optional[float],
        started: Optional[float],
        loop: asyncio.AbstractEventLoop,
    ) -> Optional[float]:
        """
        How long a call waits for a response: what is left of its ``timeout`` since it ``started`` (the loop's time;
        ``None``: now), or, without a timeout, the transport's receive timeout (``None``: no limit).
        """
        if not timeout:
            return self.transport.default_receive_timeout_in_seconds
        if started is None:
            return timeout
        return max(0.0, started + timeout - loop.time())

    def expire_later(self, request_id: int) -> None:
        """
        Stop waiting for the response to a request sent by ``send_request`` (its future then raises a
        :class:`MessageReceiveTimeout`) once the request has expired and the transport's receive timeout has passed,
        unless the transport's requests never expire.
        """
        expiry = self.transport.default_message_expiry_in_seconds
        if expiry is not None:
            self.time_out_later([request_id], expiry + (self.transport.default_receive_timeout_in_seconds or 0))

    # Waiting --------------------------------------------------------------------------------------------------------

    def forget(self, request_ids: Iterable[int]) -> None:
        """Stop waiting for these requests: their futures are cancelled, and their responses dropped if they come."""
        for request_id in request_ids:
            self.forget_one(request_id)

    def forget_one(self, request_id: int) -> None:
        """Stop waiting for this request (see :meth:`forget`)."""
        future = self._waiting.pop(request_id, None)
        if future is not None:
            discard(future)

    def time_out_later(self, request_ids: Iterable[int], patience: float, timeout: Optional[float] = None) -> None:
        """
        Fail the futures of these requests with a :class:`MessageReceiveTimeout` if they still wait ``patience``
        seconds from now.

        :param timeout: The timeout to name in the error (by default, ``patience``).
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + patience
        for request_id in request_ids:
            self._deadlines.add(loop, deadline, request_id, timeout or patience)

    def _time_out_one(self, request_id: int, timeout: float) -> None:
        future = self._waiting.pop(request_id, None)
        if future is not None and not future.done():
            future.set_exception(self.transport.no_response_error(timeout))

    async def wait_for(
        self,
        request_id: int,
        future: 'asyncio.Future[JobResponse]',
        timeout: Optional[float],
        call_timeout: Optional[float] = None,
    ) -> JobResponse:
        """
        The response to a request, waiting up to ``timeout`` seconds (``None``: until it comes). ``future`` is the
        request's future, or one that follows it.

        :param call_timeout: The timeout of the call, named in the error (by default ``timeout``).

        :raises MessageReceiveTimeout: If it did not come in time (or came after it expired).
        :raises PySOATransportError: If receiving it failed.
        """
        if timeout is not None and not future.done():
            loop = asyncio.get_running_loop()
            self._deadlines.add(loop, loop.time() + timeout, request_id, call_timeout or timeout)
        try:
            return await future
        finally:
            self.forget_one(request_id)

    # Receiving ------------------------------------------------------------------------------------------------------

    async def _base_get_response(
        self,
        receive_timeout_in_seconds: Optional[float] = None,
    ) -> Tuple[Optional[int], Optional[JobResponse]]:
        request_id, _meta, body = await self.transport.receive_response_message(receive_timeout_in_seconds)
        if body is None:
            return None, None
        return request_id, self._job_response(request_id, body)

    def _job_response(self, request_id: Any, body: Any) -> JobResponse:
        try:
            return JobResponse(**body)
        except TypeError as e:  # not a mapping, or not the fields of one
            raise InvalidJobResponseError(
                request_id,
                f'Service {self.service_name} sent an invalid job response to request {request_id}: {e}',
            ) from e

    def response_received(self, message: ReceivedMessage) -> None:
        """A response from a transport that hands them over as they arrive (see ``AsyncClientTransport.listen``)."""
        request_id, _meta, body = message
        future = self._awaited(request_id)
        if future is None:
            return
        try:
            response = self._job_response(request_id, body)
        except InvalidJobResponseError as e:
            future.set_exception(e)
        else:
            future.set_result(response)

    def receive_failed(self, error: PySOATransportError) -> None:
        """Receiving failed, as a transport that hands responses over as they arrive tells it."""
        failed_id = getattr(error, 'request_id', None)
        if failed_id is not None:
            self._resolve(failed_id, error)
        else:
            self._fail_all(error)

    async def _receive_responses(self) -> None:
        """
        Hand each response to the future of its request, until no request has waited for a whole
        :attr:`idle_receive_seconds` (or receiving fails).
        """
        receive = self._base_get_response if self._plain else self._get_response_stack
        transport = self.transport
        try:
            while True:
                try:
                    request_id, response = await receive(self.idle_receive_seconds)
                except PySOATransportError as e:
                    # An error standing for one response (it expired, or is not a job response) names its request.
                    failed_id = getattr(e, 'request_id', None)
                    if failed_id is not None:
                        self._resolve(failed_id, e)
                    elif not isinstance(e, MessageReceiveTimeout):
                        self._fail_all(e)
                        return
                    elif not self._waiting:
                        return
                except Exception as e:
                    _logger.exception('Receiving a response from service %s failed', self.service_name)
                    self._fail_all(e)
                    return
                else:
                    if request_id is not None and response is not None:
                        self._resolve(request_id, response)
                if not transport.responses_ready:
                    # The calls just answered run first: waiting for more responses can wait for them.
                    await asyncio.sleep(0)
        finally:
            self._receiver = None
            self.metrics.publish_all()

    def _resolve(self, request_id: Any, outcome: Any) -> None:
        future = self._awaited(request_id)
        if future is None:
            return
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)

    def _awaited(self, request_id: Any) -> 'Optional[asyncio.Future[JobResponse]]':
        """The future awaiting this request's response, no longer waiting; ``None`` (response dropped) if none."""
        try:
            future = self._waiting.pop(request_id, None)
        except TypeError:  # a stray message's "request id" that is not even hashable
            future = None
        if future is not None and not future.done():
            return future
        self.metrics.counter('client.receive.error.unwanted_response').increment()
        _logger.warning(
            'Dropping response from service %s to request %r, which nobody is waiting for',
            self.service_name,
            request_id,
        )
        return None

    def _fail_all(self, error: BaseException) -> None:
        waiting, self._waiting = self._waiting, {}
        for future in waiting.values():
            if not future.done():
                future.set_exception(error)

    # Closing --------------------------------------------------------------------------------------------------------

    async def close(self) -> None:
        """Fail the calls still waiting with :class:`ClientClosedError`, stop receiving, and close the transport."""
        if self._closed:
            return
        self._closed = True
        self._deadlines.clear()
        self._fail_all(
            ClientClosedError(
                f'The AsyncClient was closed while this call waited for a response from service {self.service_name}',
            )
        )
        receiver = self._receiver
        if receiver is not None:
            receiver.cancel()
            await asyncio.wait([receiver])
        await self.transport.close()


def discard(future: 'asyncio.Future[Any]') -> None:
    """Cancel a future nobody will await; if it is already done, mark its exception as seen."""
    if future.done():
        if not future.cancelled():
            future.exception()
    else:
        future.cancel()
