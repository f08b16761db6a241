"""The asyncio client: call actions on services from coroutines, any number of calls at once."""

import asyncio
import weakref
from types import TracebackType
from typing import (
    Any,
    AsyncIterator,
    Dict,
    Generator,
    Iterable,
    List,
    Mapping,
    Optional,
    Tuple,
    Type,
    Union,
)

from pysoa.client._headers import (
    Switches,
    make_context_header,
    make_control_header,
)
from pysoa.client._options import (
    ActionRequestArgument,
    CallOptions,
)
from pysoa.client._stub_registry import (
    StubbedJob,
    stub_registry,
)
from pysoa.client.aio._claims import Claims
from pysoa.client.aio._expansions import perform_expansions
from pysoa.client.aio._handler import (
    AsyncServiceHandler,
    ClientClosedError,
    discard,
)
from pysoa.client.aio._middleware import AsyncClientMiddleware
from pysoa.client.aio._transport import (
    ASYNC_TRANSPORTS,
    AsyncClientTransport,
    async_transport_class,
)
from pysoa.client.client import (
    ParallelActionResult,
    ParallelJobResult,
    _action_of_job,
    _actions_of_jobs,
    _raise_for_errors,
)
from pysoa.client.errors import (
    CallActionError,
    CallJobError,
    ImproperlyConfigured,
    InvalidExpansionKey,
)
from pysoa.client.expander import (
    ExpansionConverter,
    Expansions,
    ExpansionSettings,
)
from pysoa.client.settings import (
    ClientSettings,
    get_validated_settings,
)
from pysoa.common._wire import copy_message
from pysoa.common.transport.errors import PySOATransportError
from pysoa.common.types import (
    ActionRequest,
    ActionResponse,
    Body,
    Context,
    Control,
    JobRequest,
    JobResponse,
)


__all__ = ('AsyncClient',)


# The calls build their CallOptions with ``CallOptions.__new__(CallOptions, ...)``, as the synchronous client does:
# it skips ``type.__call__``, which costs more than the rest, and checks the keywords all the same.


class _Prepared:
    """One job of a call, ready to send: built, with its stubbed actions (if any) already answered."""

    __slots__ = ('handler', 'job_request', 'service_name', 'stubbed')

    def __init__(
        self,
        service_name: str,
        handler: Optional[AsyncServiceHandler],
        job_request: Optional[JobRequest],
        stubbed: Optional[StubbedJob],
    ) -> None:
        self.service_name = service_name
        self.handler = handler
        self.job_request = job_request
        """What to send to the service (``None`` if the stubs answered the whole job)."""
        self.stubbed = stubbed


class _Sent:
    """One job of a call, sent: the future of its response, or the transport error that stopped it."""

    __slots__ = ('error', 'future', 'handler', 'request_id')

    def __init__(
        self,
        handler: Optional[AsyncServiceHandler],
        request_id: Optional[int] = None,
        future: Optional['asyncio.Future[JobResponse]'] = None,
        error: Optional[BaseException] = None,
    ) -> None:
        self.handler = handler
        """The handler that sent it (``None`` if the stubs answered the whole job)."""
        self.request_id = request_id
        self.future = future
        """Settles with its response (``None`` if it asked for none, or was not sent)."""
        self.error = error

    def forget(self) -> None:
        if self.future is not None:
            if self.handler is not None and self.request_id is not None:
                self.handler.forget([self.request_id])
            discard(self.future)


class AsyncClient:
    """
    Calls actions on services from asyncio code, with the configuration, calls, options, results and errors of
    :class:`pysoa.client.client.Client`: each ``call_*`` method is a coroutine returning what the synchronous method
    of the same name returns. Any number of calls may be awaited at once (from any number of tasks of the client's
    event loop): they share one reply queue per service, and each response is handed to the call awaiting it.

    Use it as an asynchronous context manager, or call :meth:`close`, to close its connections::

        async with AsyncClient(config) as client:
            response = await client.call_action('example', 'square', {'number': 7})

    A call's ``timeout`` (by default, the transport's receive timeout) bounds the whole call; cancelling the task of a
    call stops waiting for its response, which is dropped if it comes later. There are no ``*_future`` methods: a
    task (``asyncio.create_task(client.call_action(...))``) is the future of a call.

    :param config: ``{service_name: settings}``, the same dict a :class:`~pysoa.client.client.Client` takes, validated
                   now with :attr:`settings_class`. Each service's transport must have an asynchronous twin (the Redis
                   and local transports do; see :attr:`transport_classes`), and its middleware must be
                   :class:`~pysoa.client.aio.AsyncClientMiddleware`. Transports are created on first use.
    :param expansion_config: The expansion configuration (:class:`pysoa.client.expander.ExpansionSettings`), to
                             enable the ``expansions`` argument of the ``call_*`` methods.
    :param context: A base context for every request this client sends; each call may add to and override it.

    :raises ImproperlyConfigured: If a service's transport or middleware cannot be used asynchronously.
    """

    settings_class: Type[ClientSettings] = ClientSettings
    handler_class: Type[AsyncServiceHandler] = AsyncServiceHandler
    transport_classes: Dict[str, str] = ASYNC_TRANSPORTS
    """The asynchronous twin of each synchronous transport class, by import path (``module:Class``)."""

    ImproperlyConfigured = ImproperlyConfigured
    InvalidExpansionKey = InvalidExpansionKey
    JobError = CallJobError
    CallJobError = CallJobError
    CallActionError = CallActionError

    def __init__(
        self,
        config: Optional[Mapping[str, Mapping[str, Any]]],
        expansion_config: Optional[Mapping[str, Any]] = None,
        context: Optional[Context] = None,
    ) -> None:
        self.config = config or {}
        self.context: Context = context or {}
        self.settings: Dict[str, ClientSettings] = {
            service_name: get_validated_settings(self.settings_class, service_config)
            for service_name, service_config in self.config.items()
        }
        self._transport_classes: Dict[str, Type[AsyncClientTransport]] = {
            service_name: self._check_settings(service_name, settings)
            for service_name, settings in self.settings.items()
        }
        self.handlers: Dict[str, AsyncServiceHandler] = {}
        self.expansion_converter: Optional[ExpansionConverter] = None
        if expansion_config:
            expansion_settings = ExpansionSettings(expansion_config)
            self.expansion_converter = ExpansionConverter(
                type_routes=expansion_settings['type_routes'],
                type_expansions=expansion_settings['type_expansions'],
            )
        self._claims: weakref.WeakKeyDictionary[asyncio.Task[Any], Dict[str, Claims]] = weakref.WeakKeyDictionary()
        self._closed = False

    def _check_settings(self, service_name: str, settings: ClientSettings) -> Type[AsyncClientTransport]:
        for middleware in settings['middleware']:
            middleware_class = middleware['object']
            if not issubclass(middleware_class, AsyncClientMiddleware):
                raise self.ImproperlyConfigured(
                    f'The middleware {middleware_class.__module__}:{middleware_class.__qualname__} of service '
                    f'{service_name} is not an AsyncClientMiddleware: the AsyncClient cannot run it. Make it extend '
                    f'pysoa.client.aio.AsyncClientMiddleware and implement async_request and async_response.',
                )
        return async_transport_class(settings['transport']['object'], self.transport_classes)

    def _get_handler(self, service_name: str) -> AsyncServiceHandler:
        """The service's handler, created on first use."""
        handler = self.handlers.get(service_name)
        if handler is None:
            if not isinstance(service_name, str):
                raise ValueError(f'Called service name "{service_name}" must be unicode')
            if self._closed:
                raise ClientClosedError(f'This AsyncClient was closed: it cannot call service {service_name} any more')
            if service_name not in self.settings:
                raise self.ImproperlyConfigured(f'Unrecognized service name "{service_name}"')
            handler = self.handlers[service_name] = self.handler_class(
                service_name,
                self.settings[service_name],
                self._transport_classes[service_name],
            )
        return handler

    # Closing ----------------------------------------------------------------------------------------------------------

    async def close(self) -> None:
        """
        Close the client's connections. Calls still waiting for a response fail with
        :class:`pysoa.client.aio.ClientClosedError`, as do calls made afterwards.
        """
        self._closed = True
        for handler in list(self.handlers.values()):
            await handler.close()

    async def __aenter__(self) -> 'AsyncClient':
        return self

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc_value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        await self.close()

    # What the calls share ---------------------------------------------------------------------------------------------

    def _prepare(
        self,
        service_name: str,
        actions: Iterable[ActionRequestArgument],
        options: CallOptions,
        suppress_response: bool = False,
    ) -> _Prepared:
        """
        Build a job, and let the active stubs (see :mod:`pysoa.client._stub_registry`) answer its stubbed actions.

        :raises ImproperlyConfigured: If something must be sent to a service the client has no settings for.
        """
        job_request = self._job_request(actions, options, suppress_response)
        if stub_registry.active:
            stubbed = stub_registry.answer_job(service_name, job_request)
            if stubbed is not None:
                real_request = stubbed.real_request
                handler = None if real_request is None else self._get_handler(service_name)
                return _Prepared(service_name, handler, real_request, stubbed)
        return _Prepared(service_name, self._get_handler(service_name), job_request, None)

    def _job_request(
        self,
        actions: Iterable[ActionRequestArgument],
        options: CallOptions,
        suppress_response: bool = False,
    ) -> JobRequest:
        return JobRequest(
            actions=[a if isinstance(a, ActionRequest) else ActionRequest(**a) for a in actions],
            context=make_context_header(self.context, options.switches, options.correlation_id, options.context),
            control=make_control_header(
                options.continue_on_error,
                options.control_extra,
                options.timeout,
                suppress_response,
            ),
        )

    async def _send(self, prepared: _Prepared, options: CallOptions) -> _Sent:
        """Send a prepared job (its part that is not stubbed)."""
        handler, stubbed = prepared.handler, prepared.stubbed
        if handler is None or prepared.job_request is None:
            assert stubbed is not None, 'a job sends something unless the stubs answered it'
            request_id = stub_registry.next_request_id()
            if stubbed.request.control.get('suppress_response'):
                return _Sent(None, request_id)
            future: asyncio.Future[JobResponse] = asyncio.get_running_loop().create_future()
            _settle(future, stubbed.outcome())
            return _Sent(None, request_id, future)

        request_id, real_future = await handler.send_request(prepared.job_request, options.timeout)
        if stubbed is None or real_future is None:
            return _Sent(handler, request_id, real_future)
        merged: asyncio.Future[JobResponse] = asyncio.get_running_loop().create_future()
        real_future.add_done_callback(lambda real: _merge(merged, real, stubbed))
        return _Sent(handler, request_id, merged)

    async def _send_all(self, jobs: Iterable[Mapping[str, Any]], options: CallOptions) -> List[_Sent]:
        """
        Build every job (a job that cannot be built raises before any is sent), then send them all at once: their
        requests leave together. A transport error raises, unless caught (it then stands in for its job's response);
        when one raises, the client stops waiting for the other jobs.
        """
        prepared = [self._prepare(job['service_name'], job['actions'], options) for job in jobs]
        if len(prepared) == 1:
            try:
                return [await self._send(prepared[0], options)]
            except PySOATransportError as e:
                if not options.catch_transport_errors:
                    raise
                return [_Sent(prepared[0].handler, error=e)]

        outcomes = await asyncio.gather(*(self._send(each, options) for each in prepared), return_exceptions=True)
        sent = [
            _Sent(each.handler, error=outcome) if isinstance(outcome, BaseException) else outcome
            for each, outcome in zip(prepared, outcomes)
        ]
        for each in sent:
            if each.error is not None and not (
                options.catch_transport_errors and isinstance(each.error, PySOATransportError)
            ):
                for other in sent:
                    other.forget()
                raise each.error
        return sent

    async def _wait_for_one(self, sent: _Sent, timeout: Optional[float], started: float) -> JobResponse:
        future = sent.future
        assert future is not None, 'a call expects a response'
        if sent.handler is None or sent.request_id is None:
            return await future  # the stubs' answer, already there
        loop = asyncio.get_running_loop()
        patience = sent.handler.patience(timeout, started, loop)
        return await sent.handler.wait_for(sent.request_id, future, patience, timeout or patience)

    async def _wait_for_all(
        self,
        sent: List[_Sent],
        options: CallOptions,
        started: Optional[float] = None,
    ) -> List[ParallelJobResult]:
        """
        The response of each job, or (if caught) the transport error that stands for it, waiting up to the call's
        timeout since it ``started`` (the loop's time; by default, now), or else each transport's receive timeout.
        Unless caught, a transport error raises as soon as it happens.
        """
        loop = asyncio.get_running_loop()
        by_patience: Dict[Tuple[AsyncServiceHandler, Optional[float]], List[int]] = {}
        for each in sent:
            if each.future is not None and each.handler is not None and each.request_id is not None:
                patience = each.handler.patience(options.timeout, started, loop)
                by_patience.setdefault((each.handler, patience), []).append(each.request_id)
        for (handler, patience), request_ids in by_patience.items():
            if patience is not None:
                handler.time_out_later(request_ids, patience, options.timeout or patience)
        futures = [each.future for each in sent if each.future is not None]
        catching = options.catch_transport_errors
        try:
            if futures:
                await asyncio.wait(futures, return_when=asyncio.ALL_COMPLETED if catching else asyncio.FIRST_EXCEPTION)
            results: List[ParallelJobResult] = []
            for each in sent:
                if each.error is not None:
                    results.append(each.error)  # type: ignore[arg-type]
                    continue
                assert each.future is not None, 'a job sent without error expects a response'
                if not each.future.done():
                    continue  # another job failed first, and raises below
                error = each.future.exception()
                if error is None:
                    results.append(each.future.result())
                elif catching and isinstance(error, PySOATransportError):
                    results.append(error)
                else:
                    raise error
            return results
        finally:
            for each in sent:
                each.forget()

    async def _expand(self, actions: List[ActionResponse], options: CallOptions) -> None:
        if options.expansions and self.expansion_converter is not None:
            await perform_expansions(self, self.expansion_converter, actions, options)

    # Sending and receiving --------------------------------------------------------------------------------------------

    async def send_request(
        self,
        service_name: str,
        actions: Iterable[ActionRequestArgument],
        switches: Switches = None,
        correlation_id: Optional[str] = None,
        continue_on_error: bool = False,
        context: Optional[Context] = None,
        control_extra: Optional[Control] = None,
        message_expiry_in_seconds: Optional[int] = None,
        suppress_response: bool = False,
    ) -> int:
        """
        Build and send a job request, without waiting for its response (nor performing expansions); collect the
        response with :meth:`get_all_responses`, in the same task. The parameters are those of
        :meth:`pysoa.client.client.Client.send_request`.

        :return: The request id.
        """
        # fmt: off
        options = CallOptions.__new__(CallOptions, switches=switches, correlation_id=correlation_id,
            continue_on_error=continue_on_error, context=context, control_extra=control_extra,
            timeout=message_expiry_in_seconds)
        # fmt: on
        sent = await self._send(self._prepare(service_name, actions, options, suppress_response), options)
        assert sent.request_id is not None, 'a job sent has a request id'
        if sent.future is not None:
            task = asyncio.current_task()
            assert task is not None, 'coroutines run in tasks'
            by_service = self._claims.setdefault(task, {})
            claims = by_service.get(service_name)
            if claims is None:
                claims = by_service[service_name] = Claims(service_name)
            claims.add(sent.request_id, sent.future)
            if sent.handler is not None:
                sent.handler.expire_later(sent.request_id)
        return sent.request_id

    async def get_all_responses(
        self,
        service_name: str,
        receive_timeout_in_seconds: Optional[int] = None,
    ) -> AsyncIterator[Tuple[int, JobResponse]]:
        """
        Yield ``(request_id, job_response)`` for every request the current task sent to the service with
        :meth:`send_request` and has not collected yet, as the responses arrive (use ``async for``).

        :raises pysoa.common.transport.errors.MessageReceiveTimeout: If a response does not arrive in time (by
                                                                     default, the transport's receive timeout); the
                                                                     others can still be collected later.
        """
        timeout: Optional[float] = receive_timeout_in_seconds
        if not (stub_registry.active and stub_registry.is_stubbed(service_name)) or service_name in self.settings:
            timeout = timeout or self._get_handler(service_name).transport.default_receive_timeout_in_seconds
        task = asyncio.current_task()
        claims = self._claims.get(task, {}).get(service_name) if task is not None else None
        if claims is not None:
            async for request_id, job_response in claims.collect(timeout):
                yield request_id, job_response

    # Calls ------------------------------------------------------------------------------------------------------------

    async def call_action(
        self,
        service_name: str,
        action: str,
        body: Optional[Body] = None,
        expansions: Optional[Expansions] = None,
        raise_job_errors: bool = True,
        raise_action_errors: bool = True,
        timeout: Optional[int] = None,
        switches: Switches = None,
        correlation_id: Optional[str] = None,
        context: Optional[Context] = None,
        control_extra: Optional[Control] = None,
    ) -> ActionResponse:
        """
        Call one action and return its response; see :meth:`pysoa.client.client.Client.call_action`. With
        ``raise_job_errors=False``, a failed job returns its list of errors instead.

        :param timeout: Seconds after which the request expires and the call stops waiting; by default the
                        transport's receive timeout.

        :raises pysoa.client.errors.CallActionError: If the action failed (unless ``raise_action_errors=False``).
        :raises pysoa.client.errors.CallJobError: If the job failed (unless ``raise_job_errors=False``).
        :raises pysoa.common.transport.errors.MessageReceiveTimeout: If the response did not come in time.
        :raises pysoa.common.transport.errors.PySOATransportError: If the request or response could not travel.
        """
        handler = None if stub_registry.active else self.handlers.get(service_name)
        if handler is not None and handler.plain and not expansions:
            # The common case, built straight in its wire form: no stub to answer it, no middleware, no expansion.
            control = make_control_header(False, control_extra, timeout)
            headers = make_context_header(self.context, switches, correlation_id, context)
            # Copies of whatever the caller may share (see pysoa.common._wire): new headers hold nothing of theirs.
            job_response = await handler.call_wire(
                {
                    'control': copy_message(control) if control_extra else control,
                    'context': copy_message(headers) if self.context or context else headers,
                    'actions': [{'action': action, 'body': copy_message(body or {})}],
                },
                timeout,
            )
            _raise_for_errors(job_response, raise_job_errors, raise_action_errors)
            return _action_of_job(job_response)  # type: ignore[return-value]
        # fmt: off
        options = CallOptions.__new__(CallOptions, expansions=expansions, raise_job_errors=raise_job_errors,
            raise_action_errors=raise_action_errors, timeout=timeout, switches=switches, correlation_id=correlation_id,
            context=context, control_extra=control_extra)
        # fmt: on
        job_response = await self._call(service_name, [ActionRequest(action=action, body=body or {})], options)
        return _action_of_job(job_response)  # type: ignore[return-value]

    async def call_actions(
        self,
        service_name: str,
        actions: Iterable[ActionRequestArgument],
        expansions: Optional[Expansions] = None,
        raise_job_errors: bool = True,
        raise_action_errors: bool = True,
        timeout: Optional[int] = None,
        switches: Switches = None,
        correlation_id: Optional[str] = None,
        continue_on_error: bool = False,
        context: Optional[Context] = None,
        control_extra: Optional[Control] = None,
    ) -> JobResponse:
        """
        Call several actions in one job, run in order by one server, and return the job response; see
        :meth:`pysoa.client.client.Client.call_actions`.

        :raises pysoa.client.errors.CallActionError: If any action failed (unless ``raise_action_errors=False``).
        :raises pysoa.client.errors.CallJobError: If the job failed (unless ``raise_job_errors=False``).
        :raises pysoa.common.transport.errors.PySOATransportError: If the request or response could not travel.
        """
        return await self._call(
            service_name,
            actions,
            CallOptions.__new__(
                CallOptions,
                expansions=expansions,
                raise_job_errors=raise_job_errors,
                raise_action_errors=raise_action_errors,
                timeout=timeout,
                switches=switches,
                correlation_id=correlation_id,
                continue_on_error=continue_on_error,
                context=context,
                control_extra=control_extra,
            ),
        )

    async def _call(
        self,
        service_name: str,
        actions: Iterable[ActionRequestArgument],
        options: CallOptions,
    ) -> JobResponse:
        started = asyncio.get_running_loop().time()
        if stub_registry.active:
            prepared = self._prepare(service_name, actions, options)
            job_response = await self._wait_for_one(await self._send(prepared, options), options.timeout, started)
        else:
            # No stub: the request goes to the service, and the call waits for its response.
            handler = self.handlers.get(service_name) or self._get_handler(service_name)
            job_response = await handler.call(self._job_request(actions, options), options.timeout, started)
        _raise_for_errors(job_response, options.raise_job_errors, options.raise_action_errors)
        await self._expand(job_response.actions, options)
        return job_response

    async def call_actions_parallel(
        self,
        service_name: str,
        actions: Iterable[ActionRequestArgument],
        expansions: Optional[Expansions] = None,
        raise_job_errors: bool = True,
        raise_action_errors: bool = True,
        catch_transport_errors: bool = False,
        timeout: Optional[int] = None,
        switches: Switches = None,
        correlation_id: Optional[str] = None,
        context: Optional[Context] = None,
        control_extra: Optional[Control] = None,
    ) -> Generator[ParallelActionResult, None, None]:
        """
        Call several actions of one service at once, each in its own job; see
        :meth:`pysoa.client.client.Client.call_actions_parallel`.

        :return: A generator of the action responses, in order; with ``raise_job_errors=False`` a failed job gives its
                 list of errors, and with ``catch_transport_errors=True`` a transport failure gives the exception.
        """
        # fmt: off
        options = CallOptions.__new__(CallOptions, expansions=expansions, raise_job_errors=raise_job_errors,
            raise_action_errors=raise_action_errors, catch_transport_errors=catch_transport_errors, timeout=timeout,
            switches=switches, correlation_id=correlation_id, context=context, control_extra=control_extra)
        # fmt: on
        jobs = [{'service_name': service_name, 'actions': [action]} for action in actions]
        return _actions_of_jobs(await self._call_parallel(jobs, options))

    async def call_jobs_parallel(
        self,
        jobs: Iterable[Mapping[str, Any]],
        expansions: Optional[Expansions] = None,
        raise_job_errors: bool = True,
        raise_action_errors: bool = True,
        catch_transport_errors: bool = False,
        timeout: Optional[int] = None,
        switches: Switches = None,
        correlation_id: Optional[str] = None,
        continue_on_error: bool = False,
        context: Optional[Context] = None,
        control_extra: Optional[Control] = None,
    ) -> List[ParallelJobResult]:
        """
        Send several jobs, to one or more services, at once, and return their responses in order; see
        :meth:`pysoa.client.client.Client.call_jobs_parallel`.

        :param jobs: ``{'service_name': ..., 'actions': [...]}`` dicts.
        :param catch_transport_errors: Put transport exceptions in the results, in place of the responses they
                                       prevented, instead of raising them.
        """
        return await self._call_parallel(
            jobs,
            CallOptions.__new__(
                CallOptions,
                expansions=expansions,
                raise_job_errors=raise_job_errors,
                raise_action_errors=raise_action_errors,
                catch_transport_errors=catch_transport_errors,
                timeout=timeout,
                switches=switches,
                correlation_id=correlation_id,
                continue_on_error=continue_on_error,
                context=context,
                control_extra=control_extra,
            ),
        )

    async def _call_parallel(self, jobs: Iterable[Mapping[str, Any]], options: CallOptions) -> List[ParallelJobResult]:
        started = asyncio.get_running_loop().time()
        results = await self._wait_for_all(await self._send_all(jobs, options), options, started)
        actions_to_expand: List[ActionResponse] = []
        for result in results:
            if isinstance(result, JobResponse):
                _raise_for_errors(result, options.raise_job_errors, options.raise_action_errors)
                actions_to_expand.extend(result.actions)
        await self._expand(actions_to_expand, options)
        return results


def _settle(future: 'asyncio.Future[JobResponse]', outcome: Union[JobResponse, Exception]) -> None:
    if isinstance(outcome, Exception):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


def _merge(merged: 'asyncio.Future[JobResponse]', real: 'asyncio.Future[JobResponse]', stubbed: StubbedJob) -> None:
    """Settle ``merged`` with the stubbed job's outcome once its real part's response ``real`` is there."""
    if merged.done():
        return  # its caller stopped waiting
    if real.cancelled():
        merged.cancel()
        return
    error = real.exception()
    if error is not None:
        merged.set_exception(error)
    else:
        _settle(merged, stubbed.outcome(real.result()))
