"""
Test doubles and tiny services shared by the server tests.

* :class:`InMemoryServerTransport` feeds :meth:`Server.handle_next_request` from a queue of requests and records the
  responses it sends; it can be told to fail the next receive or sends.
* :class:`RecordingMetrics` keeps every metric (publishing clears nothing), so tests can read counters afterwards.
* :func:`make_server` builds a server that uses both; :func:`job_request` and :func:`run_job` build and run jobs.
"""

import collections
from typing import (
    Any,
    Callable,
    Deque,
    Dict,
    List,
    Mapping,
    Optional,
    Type,
    Union,
    cast,
)

from conformity import fields
from pymetrics.recorders.default import DefaultMetricsRecorder
from pymetrics.recorders.noop import noop_metrics

from pysoa.common.errors import Error
from pysoa.common.transport.base import (
    ReceivedMessage,
    ServerTransport,
)
from pysoa.common.transport.errors import MessageReceiveTimeout
from pysoa.common.types import ActionResponse
from pysoa.server.action import Action
from pysoa.server.errors import ActionError
from pysoa.server.middleware import (
    ServerMiddleware,
    ServerMiddlewareActionTask,
    ServerMiddlewareJobTask,
)
from pysoa.server.server import Server
from pysoa.server.settings import ServerSettings
from pysoa.server.types import (
    ActionType,
    EnrichedActionRequest,
    EnrichedJobRequest,
)


TRANSPORT_PATH = 'tests.unit.server.services:InMemoryServerTransport'
METRICS_PATH = 'tests.unit.server.services:RecordingMetrics'
MIDDLEWARE_PATH = 'tests.unit.server.services:RecordingMiddleware'

CURRENT_CLIENT_META: Dict[str, Any] = {'client_version': [1, 4, 9]}
"""The ``meta`` of a request from a client new enough to receive ``is_caller_error``."""


@fields.ClassConfigurationSchema.provider(fields.Dictionary({}))
class InMemoryServerTransport(ServerTransport):
    """A server transport backed by a queue of requests (or exceptions to raise) and a list of sent responses."""

    def __init__(self, service_name: str, metrics: Any = noop_metrics, instance_index: int = 1) -> None:
        super().__init__(service_name, metrics, instance_index)
        self.requests: Deque[Union[ReceivedMessage, BaseException]] = collections.deque()
        self.responses: List[ReceivedMessage] = []
        self.send_failures: Deque[BaseException] = collections.deque()

    def queue_request(
        self,
        body: Any,
        request_id: int = 1,
        meta: Optional[Dict[str, Any]] = None,
    ) -> None:
        """Queue a request; ``meta`` defaults to that of a current client."""
        self.requests.append(ReceivedMessage(request_id, dict(CURRENT_CLIENT_META) if meta is None else meta, body))

    def fail_next_receive(self, exception: BaseException) -> None:
        """Make the receive that would get the next queued item raise ``exception`` instead."""
        self.requests.append(exception)

    def fail_next_send(self, exception: BaseException) -> None:
        """Make the next send raise ``exception`` (sends after that succeed, unless more failures are queued)."""
        self.send_failures.append(exception)

    def receive_request_message(self) -> ReceivedMessage:
        if not self.requests:
            raise MessageReceiveTimeout('No request queued')
        item = self.requests.popleft()
        if isinstance(item, BaseException):
            raise item
        return item

    def send_response_message(self, request_id: int, meta: Dict[str, Any], body: Dict[str, Any]) -> None:
        if self.send_failures:
            raise self.send_failures.popleft()
        self.responses.append(ReceivedMessage(request_id, meta, body))


@fields.ClassConfigurationSchema.provider(
    fields.Dictionary({'config': fields.Anything()}, optional_keys=('config',)),
)
class RecordingMetrics(DefaultMetricsRecorder):
    """A metrics recorder that never discards what it recorded, and keeps the ``config`` it was given."""

    def __init__(self, config: Any = None) -> None:
        super().__init__(None)
        self.config = config
        self.publish_count = 0

    def publish_all(self) -> None:
        self.publish_count += 1

    def counter_value(self, name: str, **tags: Any) -> int:
        """The total of the counters with this name whose tags include ``tags``."""
        return sum(
            cast(int, metric.value)  # a counter's value is never None
            for metric in self.get_all_metrics()
            if type(metric).__name__ == 'Counter'
            and metric.name == name
            and all(metric.tags.get(k) == v for k, v in tags.items())
        )

    def counter_names(self) -> List[str]:
        """The names of the counters that were incremented, sorted."""
        return sorted(
            metric.name for metric in self.get_all_metrics() if type(metric).__name__ == 'Counter' and metric.value
        )

    def gauge_value(self, name: str) -> Any:
        """The value most recently set on the gauge with this name."""
        values = [
            metric.value
            for metric in self.get_all_metrics()
            if type(metric).__name__ == 'Gauge' and metric.name == name
        ]
        return values[-1]


@fields.ClassConfigurationSchema.provider(fields.Dictionary({'name': fields.UnicodeString()}))
class RecordingMiddleware(ServerMiddleware):
    """
    Middleware that appends what it sees to ``self.log`` (give several instances the same list to see the order),
    and marks the requests and responses it passes on with its name, so that other layers can see it ran.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.log: List[str] = []

    def job(self, process_job: ServerMiddlewareJobTask) -> ServerMiddlewareJobTask:
        def handle_job(request: EnrichedJobRequest) -> Any:
            self.log.append(f'{self.name} job in, request marked by {request.context.get("marks", [])}')
            request.context['marks'] = [*request.context.get('marks', []), self.name]
            response = process_job(request)
            self.log.append(f'{self.name} job out, response marked by {response.context.get("marks", [])}')
            response.context['marks'] = [*response.context.get('marks', []), self.name]
            return response

        return handle_job

    def action(self, process_action: ServerMiddlewareActionTask) -> ServerMiddlewareActionTask:
        def handle_action(request: EnrichedActionRequest) -> Any:
            self.log.append(f'{self.name} action {request.action} in, body {request.body}')
            request.body = {**request.body, self.name: True}
            response = process_action(request)
            self.log.append(f'{self.name} action {request.action} out, body {response.body}')
            response.body = {**response.body, f'{self.name}_out': True}
            return response

        return handle_action


def shared_log(server: Server) -> List[str]:
    """Make every (recording) middleware of ``server`` log to one list, and return it."""
    log: List[str] = []
    for middleware in server.middleware:
        assert isinstance(middleware, RecordingMiddleware)
        middleware.log = log
    return log


class EchoAction(Action):
    """Returns the request body as the response body."""

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        return dict(request.body)


class FailingAction(Action):
    """Fails with the error ``FAILED``."""

    def run(self, request: EnrichedActionRequest) -> None:
        raise ActionError([Error(code='FAILED', message='It failed')])


def raising(exception: BaseException) -> Callable[[Any], Callable[[EnrichedActionRequest], ActionResponse]]:
    """An action factory whose action raises ``exception``."""

    def factory(_settings: Any) -> Callable[[EnrichedActionRequest], ActionResponse]:
        def run(_request: EnrichedActionRequest) -> ActionResponse:
            raise exception

        return run

    return factory


def make_server_class(
    actions: Optional[Mapping[str, ActionType]] = None,
    service_name: str = 'test_service',
    base: Type[Server] = Server,
    **attributes: Any,
) -> Type[Server]:
    """A ``Server`` subclass serving ``actions`` (by default just ``echo``)."""
    namespace: Dict[str, Any] = {
        'service_name': service_name,
        'action_class_map': {'echo': EchoAction} if actions is None else dict(actions),
        **attributes,
    }
    return cast(Type[Server], type('TestServer', (base,), namespace))


def make_settings(server_class: Type[Server] = Server, **settings: Any) -> ServerSettings:
    """Server settings using the in-memory transport and the recording metrics, plus ``settings``."""
    data: Dict[str, Any] = {'transport': {'path': TRANSPORT_PATH}, 'metrics': {'path': METRICS_PATH}}
    data.update(settings)
    return server_class.settings_class(data)


def make_server(
    actions: Optional[Mapping[str, ActionType]] = None,
    server_class: Optional[Type[Server]] = None,
    **settings: Any,
) -> Server:
    """A server of ``server_class`` (or a new class serving ``actions``) with :func:`make_settings` settings."""
    if server_class is None:
        server_class = make_server_class(actions)
    return server_class(make_settings(server_class, **settings))


def transport_of(server: Server) -> InMemoryServerTransport:
    assert isinstance(server.transport, InMemoryServerTransport)
    return server.transport


def metrics_of(server: Server) -> RecordingMetrics:
    assert isinstance(server.metrics, RecordingMetrics)
    return server.metrics


def action(name: str, /, **body: Any) -> Dict[str, Any]:
    """An action request dict."""
    return {'action': name, 'body': body}


def job_request(
    *actions: Dict[str, Any],
    correlation_id: str = 'correlation-1',
    switches: Optional[List[int]] = None,
    continue_on_error: bool = False,
    control: Optional[Dict[str, Any]] = None,
    context: Optional[Dict[str, Any]] = None,
) -> Dict[str, Any]:
    """A valid job request dict with these actions (by default one ``echo``)."""
    return {
        'control': {'continue_on_error': continue_on_error, **(control or {})},
        'context': {'correlation_id': correlation_id, 'switches': switches or [], **(context or {})},
        'actions': list(actions) or [action('echo')],
    }


def run_job(
    server: Server,
    job: Any,
    meta: Optional[Dict[str, Any]] = None,
    request_id: int = 1,
) -> Dict[str, Any]:
    """Send ``job`` through ``server.handle_next_request()`` and return the one response body it sent."""
    transport = transport_of(server)
    sent_before = len(transport.responses)
    transport.queue_request(job, request_id=request_id, meta=meta)
    server.handle_next_request()
    assert len(transport.responses) == sent_before + 1, 'expected exactly one response'
    response = transport.responses[-1]
    assert response.request_id == request_id
    assert response.body is not None
    return response.body
