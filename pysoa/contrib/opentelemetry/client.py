"""The client middleware that traces every call a client makes, and passes the trace on to the service."""

import contextlib
import copy
from typing import (
    Any,
    Dict,
    Iterator,
    Mapping,
    Optional,
    Tuple,
)

from conformity import fields
from opentelemetry import trace
from opentelemetry.trace import (
    Span,
    SpanKind,
    Tracer,
)

from pysoa.client.aio import (
    AsyncClientMiddleware,
    AsyncClientRequestMiddlewareTask,
    AsyncClientResponseMiddlewareTask,
)
from pysoa.client.middleware import (
    ClientRequestMiddlewareTask,
    ClientResponseMiddlewareTask,
)
from pysoa.common.transport.errors import PySOATransportError
from pysoa.common.types import (
    JobRequest,
    JobResponse,
)
from pysoa.contrib.opentelemetry._outstanding import OutstandingSpans
from pysoa.contrib.opentelemetry._tracing import (
    TRACER_PROVIDER_FIELD,
    TracerSource,
    job_response_errors,
    method_name,
    parent_context,
    record_errors,
    record_exception,
    rpc_attributes,
    write_trace_context,
)


__all__ = (
    'OpenTelemetryClientMiddleware',
    'traced_client_config',
)

_MIDDLEWARE_PATH = 'pysoa.contrib.opentelemetry:OpenTelemetryClientMiddleware'


@fields.ClassConfigurationSchema.provider(
    fields.Dictionary(
        {
            'service_name': fields.UnicodeString(
                description='The name of the service these settings are for (clients do not tell it to middleware)',
            ),
            'tracer_provider': TRACER_PROVIDER_FIELD,
        },
        optional_keys=('tracer_provider',),
        description='The settings of the OpenTelemetry client middleware',
    )
)
class OpenTelemetryClientMiddleware(AsyncClientMiddleware):
    """
    Traces every job a client sends to a service with a ``CLIENT`` span, from sending the request until its response
    arrives, named ``<service>/<action>`` (a job of several actions: their names separated by commas), with the
    attributes ``rpc.system`` (``pysoa``), ``rpc.service``, ``rpc.method``, ``pysoa.correlation_id`` and
    ``pysoa.request_id``. A response with errors sets the span's status to error and records their codes
    (``pysoa.error_codes``, ``error.type``); so does a response that expired or could not be read.

    The span is a child of the current span (in a traced server: the action making the call), else of the trace
    context in the client's context (``traceparent`` and ``tracestate``), else it starts a trace. Its own trace
    context replaces those keys in the job's context header, for the service to continue the trace. Works for
    :class:`~pysoa.client.client.Client` and :class:`~pysoa.client.aio.AsyncClient` alike.

    The client's settings of each service carry their own middleware, and middleware is not told which service it
    serves: ``service_name`` says it. :func:`traced_client_config` adds the middleware to every service of a client
    config, with the right name.

    While tracing is off (the OpenTelemetry SDK is not configured: the global tracer provider is the API's no-op
    default), the middleware only passes requests and responses on.

    :param service_name: The name of the service these client settings are for.
    :param tracer_provider: The import path (``module.name:VARIABLE``) of the tracer provider to use instead of the
                            global one.
    """

    maximum_outstanding_spans: int = 10000
    """How many calls waiting for a response to keep a span open for; past it, the oldest span ends with an error."""

    def __init__(self, service_name: str, tracer_provider: Optional[str] = None) -> None:
        self._service_name = service_name
        self._tracing = TracerSource(tracer_provider)
        self._outstanding = OutstandingSpans(self.maximum_outstanding_spans)

    # Client -------------------------------------------------------------------------------------------------------

    def request(self, send_request: ClientRequestMiddlewareTask) -> ClientRequestMiddlewareTask:
        current_tracer = self._tracing.tracer

        def traced_send(
            request_id: int,
            meta: Dict[str, Any],
            job_request: JobRequest,
            message_expiry_in_seconds: Optional[int] = None,
        ) -> None:
            tracer = current_tracer()
            if tracer is None:
                return send_request(request_id, meta, job_request, message_expiry_in_seconds)
            with self._sending(tracer, request_id, job_request):
                send_request(request_id, meta, job_request, message_expiry_in_seconds)
            return None

        return traced_send

    def response(self, get_response: ClientResponseMiddlewareTask) -> ClientResponseMiddlewareTask:
        outstanding = self._outstanding

        def traced_receive(
            receive_timeout_in_seconds: Optional[int] = None,
        ) -> Tuple[
            Optional[int],
            Optional[JobResponse],
        ]:
            if not outstanding:
                return get_response(receive_timeout_in_seconds)
            try:
                request_id, job_response = get_response(receive_timeout_in_seconds)
            except PySOATransportError as e:
                self._failed(e)
                raise
            self._received(request_id, job_response)
            return request_id, job_response

        return traced_receive

    # AsyncClient --------------------------------------------------------------------------------------------------

    def async_request(self, send_request: AsyncClientRequestMiddlewareTask) -> AsyncClientRequestMiddlewareTask:
        current_tracer = self._tracing.tracer

        async def traced_send(
            request_id: int,
            meta: Dict[str, Any],
            job_request: JobRequest,
            message_expiry_in_seconds: Optional[int] = None,
        ) -> None:
            tracer = current_tracer()
            if tracer is None:
                return await send_request(request_id, meta, job_request, message_expiry_in_seconds)
            with self._sending(tracer, request_id, job_request):
                await send_request(request_id, meta, job_request, message_expiry_in_seconds)
            return None

        return traced_send

    def async_response(self, get_response: AsyncClientResponseMiddlewareTask) -> AsyncClientResponseMiddlewareTask:
        outstanding = self._outstanding

        async def traced_receive(
            receive_timeout_in_seconds: Optional[float] = None,
        ) -> Tuple[
            Optional[int],
            Optional[JobResponse],
        ]:
            if not outstanding:
                return await get_response(receive_timeout_in_seconds)
            try:
                request_id, job_response = await get_response(receive_timeout_in_seconds)
            except PySOATransportError as e:
                self._failed(e)
                raise
            self._received(request_id, job_response)
            return request_id, job_response

        return traced_receive

    # Spans --------------------------------------------------------------------------------------------------------

    def _start_span(self, tracer: Tracer, request_id: int, job_request: JobRequest) -> Span:
        context_header = job_request.context
        method = method_name([action_request.action for action_request in job_request.actions])
        attributes = rpc_attributes(self._service_name, method, context_header)
        attributes['pysoa.request_id'] = request_id
        # The current span is the parent; outside of one (e.g. in a thread an action started), the trace context the
        # client carries (in a traced server: the action's) is.
        parent = None if trace.get_current_span().get_span_context().is_valid else parent_context(context_header)
        span = tracer.start_span(
            f'{self._service_name}/{method}',
            context=parent,
            kind=SpanKind.CLIENT,
            attributes=attributes,
        )
        write_trace_context(span, context_header)
        return span

    @contextlib.contextmanager
    def _sending(self, tracer: Tracer, request_id: int, job_request: JobRequest) -> Iterator[None]:
        """
        Around sending a request: its span, current while it is sent, ended if sending fails; once sent, ended at once
        if no response will come, else kept until the response arrives.
        """
        span = self._start_span(tracer, request_id, job_request)
        with trace.use_span(span, end_on_exit=False, record_exception=False, set_status_on_exception=False):
            try:
                yield
            except BaseException as e:
                _end_with_exception(span, e)
                raise
        if job_request.control.get('suppress_response'):
            span.end()
        else:
            self._outstanding.add(request_id, span)

    def _received(self, request_id: Optional[int], job_response: Optional[JobResponse]) -> None:
        span = self._outstanding.pop(request_id) if request_id is not None else None
        if span is not None:
            record_errors(span, job_response_errors(job_response))
            span.end()

    def _failed(self, error: PySOATransportError) -> None:
        # An error about one response (it expired, or could not be read) carries the id of its request.
        request_id = getattr(error, 'request_id', None)
        span = self._outstanding.pop(request_id) if isinstance(request_id, int) else None
        if span is not None:
            _end_with_exception(span, error)


def _end_with_exception(span: Span, exception: BaseException) -> None:
    record_exception(span, exception)
    span.end()


def traced_client_config(
    config: Mapping[str, Mapping[str, Any]],
    tracer_provider: Optional[str] = None,
) -> Dict[str, Dict[str, Any]]:
    """
    A copy of a client config (``{service_name: settings}``, as :class:`~pysoa.client.client.Client` and a server's
    ``client_routing`` setting take) in which each service's ``middleware`` list starts with
    :class:`OpenTelemetryClientMiddleware` for that service. The given config is not changed.

    :param config: The client config.
    :param tracer_provider: The import path of the tracer provider for the middleware (by default the global one).
    """
    traced: Dict[str, Dict[str, Any]] = {}
    for service_name, settings in config.items():
        kwargs: Dict[str, Any] = {'service_name': service_name}
        if tracer_provider is not None:
            kwargs['tracer_provider'] = tracer_provider
        traced[service_name] = copy.deepcopy(dict(settings))
        traced[service_name]['middleware'] = [
            {'path': _MIDDLEWARE_PATH, 'kwargs': kwargs},
            *traced[service_name].get('middleware', []),
        ]
    return traced
