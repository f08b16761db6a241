"""One service as seen from a client: its transport, its middleware, and the responses waiting to be claimed."""

import logging
import math
import random
import threading
import time
from typing import (
    Any,
    Collection,
    Dict,
    Iterator,
    List,
    Optional,
    Set,
    Tuple,
    Union,
)

from pymetrics.instruments import TimerResolution
from pymetrics.recorders.base import MetricsRecorder

from pysoa.client.middleware import (
    ClientMiddleware,
    ClientRequestMiddlewareTask,
    ClientResponseMiddlewareTask,
)
from pysoa.client.settings import ClientSettings
from pysoa.common._metrics import make_metrics_recorder
from pysoa.common._wire import job_request_to_dict
from pysoa.common.transport.base import ClientTransport
from pysoa.common.transport.errors import (
    InvalidMessageError,
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
    'InvalidJobResponseError',
    'ServiceHandler',
)

_logger = logging.getLogger('pysoa.client.client')
_MICROSECONDS = TimerResolution.MICROSECONDS


_Outcome = Union[JobResponse, PySOATransportError]


class _ThreadState(threading.local):
    """What one thread has sent and not yet claimed; transports reply to the thread that sent the request."""

    def __init__(self) -> None:
        self.pending: Set[int] = set()
        # What arrived for pending requests before anybody asked for it, oldest first: each response, or the error
        # that stands for it (an expired or invalid response).
        self.unclaimed: Dict[int, _Outcome] = {}


class InvalidJobResponseError(InvalidMessageError):
    """
    A response arrived for a request, but its body is not a valid job response (a server bug, or a server of another
    version that sends keys this one does not know).

    :param request_id: The id of the request it answers, available as an attribute.
    """

    def __init__(self, request_id: Optional[int], *args: Any) -> None:
        super().__init__(*args)
        self.request_id = request_id


class ServiceHandler:
    """
    Sends requests to one service and receives its responses, through the configured client middleware and
    transport. Created by :class:`pysoa.client.client.Client` on the first call to the service.

    Responses that arrive while a caller waits for a different one are kept until claimed, so several futures and
    parallel calls to the same service can be outstanding at once without losing responses. At most
    :attr:`maximum_unclaimed_responses` are kept per thread. A response to a request nobody waits for any more (its
    call timed out or failed, or it was :meth:`forget`-ten) is dropped with a warning on the logger
    ``pysoa.client.client`` and the metric ``client.receive.error.unwanted_response``.

    :param service_name: The service's name.
    :param settings: The service's client settings.
    """

    _client_version: List[int] = list(__version_info__)

    maximum_unclaimed_responses: int = 1000
    """
    How many received responses one thread keeps for requests nobody has asked for yet (futures whose ``result()``
    has not been called). Past this, the oldest is dropped, with a warning and the metric
    ``client.receive.error.unclaimed_response_dropped``, and its future fails with a transport error.
    """

    def __init__(self, service_name: str, settings: ClientSettings) -> None:
        self.service_name = service_name
        self.metrics: MetricsRecorder = make_metrics_recorder(settings['metrics'])

        with self.metrics.timer('client.transport.initialize', resolution=_MICROSECONDS):
            self.transport: ClientTransport = settings['transport']['object'](
                service_name,
                self.metrics,
                **settings['transport'].get('kwargs', {}),
            )
        with self.metrics.timer('client.middleware.initialize', resolution=_MICROSECONDS):
            self.middleware: List[ClientMiddleware] = [
                m['object'](**m.get('kwargs', {})) for m in settings['middleware']
            ]

        base_send: ClientRequestMiddlewareTask = self._base_send_request
        base_receive: ClientResponseMiddlewareTask = self._base_get_response
        self._send_request_stack = chain_middleware([m.request for m in self.middleware], base_send)
        self._get_response_stack = chain_middleware([m.response for m in self.middleware], base_receive)
        self.request_counter = random.randint(1, 1000000)
        self._counter_lock = threading.Lock()
        self._state = _ThreadState()

    def _base_send_request(
        self,
        request_id: int,
        meta: Dict[str, Any],
        job_request: JobRequest,
        message_expiry_in_seconds: Optional[int] = None,
    ) -> None:
        with self.metrics.timer('client.send.excluding_middleware', resolution=_MICROSECONDS):
            body = job_request_to_dict(job_request) if isinstance(job_request, JobRequest) else job_request
            self.transport.send_request_message(request_id, meta, body, message_expiry_in_seconds)

    def _base_get_response(
        self, receive_timeout_in_seconds: Optional[int] = None
    ) -> Tuple[
        Optional[int],
        Optional[JobResponse],
    ]:
        with self.metrics.timer('client.receive.excluding_middleware', resolution=_MICROSECONDS):
            request_id, _meta, body = self.transport.receive_response_message(receive_timeout_in_seconds)
        if body is None:
            return None, None
        try:
            return request_id, JobResponse(**body)
        except TypeError as e:
            raise InvalidJobResponseError(
                request_id,
                f'Service {self.service_name} sent an invalid job response to request {request_id}: {e}',
            ) from e

    def send_request(self, job_request: JobRequest, message_expiry_in_seconds: Optional[int] = None) -> int:
        """
        Send a job request through the middleware and transport.

        :return: The request's id, unique among this handler's requests.
        """
        with self._counter_lock:
            request_id = self.request_counter
            self.request_counter += 1
        meta: Dict[str, Any] = {'client_version': list(self._client_version)}
        try:
            with self.metrics.timer('client.send.including_middleware', resolution=_MICROSECONDS):
                self._send_request_stack(request_id, meta, job_request, message_expiry_in_seconds)
            if not job_request.control.get('suppress_response'):
                self._state.pending.add(request_id)
            return request_id
        finally:
            self.metrics.publish_all()

    def forget(self, request_ids: Collection[int]) -> None:
        """Stop waiting for these requests: their responses, if they ever arrive, are dropped."""
        state = self._state
        for request_id in request_ids:
            state.pending.discard(request_id)
            state.unclaimed.pop(request_id, None)

    def _receive_one(self, receive_timeout_in_seconds: Optional[int]) -> Tuple[Optional[int], Optional[_Outcome]]:
        """The next response, or the error that stands for it; ``(None, None)`` if the transport expects none."""
        try:
            with self.metrics.timer('client.receive.including_middleware', resolution=_MICROSECONDS):
                return self._get_response_stack(receive_timeout_in_seconds)
        except PySOATransportError as e:
            # An error about one response (it expired, or is not a job response) carries the id of its request.
            request_id = getattr(e, 'request_id', None)
            if request_id is None:
                raise
            return request_id, e

    def _keep(self, request_id: int, outcome: _Outcome) -> None:
        state = self._state
        unclaimed = state.unclaimed
        unclaimed[request_id] = outcome
        if len(unclaimed) > self.maximum_unclaimed_responses:
            oldest = next(iter(unclaimed))
            del unclaimed[oldest]
            state.pending.discard(oldest)
            self.metrics.counter('client.receive.error.unclaimed_response_dropped').increment()
            _logger.warning(
                'Dropping the response from service %s to request %s: more than %s responses are waiting to be '
                'claimed. Call result() on every future, or forget() requests you no longer want.',
                self.service_name,
                oldest,
                self.maximum_unclaimed_responses,
            )

    def _drop_unwanted(self, request_id: int) -> None:
        self.metrics.counter('client.receive.error.unwanted_response').increment()
        _logger.warning(
            'Dropping response from service %s to request %s, which nobody is waiting for',
            self.service_name,
            request_id,
        )

    def _time_left(self, deadline: Optional[float], receive_timeout_in_seconds: Optional[int]) -> Optional[int]:
        """What is left until ``deadline``, in whole seconds rounded up (the timeout itself without a deadline)."""
        if deadline is None:
            return receive_timeout_in_seconds
        left = math.ceil(deadline - time.monotonic())
        if left <= 0:
            raise MessageReceiveTimeout(
                f'No response from service {self.service_name} arrived within {receive_timeout_in_seconds} seconds',
            )
        return left

    def get_all_responses(
        self,
        receive_timeout_in_seconds: Optional[int] = None,
    ) -> Iterator[Tuple[int, JobResponse]]:
        """
        Yield ``(request_id, job_response)`` for every response this thread has outstanding, as they arrive.

        :raises pysoa.common.transport.errors.MessageReceiveTimeout: If a response does not arrive in time (or
                                                                     arrived after its expiry).
        """
        state = self._state
        try:
            while state.unclaimed:
                unclaimed_id = next(iter(state.unclaimed))
                state.pending.discard(unclaimed_id)
                yield unclaimed_id, _claimed(state.unclaimed.pop(unclaimed_id))
            while state.pending:
                request_id, outcome = self._receive_one(receive_timeout_in_seconds)
                if request_id is None or outcome is None:
                    return
                if request_id in state.pending:
                    state.pending.discard(request_id)
                    yield request_id, _claimed(outcome)
                else:
                    self._drop_unwanted(request_id)
        finally:
            self.metrics.publish_all()

    def receive_responses(
        self,
        request_ids: Collection[int],
        receive_timeout_in_seconds: Optional[int] = None,
    ) -> Iterator[Tuple[int, JobResponse]]:
        """
        Yield ``(request_id, job_response)`` for each of ``request_ids`` as it arrives, until all have arrived or none
        of the rest can (the transport has nothing outstanding, or the request was never sent, expects no response, or
        was forgotten). Responses to this thread's other pending requests are kept for their callers; responses to
        requests nobody waits for any more are logged and dropped.

        :param receive_timeout_in_seconds: How long to wait, in all; by default the transport's receive timeout for
                                           each response.

        :raises pysoa.common.transport.errors.MessageReceiveTimeout: If a response does not arrive in time (or
                                                                     arrived after its expiry).
        """
        state = self._state
        wanted = set(request_ids)
        for unclaimed_id in list(wanted):
            if unclaimed_id in state.unclaimed:
                wanted.discard(unclaimed_id)
                state.pending.discard(unclaimed_id)
                yield unclaimed_id, _claimed(state.unclaimed.pop(unclaimed_id))
        wanted &= state.pending
        deadline = time.monotonic() + receive_timeout_in_seconds if receive_timeout_in_seconds else None
        try:
            while wanted:
                request_id, outcome = self._receive_one(self._time_left(deadline, receive_timeout_in_seconds))
                if request_id is None or outcome is None:
                    return
                if request_id in wanted:
                    wanted.discard(request_id)
                    state.pending.discard(request_id)
                    yield request_id, _claimed(outcome)
                elif request_id in state.pending:
                    self._keep(request_id, outcome)
                else:
                    self._drop_unwanted(request_id)
        finally:
            self.metrics.publish_all()


def _claimed(outcome: _Outcome) -> JobResponse:
    if isinstance(outcome, PySOATransportError):
        raise outcome
    return outcome
