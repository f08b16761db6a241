"""The PySOA client: call actions on services, one at a time, in jobs, in parallel, or as futures."""

import functools
import math
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    Generator,
    Iterable,
    List,
    Literal,
    Mapping,
    Optional,
    Tuple,
    Type,
    TypeVar,
    Union,
    cast,
    overload,
)

from pysoa.client._blocking import blocking_twin
from pysoa.client._expansion_runner import perform_expansions
from pysoa.client._headers import (
    Switches,
    make_context_header,
    make_control_header,
)
from pysoa.client._options import (
    ActionRequestArgument,
    CallOptions,
)
from pysoa.client._stub_registry import stub_registry
from pysoa.client._stubbed_handler import StubbedServiceHandler
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
from pysoa.client.future import FutureSOAResponse
from pysoa.client.service_handler import ServiceHandler
from pysoa.client.settings import (
    ClientSettings,
    get_validated_settings,
)
from pysoa.common.errors import Error
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


__all__ = (
    'Client',
    'FutureSOAResponse',
    'ServiceHandler',
)

ParallelActionResult = Union[ActionResponse, List[Error], Exception]
ParallelJobResult = Union[JobResponse, Exception]
_Slots = List[Tuple[str, Optional[int], Optional[Exception]]]
_T = TypeVar('_T')


def _whole_seconds(timeout: Optional[float]) -> Optional[int]:
    """
    A call's ``timeout`` as the transports take it: whole seconds, a fraction rounded up (a Redis before 6 and PySOA
    1.x peers take only whole seconds). ``None`` and ``0`` mean the transport's default.

    :raises TypeError: If it is not a number.
    :raises ValueError: If it is negative, infinite or not a number.
    """
    if timeout is None or (type(timeout) is int and timeout >= 0):
        return timeout
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f'timeout must be a number of seconds (int or float), not {timeout!r}')
    if not 0 <= timeout < math.inf:
        raise ValueError(f'timeout must be a positive, finite number of seconds, not {timeout!r}')
    return math.ceil(timeout)


def _unknown_service_message(service_name: str, known: Iterable[str], context: Context) -> str:
    names = ', '.join(f'"{name}"' for name in sorted(known))
    calling_service = context.get('calling_service')
    if calling_service:  # the client of a server, for the nested calls of its actions
        return (
            f'Unrecognized service name "{service_name}": service "{calling_service}" calls it, but its '
            f'client_routing setting has no entry for it ({f"it has entries for {names}" if names else "it is empty"}'
            f'). Add "{service_name}" to the client_routing setting of service "{calling_service}".'
        )
    return (
        f'Unrecognized service name "{service_name}": this client has no settings for it '
        f'({f"it has settings for {names}" if names else "it has settings for no service"}). Add "{service_name}" to '
        f'the configuration the client is built with.'
    )


def _action_requests(actions: Iterable[ActionRequestArgument]) -> List[ActionRequest]:
    return [a if isinstance(a, ActionRequest) else ActionRequest(**a) for a in actions]


def _raise_for_errors(job_response: JobResponse, raise_job_errors: bool, raise_action_errors: bool) -> None:
    if job_response.errors and raise_job_errors:
        raise CallJobError(job_response.errors)
    if raise_action_errors:
        failed = [action for action in job_response.actions if action.errors]
        if failed:
            raise CallActionError(failed)


def _action_of_job(job_response: JobResponse) -> Union[ActionResponse, List[Error]]:
    # Job errors reach here only with raise_job_errors=False: the caller gets them in place of the action.
    return job_response.errors or job_response.actions[0]


def _actions_of_jobs(results: List[ParallelJobResult]) -> Generator[ParallelActionResult, None, None]:
    return (result if isinstance(result, Exception) else _action_of_job(result) for result in results)


class Client:
    """
    Calls actions on services. Each call sends a job (one or more actions, run in order by one server) and returns
    the responses; the ``*_future`` variants send at once and return a :class:`FutureSOAResponse` to collect the
    response later, and the ``*_parallel`` variants send several jobs before waiting for any.

    A client is cheap to keep and should not be shared between threads: responses are delivered to the thread that
    sent the request.

    :param config: ``{service_name: settings}``, each abiding by :attr:`settings_class` (by default
                   :class:`pysoa.client.settings.ClientSettings`). Validated now; transports are created on first use.
    :param expansion_config: The expansion configuration (:class:`pysoa.client.expander.ExpansionSettings`), to
                             enable the ``expansions`` argument of the ``call_*`` methods.
    :param settings_class: The settings class to validate each service's settings with.
    :param context: A base context for every request this client sends; each call may add to and override it.
    """

    settings_class: Type[ClientSettings] = ClientSettings
    handler_class: Type[ServiceHandler] = ServiceHandler
    FutureResponse = FutureSOAResponse

    ImproperlyConfigured = ImproperlyConfigured
    InvalidExpansionKey = InvalidExpansionKey
    JobError = CallJobError
    CallJobError = CallJobError
    CallActionError = CallActionError

    def __init__(
        self,
        config: Optional[Mapping[str, Mapping[str, Any]]],
        expansion_config: Optional[Mapping[str, Any]] = None,
        settings_class: Optional[Type[ClientSettings]] = None,
        context: Optional[Context] = None,
    ) -> None:
        if settings_class is not None:
            self.settings_class = settings_class
        self.config = config or {}
        self.context: Context = context or {}
        self.settings: Dict[str, ClientSettings] = {
            service_name: get_validated_settings(self.settings_class, service_config)
            for service_name, service_config in self.config.items()
        }
        self.handlers: Dict[str, ServiceHandler] = {}
        self.expansion_converter: Optional[ExpansionConverter] = None
        if expansion_config:
            expansion_settings = ExpansionSettings(expansion_config)
            self.expansion_converter = ExpansionConverter(
                type_routes=expansion_settings['type_routes'],
                type_expansions=expansion_settings['type_expansions'],
            )

    def _get_handler(self, service_name: str) -> ServiceHandler:
        """
        The handler to send to and receive from the service: its real handler, or, while a test stubs an action of
        the service (see :mod:`pysoa.client._stub_registry`), a stand-in with the same interface.
        """
        if not isinstance(service_name, str):
            raise ValueError(f'Called service name "{service_name}" must be unicode')
        if stub_registry.active:
            stand_in = stub_registry.stand_in(self, service_name, StubbedServiceHandler)
            if stand_in is not None:
                return cast(ServiceHandler, stand_in)
        handler = self.handlers.get(service_name)
        return handler if handler is not None else self._get_real_handler(service_name)

    def _get_real_handler(self, service_name: str) -> ServiceHandler:
        """The service's real handler, created on first use."""
        handler = self.handlers.get(service_name)
        if handler is None:
            if service_name not in self.settings:
                raise self.ImproperlyConfigured(_unknown_service_message(service_name, self.settings, self.context))
            handler = self.handlers[service_name] = self.handler_class(service_name, self.settings[service_name])
        return handler

    # Sending and receiving ------------------------------------------------------------------------------------------

    def send_request(
        self,
        service_name: str,
        actions: Iterable[ActionRequestArgument],
        switches: Switches = None,
        correlation_id: Optional[str] = None,
        continue_on_error: bool = False,
        context: Optional[Context] = None,
        control_extra: Optional[Control] = None,
        message_expiry_in_seconds: Optional[float] = None,
        suppress_response: bool = False,
    ) -> int:
        """
        Build and send a job request, without waiting for its response (nor performing expansions).

        :param service_name: The service to call.
        :param actions: :class:`pysoa.common.types.ActionRequest` objects or ``{'action': ..., 'body': ...}`` dicts.
        :param switches: Switches to add to the context's.
        :param correlation_id: The correlation id; by default the client context's, else a new one.
        :param continue_on_error: Run the later actions even if one fails.
        :param context: Values to add to the context header (a ``switches`` entry adds switches).
        :param control_extra: Values to add to the control header.
        :param message_expiry_in_seconds: How soon the request expires if no server takes it (a fraction of a second
                                          is rounded up).
        :param suppress_response: Ask the server not to reply.

        :return: The request id, to match with :meth:`get_all_responses`.
        """
        expiry = _whole_seconds(message_expiry_in_seconds)
        job_request = JobRequest(
            actions=_action_requests(actions),
            context=make_context_header(self.context, switches, correlation_id, context),
            control=make_control_header(continue_on_error, control_extra, expiry, suppress_response),
        )
        return self._get_handler(service_name).send_request(job_request, expiry)

    def get_all_responses(
        self,
        service_name: str,
        receive_timeout_in_seconds: Optional[int] = None,
    ) -> Generator[Tuple[int, JobResponse], None, None]:
        """
        Yield ``(request_id, job_response)`` for every response outstanding from the service, blocking for each.

        :raises pysoa.common.transport.errors.MessageReceiveTimeout: If a response does not arrive in time.
        """
        yield from self._get_handler(service_name).get_all_responses(receive_timeout_in_seconds)

    # Futures --------------------------------------------------------------------------------------------------------

    def call_action_future(
        self,
        service_name: str,
        action: str,
        body: Optional[Body] = None,
        expansions: Optional[Expansions] = None,
        raise_job_errors: bool = True,
        raise_action_errors: bool = True,
        timeout: Optional[float] = None,
        switches: Switches = None,
        correlation_id: Optional[str] = None,
        context: Optional[Context] = None,
        control_extra: Optional[Control] = None,
    ) -> FutureSOAResponse[ActionResponse]:
        """Like :meth:`call_action`, but send now and return a future for the response."""
        # fmt: off
        options = CallOptions.__new__(CallOptions, expansions=expansions, raise_job_errors=raise_job_errors,
            raise_action_errors=raise_action_errors, timeout=_whole_seconds(timeout), switches=switches,
            correlation_id=correlation_id, context=context, control_extra=control_extra)
        # fmt: on
        job_future = self._job_future(service_name, [ActionRequest(action=action, body=body or {})], options)
        return self._then(job_future, _action_of_job)

    def call_actions_future(
        self,
        service_name: str,
        actions: Iterable[ActionRequestArgument],
        expansions: Optional[Expansions] = None,
        raise_job_errors: bool = True,
        raise_action_errors: bool = True,
        timeout: Optional[float] = None,
        switches: Switches = None,
        correlation_id: Optional[str] = None,
        continue_on_error: bool = False,
        context: Optional[Context] = None,
        control_extra: Optional[Control] = None,
    ) -> FutureSOAResponse[JobResponse]:
        """Like :meth:`call_actions`, but send now and return a future for the job response."""
        # fmt: off
        options = CallOptions.__new__(CallOptions, expansions=expansions, raise_job_errors=raise_job_errors,
            raise_action_errors=raise_action_errors, timeout=_whole_seconds(timeout), switches=switches,
            correlation_id=correlation_id, continue_on_error=continue_on_error, context=context,
            control_extra=control_extra)
        # fmt: on
        return self._job_future(service_name, actions, options)

    def call_actions_parallel_future(
        self,
        service_name: str,
        actions: Iterable[ActionRequestArgument],
        expansions: Optional[Expansions] = None,
        raise_job_errors: bool = True,
        raise_action_errors: bool = True,
        catch_transport_errors: bool = False,
        timeout: Optional[float] = None,
        switches: Switches = None,
        correlation_id: Optional[str] = None,
        context: Optional[Context] = None,
        control_extra: Optional[Control] = None,
    ) -> FutureSOAResponse[Generator[ParallelActionResult, None, None]]:
        """Like :meth:`call_actions_parallel`, but send now and return a future for the generator of results."""
        # fmt: off
        options = CallOptions.__new__(CallOptions, expansions=expansions, raise_job_errors=raise_job_errors,
            raise_action_errors=raise_action_errors, catch_transport_errors=catch_transport_errors,
            timeout=_whole_seconds(timeout), switches=switches, correlation_id=correlation_id, context=context,
            control_extra=control_extra)
        # fmt: on
        jobs = [{'service_name': service_name, 'actions': [action]} for action in actions]
        return self._then(self._jobs_future(jobs, options), _actions_of_jobs)

    def call_jobs_parallel_future(
        self,
        jobs: Iterable[Mapping[str, Any]],
        expansions: Optional[Expansions] = None,
        raise_job_errors: bool = True,
        raise_action_errors: bool = True,
        catch_transport_errors: bool = False,
        timeout: Optional[float] = None,
        switches: Switches = None,
        correlation_id: Optional[str] = None,
        continue_on_error: bool = False,
        context: Optional[Context] = None,
        control_extra: Optional[Control] = None,
    ) -> FutureSOAResponse[List[ParallelJobResult]]:
        """Like :meth:`call_jobs_parallel`, but send now and return a future for the list of results."""
        # fmt: off
        options = CallOptions.__new__(CallOptions, expansions=expansions, raise_job_errors=raise_job_errors,
            raise_action_errors=raise_action_errors, catch_transport_errors=catch_transport_errors,
            timeout=_whole_seconds(timeout), switches=switches, correlation_id=correlation_id,
            continue_on_error=continue_on_error, context=context, control_extra=control_extra)
        # fmt: on
        return self._jobs_future(jobs, options)

    # Blocking calls: each sends with its future twin, then waits no longer than the call's timeout ------------------

    call_action = blocking_twin(
        call_action_future,
        """
        Call one action and return its response.

        :param timeout: Seconds after which the request expires and the client stops waiting, a fraction rounded up
                        to whole seconds; by default the transport's.
        :param expansions: ``{type: ['expansion', ...]}`` to perform on the response, if the client has an
                           expansion configuration.

        :raises pysoa.client.errors.CallActionError: If the action failed (unless ``raise_action_errors=False``).
        :raises pysoa.client.errors.CallJobError: If the job failed (unless ``raise_job_errors=False``, in which
                                                  case the job's list of errors is returned instead).
        :raises pysoa.common.transport.errors.PySOATransportError: If the request or response could not travel.
        """,
    )

    call_actions = blocking_twin(
        call_actions_future,
        """
        Call several actions in one job, run in order by one server, and return the job response.

        :raises pysoa.client.errors.CallActionError: If any action failed (unless ``raise_action_errors=False``).
        :raises pysoa.client.errors.CallJobError: If the job failed (unless ``raise_job_errors=False``).
        :raises pysoa.common.transport.errors.PySOATransportError: If the request or response could not travel.
        """,
    )

    if TYPE_CHECKING:  # overloads: with the default flags, the results are plain responses

        @overload
        def call_actions_parallel(
            self,
            service_name: str,
            actions: Iterable[ActionRequestArgument],
            expansions: Optional[Expansions] = ...,
            raise_job_errors: Literal[True] = ...,
            raise_action_errors: bool = ...,
            catch_transport_errors: Literal[False] = ...,
            timeout: Optional[float] = ...,
            switches: Switches = ...,
            correlation_id: Optional[str] = ...,
            context: Optional[Context] = ...,
            control_extra: Optional[Control] = ...,
        ) -> Generator[ActionResponse, None, None]: ...

        @overload
        def call_actions_parallel(
            self,
            service_name: str,
            actions: Iterable[ActionRequestArgument],
            expansions: Optional[Expansions] = ...,
            raise_job_errors: bool = ...,
            raise_action_errors: bool = ...,
            catch_transport_errors: bool = ...,
            timeout: Optional[float] = ...,
            switches: Switches = ...,
            correlation_id: Optional[str] = ...,
            context: Optional[Context] = ...,
            control_extra: Optional[Control] = ...,
        ) -> Generator[ParallelActionResult, None, None]: ...

        def call_actions_parallel(self, *args: Any, **kwargs: Any) -> Any:  # it is the blocking twin below
            ...
    else:
        call_actions_parallel = blocking_twin(
            call_actions_parallel_future,
            """
            Call several actions of one service in parallel, each in its own job, and return their responses in order.

            :param catch_transport_errors: Put transport exceptions in the results, in place of the responses they
                                           prevented, instead of raising them.

            :return: A generator of action responses; with ``raise_job_errors=False`` a failed job gives its list of
                     errors, and with ``catch_transport_errors=True`` a transport failure gives the exception.
            """,
        )

    if TYPE_CHECKING:  # overloads: with the default flags, the results are plain responses

        @overload
        def call_jobs_parallel(
            self,
            jobs: Iterable[Mapping[str, Any]],
            expansions: Optional[Expansions] = ...,
            raise_job_errors: bool = ...,
            raise_action_errors: bool = ...,
            catch_transport_errors: Literal[False] = ...,
            timeout: Optional[float] = ...,
            switches: Switches = ...,
            correlation_id: Optional[str] = ...,
            continue_on_error: bool = ...,
            context: Optional[Context] = ...,
            control_extra: Optional[Control] = ...,
        ) -> List[JobResponse]: ...

        @overload
        def call_jobs_parallel(
            self,
            jobs: Iterable[Mapping[str, Any]],
            expansions: Optional[Expansions] = ...,
            raise_job_errors: bool = ...,
            raise_action_errors: bool = ...,
            catch_transport_errors: bool = ...,
            timeout: Optional[float] = ...,
            switches: Switches = ...,
            correlation_id: Optional[str] = ...,
            continue_on_error: bool = ...,
            context: Optional[Context] = ...,
            control_extra: Optional[Control] = ...,
        ) -> List[ParallelJobResult]: ...

        def call_jobs_parallel(self, *args: Any, **kwargs: Any) -> Any:  # it is the blocking twin below
            ...
    else:
        call_jobs_parallel = blocking_twin(
            call_jobs_parallel_future,
            """
            Send several jobs, to one or more services, before waiting for any; return their responses in order.

            :param jobs: ``{'service_name': ..., 'actions': [...]}`` dicts.
            :param catch_transport_errors: Put transport exceptions in the results, in place of the responses they
                                           prevented, instead of raising them.
            """,
        )

    # What the calls share -------------------------------------------------------------------------------------------

    def _send_job(
        self,
        service_name: str,
        actions: Iterable[ActionRequestArgument],
        options: CallOptions,
    ) -> Tuple[ServiceHandler, int]:
        """Send one job (as :meth:`send_request` does); return the handler that sent it and the request id."""
        job_request = JobRequest(
            actions=_action_requests(actions),
            context=make_context_header(self.context, options.switches, options.correlation_id, options.context),
            control=make_control_header(options.continue_on_error, options.control_extra, options.timeout),
        )
        handler = self._get_handler(service_name)
        return handler, handler.send_request(job_request, options.timeout)

    def _then(self, future: FutureSOAResponse[_T], convert: Callable[[_T], Any]) -> FutureSOAResponse[Any]:
        """A future for ``convert`` of ``future``'s result: abandoning it abandons ``future``."""
        converted = self.FutureResponse(lambda receive_timeout: convert(future.result(receive_timeout)))
        converted._on_abandon = future._abandon
        return converted

    def _expand(self, actions: List[ActionResponse], expansions: Expansions, options: CallOptions) -> None:
        if self.expansion_converter is not None:
            perform_expansions(_ExpansionRequests(self, options), self.expansion_converter, actions, expansions)

    def _job_future(
        self,
        service_name: str,
        actions: Iterable[ActionRequestArgument],
        options: CallOptions,
    ) -> FutureSOAResponse[JobResponse]:
        handler, request_id = self._send_job(service_name, actions, options)

        def get_response(receive_timeout: Optional[int]) -> JobResponse:
            job_response = None
            for _, response in handler.receive_responses([request_id], receive_timeout or options.timeout):
                job_response = response
            if job_response is None:
                raise PySOATransportError(
                    f'The transport has no response for request {request_id} to service {service_name}',
                )
            _raise_for_errors(job_response, options.raise_job_errors, options.raise_action_errors)
            if options.expansions:
                self._expand(job_response.actions, options.expansions, options)
            return job_response

        future = self.FutureResponse(get_response)
        future._on_abandon = functools.partial(handler.forget, [request_id])
        return future

    def _jobs_future(
        self,
        jobs: Iterable[Mapping[str, Any]],
        options: CallOptions,
    ) -> FutureSOAResponse[List[ParallelJobResult]]:
        slots: _Slots = []
        for job in jobs:
            service_name = job['service_name']
            try:
                _, request_id = self._send_job(service_name, job['actions'], options)
            except PySOATransportError as e:
                if not options.catch_transport_errors:
                    raise
                slots.append((service_name, None, e))
            else:
                slots.append((service_name, request_id, None))

        # Kept between attempts, so that a retry after a receive timeout keeps what already arrived.
        received: Dict[Tuple[str, int], ParallelJobResult] = {}

        def get_response(receive_timeout: Optional[int]) -> List[ParallelJobResult]:
            self._receive_parallel(slots, received, receive_timeout or options.timeout, options.catch_transport_errors)
            results: List[ParallelJobResult] = []
            actions_to_expand: List[ActionResponse] = []
            for service_name, request_id, send_error in slots:
                if send_error is not None:
                    results.append(send_error)
                    continue
                assert request_id is not None
                result = received.get((service_name, request_id))
                if result is None:
                    raise PySOATransportError(
                        f'There was no response for service {service_name}, request {request_id}',
                    )
                if isinstance(result, JobResponse):
                    _raise_for_errors(result, options.raise_job_errors, options.raise_action_errors)
                    actions_to_expand.extend(result.actions)
                results.append(result)
            if options.expansions:
                self._expand(actions_to_expand, options.expansions, options)
            return results

        def abandon() -> None:
            for service_name, request_ids in _unanswered(slots, received).items():
                self._get_handler(service_name).forget(request_ids)

        future = self.FutureResponse(get_response)
        future._on_abandon = abandon
        return future

    def _receive_parallel(
        self,
        slots: _Slots,
        received: Dict[Tuple[str, int], ParallelJobResult],
        receive_timeout: Optional[int],
        catch_transport_errors: bool,
    ) -> None:
        for service_name, request_ids in _unanswered(slots, received).items():
            try:
                for request_id, response in self._get_handler(service_name).receive_responses(
                    request_ids,
                    receive_timeout,
                ):
                    received[(service_name, request_id)] = response
            except PySOATransportError as e:
                if not catch_transport_errors:
                    raise
                unanswered = [r for r in request_ids if (service_name, r) not in received]
                self._get_handler(service_name).forget(unanswered)
                for request_id in unanswered:
                    received[(service_name, request_id)] = e


class _ExpansionRequests:
    """Expansion requests through the client, with the headers and timeout of the call that asked for them."""

    __slots__ = ('_client', '_options')

    def __init__(self, client: Client, options: CallOptions) -> None:
        self._client = client
        # Each expansion request is a job of its own: the call's continue_on_error is about the call's job.
        self._options = options._replace(continue_on_error=False)

    def send(self, service_name: str, actions: List[ActionRequest]) -> int:
        return self._client._send_job(service_name, actions, self._options)[1]

    def receive(self, service_name: str, request_ids: List[int]) -> Iterable[Tuple[int, JobResponse]]:
        return self._client._get_handler(service_name).receive_responses(request_ids, self._options.timeout)

    def forget(self, service_name: str, request_ids: List[int]) -> None:
        self._client._get_handler(service_name).forget(request_ids)


def _unanswered(slots: _Slots, received: Dict[Tuple[str, int], ParallelJobResult]) -> Dict[str, List[int]]:
    """The ids of the requests sent for ``slots`` that have had no response yet, by service."""
    waiting: Dict[str, List[int]] = {}
    for service_name, request_id, _ in slots:
        if request_id is not None and (service_name, request_id) not in received:
            waiting.setdefault(service_name, []).append(request_id)
    return waiting
