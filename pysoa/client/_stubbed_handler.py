"""
The stand-in that :class:`pysoa.client.client.Client` uses for a stubbed service while stubs are active: the
synchronous client's side of the contract in :mod:`pysoa.client._stub_registry`.
"""

import threading
import weakref
from typing import (
    Any,
    Collection,
    Dict,
    Iterator,
    Optional,
    Protocol,
    Tuple,
    Union,
)

from pysoa.client._stub_registry import (
    StubbedJob,
    stub_registry,
)
from pysoa.client.service_handler import ServiceHandler
from pysoa.common.types import (
    JobRequest,
    JobResponse,
)


__all__ = (
    'HandlerSource',
    'StubbedServiceHandler',
)

_Outcome = Union[JobResponse, Exception]


class HandlerSource(Protocol):
    """What a stand-in needs from its client (a ``Client`` is one): the real handlers, created when first needed."""

    handlers: Dict[str, ServiceHandler]

    def _get_real_handler(self, service_name: str) -> ServiceHandler:
        """The real handler of the service, created on first use (``ImproperlyConfigured`` for an unknown service)."""


class _PerThread(threading.local):
    """Like the real handler's state, responses belong to the thread that sent the request."""

    def __init__(self) -> None:
        self.ready: Dict[int, _Outcome] = {}
        """Outcomes waiting to be received: stubbed responses, and receive errors to raise."""
        self.partial: Dict[int, StubbedJob] = {}
        """The stubbed parts of mixed jobs, by the id of the real request carrying the rest."""


class StubbedServiceHandler:
    """
    What ``Client._get_handler`` returns for a stubbed service while stubs are active. It has the real handler's
    ``send_request``, ``get_all_responses``, ``receive_responses`` and ``forget``, and passes every other public
    attribute to the real handler, which it creates only when needed (so an unconfigured service can be stubbed, and
    raises ``ImproperlyConfigured`` only if a real action is sent to it).

    ``send_request`` answers the stubbed actions of a job at once and sends the others, in one request with the job's
    headers, with the real handler; their responses are merged back when received. See
    :mod:`pysoa.client._stub_registry` for the request ids.

    :param client: The client it stands in for (held weakly).
    :param service_name: The stubbed service.
    """

    def __init__(self, client: HandlerSource, service_name: str) -> None:
        self.service_name = service_name
        self._client = weakref.ref(client)
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
            self._real = client._get_real_handler(self.service_name)
        return self._real

    def _existing_real(self) -> Optional[ServiceHandler]:
        if self._real is None:
            client = self._client()
            if client is not None:
                self._real = client.handlers.get(self.service_name)
        return self._real

    def _complete(self, request_id: int, response: JobResponse) -> _Outcome:
        job = self._state.partial.pop(request_id, None)
        return response if job is None else job.outcome(response)

    # The ServiceHandler interface -------------------------------------------------------------------------------

    def send_request(self, job_request: JobRequest, message_expiry_in_seconds: Optional[int] = None) -> int:
        """
        Answer the job's stubbed actions now and send the others with the real handler.

        :return: The id of the real request, or, for a job answered by stubs alone, a stubbed id (0 or less).
        """
        job = stub_registry.answer_job(self.service_name, job_request)
        if job is None:
            return self._require_real().send_request(job_request, message_expiry_in_seconds)
        wants_response = not job_request.control.get('suppress_response')
        real_request = job.real_request
        if real_request is not None:
            request_id = self._require_real().send_request(real_request, message_expiry_in_seconds)
            if wants_response:
                self._state.partial[request_id] = job
            return request_id
        request_id = stub_registry.next_request_id()
        if wants_response:
            self._state.ready[request_id] = job.outcome()
        return request_id

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
