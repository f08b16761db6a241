"""
The machinery behind :class:`pysoa.test.stub_service.stub_action` (private: use that class).

While at least one stub is active, two methods of :class:`pysoa.client.client.Client` are replaced on the class:

* ``send_request`` answers the stubbed actions of a job at once, by calling their mocks, and sends the other actions
  with the real method;
* ``_get_handler``, through which every receiving path of the client goes (``get_all_responses``, futures, parallel
  calls, expansions), returns for a stubbed service a :class:`StubbedServiceHandler`: a stand-in for the real
  :class:`pysoa.client.service_handler.ServiceHandler` that hands out the stubbed responses, merges the stubbed parts
  of mixed jobs into the real responses, and passes everything else to the real handler. A stubbed service needs no
  client configuration at all as long as only stubbed actions are called.

Request ids: a purely stubbed job gets its id from a process-global counter that starts at 0 and counts *down* (0,
-1, -2, ...). Real ids are positive (each handler starts at a random number from 1 to 1,000,000 and counts up), so a
stubbed id can never equal a real one, and futures and parallel calls that mix stubbed and real jobs to the same
service never confuse their responses. A mixed job (stubbed and real actions) has the real request's id.
"""

import contextlib
import threading
import weakref
from typing import (
    Any,
    Callable,
    Collection,
    Dict,
    Iterable,
    Iterator,
    List,
    Optional,
    Tuple,
    Union,
)
from unittest import mock

import attr

from pysoa.client.client import (
    ActionRequestArgument,
    Client,
)
from pysoa.client.headers import Switches
from pysoa.client.service_handler import ServiceHandler
from pysoa.common.errors import Error
from pysoa.common.transport.errors import (
    MessageReceiveError,
    MessageReceiveTimeout,
)
from pysoa.common.types import (
    ActionRequest,
    ActionResponse,
    Body,
    Context,
    Control,
    JobRequest,
    JobResponse,
)
from pysoa.server.errors import (
    ActionError,
    JobError,
)


__all__ = (
    'StubRegistration',
    'StubbedServiceHandler',
    'activate',
    'deactivate',
    'get_stubbed_requests',
    'get_stubbed_responses',
)

# Contract registries -----------------------------------------------------------------------------------------------

_stubbed_requests: List[Dict[str, Any]] = []
_stubbed_responses: List[Dict[str, Any]] = []


def get_stubbed_requests() -> List[Dict[str, Any]]:
    """The process-global list of ``{'service', 'action', 'body'}`` requests the stubs received, oldest first."""
    return _stubbed_requests


def get_stubbed_responses() -> List[Dict[str, Any]]:
    """The process-global list of ``{'service', 'action', 'body'}`` responses the stubs returned, oldest first."""
    return _stubbed_responses


_id_lock = threading.Lock()
_next_id = 0


def _next_stubbed_request_id() -> int:
    global _next_id
    with _id_lock:
        request_id = _next_id
        _next_id -= 1
    return request_id


# Stubs and what they produce ---------------------------------------------------------------------------------------


@attr.s(eq=False)
class StubRegistration:
    """One active stub: the action it answers and the mock that answers it."""

    service: str = attr.ib()
    action: str = attr.ib()
    mock: Callable[[Body], Any] = attr.ib()
    register_request_schema_contract: bool = attr.ib(default=True)
    register_response_schema_contract: bool = attr.ib(default=True)


@attr.s
class _StubOutcome:
    """What the stubs made of (part of) one job, at send time."""

    responses: Dict[int, ActionResponse] = attr.ib(factory=dict)
    """Stubbed action responses by their position in the job."""
    real_actions: List[Tuple[int, ActionRequest]] = attr.ib(factory=list)
    """The actions to send to the real service, with their positions."""
    job_errors: List[Error] = attr.ib(factory=list)
    receive_error: Optional[Exception] = attr.ib(default=None)
    """A ``MessageReceiveError`` or ``MessageReceiveTimeout`` to raise when the response is received."""
    continue_on_error: bool = attr.ib(default=False)


def _call_stub(registration: StubRegistration, request: ActionRequest, outcome: _StubOutcome, position: int) -> bool:
    """Call the stub's mock for one action and record the result; return whether to go on with the job."""
    body = request.body or {}
    if registration.register_request_schema_contract:
        _stubbed_requests.append({'service': registration.service, 'action': request.action, 'body': body})
    response: Optional[ActionResponse]
    try:
        result = registration.mock(body)
    except ActionError as e:
        response = ActionResponse(action=request.action, errors=e.errors)
    except JobError as e:
        outcome.job_errors.extend(e.errors)
        return False
    except (MessageReceiveError, MessageReceiveTimeout) as e:
        outcome.receive_error = e
        return False
    else:
        if isinstance(result, JobResponse):
            outcome.job_errors.extend(result.errors)
            response = result.actions[0] if result.actions else None
        elif isinstance(result, dict):
            response = ActionResponse(action=request.action, body=result)
        elif isinstance(result, ActionResponse):
            response = result
        else:
            response = ActionResponse(action=request.action)
    if response is not None:
        outcome.responses[position] = response
        if registration.register_response_schema_contract:
            _stubbed_responses.append(
                {'service': registration.service, 'action': request.action, 'body': response.body},
            )
    if outcome.job_errors:
        return False
    return outcome.continue_on_error or response is None or not response.errors


def _truncated(actions: List[ActionResponse], continue_on_error: bool) -> List[ActionResponse]:
    if continue_on_error:
        return actions
    for index, action in enumerate(actions):
        if action.errors:
            return actions[:index + 1]
    return actions


def _merge(outcome: _StubOutcome, real_response: JobResponse) -> Union[JobResponse, Exception]:
    """Put the stubbed parts of a mixed job back into the real response, in their original positions."""
    if outcome.receive_error is not None:
        return outcome.receive_error
    by_position = dict(outcome.responses)
    # The server may have stopped early (an action error without continue_on_error): zip stops with its answers.
    for (position, _), action_response in zip(outcome.real_actions, real_response.actions):
        by_position[position] = action_response
    actions = [by_position[position] for position in sorted(by_position)]
    return JobResponse(
        errors=[*real_response.errors, *outcome.job_errors],
        context=real_response.context,
        actions=_truncated(actions, outcome.continue_on_error),
    )


# The stand-in handler ----------------------------------------------------------------------------------------------

_Outcome = Union[JobResponse, Exception]


class _PerThread(threading.local):
    """Like the real handler's state, responses belong to the thread that sent the request."""

    def __init__(self) -> None:
        self.ready: Dict[int, _Outcome] = {}
        """Outcomes waiting to be received: stubbed responses, and receive errors to raise."""
        self.partial: Dict[int, _StubOutcome] = {}
        """The stubbed parts of mixed jobs, by the id of the real request carrying the rest."""


class StubbedServiceHandler:
    """
    What ``Client._get_handler`` returns for a stubbed service while stubs are active. It has the real handler's
    ``send_request``, ``get_all_responses``, ``receive_responses`` and ``forget`` and passes every other attribute
    to the real handler, which it creates only when needed (so an unconfigured service can be stubbed, and raises
    ``ImproperlyConfigured`` only if a real action is sent to it).
    """

    def __init__(self, client: Client, service_name: str, get_real_handler: Callable[[Client, str], Any]) -> None:
        self.service_name = service_name
        self._client = weakref.ref(client)
        self._get_real_handler = get_real_handler
        self._real: Optional[ServiceHandler] = None
        self._state = _PerThread()

    def __repr__(self) -> str:
        return f'<StubbedServiceHandler for {self.service_name!r} wrapping {self._real!r}>'

    def __getattr__(self, name: str) -> Any:
        # Only public attributes (``transport``, ``metrics``, ``middleware``, ...): private ones are implementation
        # details, and refusing them avoids recursion before ``__init__`` has run (copying, for example).
        if name.startswith('_'):
            raise AttributeError(name)
        return getattr(self._require_real(), name)

    def _require_real(self) -> ServiceHandler:
        if self._real is None:
            client = self._client()
            if client is None:
                raise RuntimeError(f'The client of stubbed service {self.service_name} no longer exists')
            self._real = self._get_real_handler(client, self.service_name)
        return self._real

    def _existing_real(self) -> Optional[ServiceHandler]:
        if self._real is None:
            client = self._client()
            if client is not None:
                self._real = client.handlers.get(self.service_name)
        return self._real

    # Called by the wrapped ``Client.send_request`` --------------------------------------------------------------

    def add_stubbed_response(self, request_id: int, outcome: _Outcome) -> None:
        self._state.ready[request_id] = outcome

    def add_partial_job(self, request_id: int, outcome: _StubOutcome) -> None:
        self._state.partial[request_id] = outcome

    def _complete(self, request_id: int, response: JobResponse) -> _Outcome:
        outcome = self._state.partial.pop(request_id, None)
        return response if outcome is None else _merge(outcome, response)

    # The ServiceHandler interface -------------------------------------------------------------------------------

    def send_request(self, job_request: JobRequest, message_expiry_in_seconds: Optional[int] = None) -> int:
        """Send a (real) job request with the real handler."""
        return self._require_real().send_request(job_request, message_expiry_in_seconds)

    def forget(self, request_ids: Collection[int]) -> None:
        """Stop waiting for these requests, stubbed or real."""
        state = self._state
        for request_id in request_ids:
            state.ready.pop(request_id, None)
            state.partial.pop(request_id, None)
        real = self._existing_real()
        if real is not None:
            real.forget([request_id for request_id in request_ids if request_id > 0])

    def get_all_responses(self, receive_timeout_in_seconds: Optional[int] = None) -> Iterator[Tuple[int, JobResponse]]:
        """
        Yield the real responses first (with the stubbed parts of mixed jobs merged in), then the stubbed ones;
        a stubbed receive error is raised when its turn comes.
        """
        state = self._state
        real = self._existing_real()
        if real is not None:
            for request_id, response in real.get_all_responses(receive_timeout_in_seconds):
                outcome = self._complete(request_id, response)
                if isinstance(outcome, Exception):
                    state.ready[request_id] = outcome
                else:
                    yield request_id, outcome
        while state.ready:
            request_id = next(iter(state.ready))
            outcome = state.ready.pop(request_id)
            if isinstance(outcome, Exception):
                raise outcome
            yield request_id, outcome

    def receive_responses(
        self,
        request_ids: Collection[int],
        receive_timeout_in_seconds: Optional[int] = None,
    ) -> Iterator[Tuple[int, JobResponse]]:
        """
        Yield the stubbed responses among ``request_ids``, then receive the real ones; stubbed receive errors are
        raised last, one per call, so every response that did arrive is delivered first.
        """
        state = self._state
        wanted = list(dict.fromkeys(request_ids))
        delivered = set()
        for request_id in wanted:
            outcome = state.ready.get(request_id)
            if isinstance(outcome, JobResponse):
                del state.ready[request_id]
                delivered.add(request_id)
                yield request_id, outcome
        # Ids below 1 are stubbed ones: the real handler never issued them.
        real_wanted = [r for r in wanted if r > 0 and r not in delivered and r not in state.ready]
        real = self._existing_real() if real_wanted else None
        if real is not None:
            for request_id, response in real.receive_responses(real_wanted, receive_timeout_in_seconds):
                outcome = self._complete(request_id, response)
                if isinstance(outcome, Exception):
                    state.ready[request_id] = outcome
                else:
                    yield request_id, outcome
        for request_id in wanted:
            failure = state.ready.get(request_id)
            if isinstance(failure, Exception):
                del state.ready[request_id]
                raise failure


# Installing and removing the wrappers ------------------------------------------------------------------------------


class _StubLayer:
    """The active stubs, and the ``Client`` wrappers installed while there is at least one."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._stubs: List[StubRegistration] = []
        self._originals: Dict[str, Any] = {}
        self._handlers: weakref.WeakKeyDictionary[Client, Dict[str, StubbedServiceHandler]] = (
            weakref.WeakKeyDictionary()
        )

    def activate(self, registration: StubRegistration) -> None:
        with self._lock:
            if not self._stubs:
                self._install()
            self._stubs.append(registration)

    def deactivate(self, registration: StubRegistration) -> None:
        with self._lock:
            self._stubs = [stub for stub in self._stubs if stub is not registration]
            if not self._stubs:
                self._uninstall()
            elif not self.is_stubbed(registration.service):
                # Clients get their real handler back; futures sent earlier keep the stand-in they hold.
                for handlers in list(self._handlers.values()):
                    handlers.pop(registration.service, None)

    def is_stubbed(self, service_name: str) -> bool:
        return any(stub.service == service_name for stub in self._stubs)

    def find(self, service_name: str, action_name: str) -> Optional[StubRegistration]:
        """The most recently activated stub for the action: inner stubs take precedence over outer ones."""
        for stub in reversed(self._stubs):
            if stub.service == service_name and stub.action == action_name:
                return stub
        return None

    def stubbed_handler(
        self,
        client: Client,
        service_name: str,
        create: bool = True,
    ) -> Optional[StubbedServiceHandler]:
        """
        The client's stand-in handler for the service; without ``create``, ``None`` unless it exists already or the
        service is stubbed.
        """
        with self._lock:
            handlers = self._handlers.get(client)
            handler = handlers.get(service_name) if handlers else None
            if handler is None and (create or self.is_stubbed(service_name)):
                handler = StubbedServiceHandler(client, service_name, self._originals['_get_handler'])
                self._handlers.setdefault(client, {})[service_name] = handler
            return handler

    def _install(self) -> None:
        self._originals = {name: Client.__dict__[name] for name in ('send_request', '_get_handler')}
        setattr(Client, 'send_request', _make_send_request(self, self._originals['send_request']))
        setattr(Client, '_get_handler', _make_get_handler(self, self._originals['_get_handler']))

    def _uninstall(self) -> None:
        for name, original in self._originals.items():
            setattr(Client, name, original)
        self._originals = {}
        self._handlers = weakref.WeakKeyDictionary()


_layer = _StubLayer()


def activate(registration: StubRegistration) -> None:
    """Start answering the registration's action with its mock (installing the client wrappers if needed)."""
    _layer.activate(registration)


def deactivate(registration: StubRegistration) -> None:
    """Stop answering the registration's action (removing the client wrappers after the last stub)."""
    _layer.deactivate(registration)


def _make_get_handler(layer: _StubLayer, original: Callable[[Client, str], Any]) -> Callable[[Client, str], Any]:
    def _get_handler(self: Client, service_name: str) -> Any:
        handler = layer.stubbed_handler(self, service_name, create=False) if isinstance(service_name, str) else None
        return handler if handler is not None else original(self, service_name)

    return _get_handler


def _make_send_request(layer: _StubLayer, original: Callable[..., int]) -> Callable[..., int]:
    def send_request(
        self: Client,
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
        def send_real(real_actions: List[Any]) -> int:
            return original(
                self, service_name, real_actions, switches=switches, correlation_id=correlation_id,
                continue_on_error=continue_on_error, context=context, control_extra=control_extra,
                message_expiry_in_seconds=message_expiry_in_seconds, suppress_response=suppress_response,
            )

        if not isinstance(service_name, str):
            raise ValueError(f'Called service name "{service_name}" must be unicode')
        if not layer.is_stubbed(service_name):
            return send_real(list(actions))

        requests = [a if isinstance(a, ActionRequest) else ActionRequest(**a) for a in actions]
        outcome = _StubOutcome(continue_on_error=bool(continue_on_error))
        stubbed_any = False
        for position, request in enumerate(requests):
            stub = layer.find(service_name, request.action)
            if stub is None:
                outcome.real_actions.append((position, request))
                continue
            stubbed_any = True
            if not _call_stub(stub, request, outcome, position):
                break
        if not stubbed_any:
            return send_real(requests)

        handler = layer.stubbed_handler(self, service_name)
        assert handler is not None
        if outcome.real_actions:
            request_id = send_real([request for _, request in outcome.real_actions])
            if not suppress_response:
                handler.add_partial_job(request_id, outcome)
            return request_id
        request_id = _next_stubbed_request_id()
        if not suppress_response:
            handler.add_stubbed_response(request_id, outcome.receive_error or JobResponse(
                errors=outcome.job_errors,
                actions=[outcome.responses[position] for position in sorted(outcome.responses)],
            ))
        return request_id

    return send_request


@contextlib.contextmanager
def patchings_entered(
    patchings: List[Any],
    args: Tuple[Any, ...],
    kwargs: Dict[str, Any],
) -> Iterator[Tuple[Tuple[Any, ...], Dict[str, Any]]]:
    """
    Enter every patching of a decorated function, as ``mock.patch`` decorators do: each one's ``__enter__`` result
    is added as a keyword (``attribute_name`` set, e.g. ``patch.multiple``) or appended positionally (``new`` left
    as ``mock.DEFAULT``); they are exited in reverse order, whatever happens.
    """
    extra_args = []
    with contextlib.ExitStack() as stack:
        for patching in patchings:
            value = stack.enter_context(patching)
            if patching.attribute_name is not None:
                kwargs.update(value)
            elif patching.new is mock.DEFAULT:
                extra_args.append(value)
        yield (*args, *extra_args), kwargs
