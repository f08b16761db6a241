"""
The seam through which test stubs (:class:`pysoa.test.stub_service.stub_action`) reach clients: a registry of the
active stubs, which clients consult, and only while it is not empty.

**The contract, for any client** (:class:`pysoa.client.client.Client` keeps it; an asynchronous client must keep it
too, with the same registry, :data:`stub_registry`):

1. Read :attr:`StubRegistry.active` before anything else. While it is ``False`` (no stub is active, the normal case)
   nothing else needs to be asked: that attribute read is the whole cost of the seam.
2. While it is ``True``, hand every job request about to be sent to a service to :meth:`StubRegistry.answer_job`,
   *after* its headers are built. ``None`` means that none of its actions is stubbed: send it as usual. Otherwise the
   stubs of its stubbed actions have already been called, in order, and the :class:`StubbedJob` tells the rest:
   send :attr:`StubbedJob.real_request` if it is not ``None`` (the job's other actions, same headers), and the
   outcome of the job is :meth:`StubbedJob.outcome` of that request's response, or ``outcome()`` at once if there
   is no real request: a :class:`JobResponse` to deliver, or an exception to raise when the response is received.
   Unless the job asked for no response, keep that outcome until it is received (a future sent while a stub was
   active resolves even after the stub stopped).
3. A client that identifies its requests by number gives a job with no real request the id
   :meth:`StubRegistry.next_request_id`: 0, -1, -2, ..., never equal to a real (positive) one.
4. A client may keep per-service state for this (the synchronous client keeps a stand-in handler): keep it with
   :meth:`StubRegistry.stand_in`, which forgets it when the service stops being stubbed.

Everything here may be called from any thread; the methods of :class:`StubbedJob` and :meth:`StubRegistry.answer_job`
never block, so an event loop can call them directly.
"""

import threading
import weakref
from typing import (
    Any,
    Callable,
    Dict,
    List,
    Optional,
    Protocol,
    Sequence,
    Tuple,
    TypeVar,
    Union,
)

import attr

from pysoa.common.errors import Error
from pysoa.common.types import (
    ActionRequest,
    ActionResponse,
    JobRequest,
    JobResponse,
)


__all__ = (
    'Stub',
    'StubAnswer',
    'StubRegistry',
    'StubbedJob',
    'stub_registry',
)

_Owner = TypeVar('_Owner')
_StandIn = TypeVar('_StandIn')


@attr.s(frozen=True, slots=True)
class StubAnswer:
    """What a stub made of one action."""

    response: Optional[ActionResponse] = attr.ib(default=None)
    """The action's response; ``None`` if the action has none (the job failed instead)."""
    job_errors: Sequence[Error] = attr.ib(default=())
    """Errors of the whole job."""
    job_failed: bool = attr.ib(default=False)
    """Whether the job stops here, as after a ``JobError``, even without job errors."""
    receive_error: Optional[Exception] = attr.ib(default=None)
    """An exception to raise, instead of delivering the job's response, when the response is received."""


class Stub(Protocol):
    """One active stub: it answers one action of one service."""

    @property
    def service(self) -> str:
        """The service whose action it answers."""

    @property
    def action(self) -> str:
        """The action it answers."""

    def answer(self, request: ActionRequest) -> StubAnswer:
        """Answer one request of the action (called when the job is sent). Other exceptions propagate to the sender."""


def _truncated(actions: List[ActionResponse], continue_on_error: bool) -> List[ActionResponse]:
    """The actions a server would have run: up to the first one with errors, unless the job continues on error."""
    if continue_on_error:
        return actions
    for index, action in enumerate(actions):
        if action.errors:
            return actions[: index + 1]
    return actions


@attr.s(slots=True)
class StubbedJob:
    """What the stubs made of one job with at least one stubbed action, when it was sent."""

    request: JobRequest = attr.ib()
    """The whole job request."""
    responses: Dict[int, ActionResponse] = attr.ib(factory=dict)
    """The stubbed action responses, by their position in the job."""
    real_actions: List[Tuple[int, ActionRequest]] = attr.ib(factory=list)
    """The actions left for the real service, with their positions in the job."""
    job_errors: List[Error] = attr.ib(factory=list)
    receive_error: Optional[Exception] = attr.ib(default=None)

    @property
    def continue_on_error(self) -> bool:
        """Whether the job goes on after a failed action, as its control header says."""
        return bool(self.request.control.get('continue_on_error'))

    @property
    def real_request(self) -> Optional[JobRequest]:
        """The job request to send to the real service, with the job's headers; ``None`` if it has no real action."""
        if not self.real_actions:
            return None
        return attr.evolve(self.request, actions=[request for _, request in self.real_actions])

    def add(self, position: int, answer: StubAnswer) -> bool:
        """Record a stub's answer to the action at ``position``; return whether the job goes on, as on a server."""
        if answer.receive_error is not None:
            self.receive_error = answer.receive_error
            return False
        self.job_errors.extend(answer.job_errors)
        response = answer.response
        if response is not None:
            self.responses[position] = response
        if answer.job_failed or self.job_errors:
            return False
        return self.continue_on_error or response is None or not response.errors

    def outcome(self, real_response: Optional[JobResponse] = None) -> Union[JobResponse, Exception]:
        """
        The response of the whole job, given the response of :attr:`real_request` (``None`` if there is no real
        request): the stubbed and real action responses in their original order (cut after the first failed action
        unless the job continues on error), the real job errors and then the stubbed ones, the real context. Or the
        exception a stub asked to raise when the response is received.
        """
        if self.receive_error is not None:
            return self.receive_error
        by_position = dict(self.responses)
        if real_response is None:
            return JobResponse(errors=list(self.job_errors), actions=[by_position[p] for p in sorted(by_position)])
        # The server may have stopped early (an action error without continue_on_error): zip stops with its answers.
        for (position, _), action_response in zip(self.real_actions, real_response.actions):
            by_position[position] = action_response
        return JobResponse(
            errors=[*real_response.errors, *self.job_errors],
            context=real_response.context,
            actions=_truncated([by_position[p] for p in sorted(by_position)], self.continue_on_error),
        )


class StubRegistry:
    """The active stubs, most recently activated last. The module docstring gives the contract clients keep."""

    __slots__ = ('_lock', '_next_request_id', '_stand_ins', '_stubs', 'active')

    def __init__(self) -> None:
        self.active = False
        """Whether any stub is active: the one thing clients read while no stub is."""
        self._stubs: Tuple[Stub, ...] = ()
        self._lock = threading.RLock()
        self._next_request_id = 0
        self._stand_ins: weakref.WeakKeyDictionary[Any, Dict[str, Any]] = weakref.WeakKeyDictionary()

    def activate(self, stub: Stub) -> None:
        """Start answering the stub's action with it; it takes precedence over those activated before."""
        with self._lock:
            self._stubs = (*self._stubs, stub)
            self.active = True

    def deactivate(self, stub: Stub) -> None:
        """Stop answering with this stub (the previous stub of its action, if any, answers again)."""
        with self._lock:
            self._stubs = tuple(active for active in self._stubs if active is not stub)
            self.active = bool(self._stubs)
            if not self._stubs:
                self._stand_ins = weakref.WeakKeyDictionary()
            elif not self.is_stubbed(stub.service):
                # Clients get their real handler back; futures sent earlier keep the stand-in they hold.
                for stand_ins in list(self._stand_ins.values()):
                    stand_ins.pop(stub.service, None)

    def is_stubbed(self, service_name: str) -> bool:
        """Whether any action of the service is stubbed."""
        return any(stub.service == service_name for stub in self._stubs)

    def find(self, service_name: str, action_name: str) -> Optional[Stub]:
        """The stub that answers the action: the most recently activated one."""
        for stub in reversed(self._stubs):
            if stub.service == service_name and stub.action == action_name:
                return stub
        return None

    def answer_job(self, service_name: str, job_request: JobRequest) -> Optional[StubbedJob]:
        """
        Call the stubs of the job's stubbed actions, in order, stopping where a server would (after a failed action
        unless the job continues on error, after job errors, or after a receive error); ``None`` if none of its
        actions is stubbed. Exceptions the stubs do not turn into answers propagate.
        """
        if not self.is_stubbed(service_name):
            return None
        job = StubbedJob(job_request)
        stubbed_any = False
        for position, request in enumerate(job_request.actions):
            stub = self.find(service_name, request.action)
            if stub is None:
                job.real_actions.append((position, request))
                continue
            stubbed_any = True
            if not job.add(position, stub.answer(request)):
                break
        return job if stubbed_any else None

    def next_request_id(self) -> int:
        """An id for a job answered by stubs alone: 0, then -1, -2, ... (process-wide)."""
        with self._lock:
            request_id = self._next_request_id
            self._next_request_id -= 1
        return request_id

    def stand_in(
        self,
        owner: _Owner,
        service_name: str,
        make: Callable[[_Owner, str], _StandIn],
    ) -> Optional[_StandIn]:
        """
        The owner's stand-in for the service: the one it has, else, if the service is stubbed, a new one from
        ``make(owner, service_name)``; ``None`` if the service is not stubbed. Kept while the service is stubbed and
        the owner lives (the owner must support weak references, and the stand-in should not refer to it strongly).
        """
        with self._lock:
            stand_ins = self._stand_ins.get(owner)
            stand_in: Optional[_StandIn] = stand_ins.get(service_name) if stand_ins else None
            if stand_in is None and self.is_stubbed(service_name):
                stand_in = make(owner, service_name)
                self._stand_ins.setdefault(owner, {})[service_name] = stand_in
            return stand_in


stub_registry = StubRegistry()
"""The registry of the process: stubs activate in it, and every client consults it."""
