"""The server middleware that traces every job and every action a service runs."""

from typing import (
    Optional,
    Union,
)

from conformity import fields
from opentelemetry import trace
from opentelemetry.trace import (
    Span,
    SpanKind,
    Tracer,
)

from pysoa.client.client import Client
from pysoa.common.types import (
    ActionResponse,
    JobResponse,
)
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
from pysoa.server.errors import (
    ActionError,
    JobError,
)
from pysoa.server.middleware import (
    ServerMiddleware,
    ServerMiddlewareActionTask,
    ServerMiddlewareJobTask,
)
from pysoa.server.types import (
    EnrichedActionRequest,
    EnrichedJobRequest,
)


__all__ = ('OpenTelemetryServerMiddleware',)


@fields.ClassConfigurationSchema.provider(
    fields.Dictionary(
        {
            'service_name': fields.UnicodeString(
                description="The service's name in the spans (`rpc.service`); by default the server's `service_name`",
            ),
            'tracer_provider': TRACER_PROVIDER_FIELD,
        },
        optional_keys=('service_name', 'tracer_provider'),
        description='The settings of the OpenTelemetry server middleware',
    )
)
class OpenTelemetryServerMiddleware(ServerMiddleware):
    """
    Traces every job a server runs with a ``SERVER`` span, and every action of it with an ``INTERNAL`` span inside
    it, named ``<service>/<action>`` (a job of several actions: their names separated by commas), with the
    attributes ``rpc.system`` (``pysoa``), ``rpc.service``, ``rpc.method`` and ``pysoa.correlation_id``. A job or
    action that returns errors sets its span's status to error and records their codes (``pysoa.error_codes``,
    ``error.type``); an exception is recorded as well.

    The job's span continues the trace of the W3C trace context in the job's context header (``traceparent`` and
    ``tracestate``), when there is one. While an action runs, its span is the current span, and the context of the
    action's ``request.client`` carries its trace context: the calls the action makes continue the trace, with or
    without :class:`~pysoa.contrib.opentelemetry.OpenTelemetryClientMiddleware` in the ``client_routing`` settings
    (with it, each call also gets a ``CLIENT`` span).

    While tracing is off (the OpenTelemetry SDK is not configured: the global tracer provider is the API's no-op
    default), the middleware only passes requests on.

    :param service_name: The service's name in the spans; by default the ``calling_service`` that the server puts in
                         the context of ``request.client`` (its ``service_name``).
    :param tracer_provider: The import path (``module.name:VARIABLE``) of the tracer provider to use instead of the
                            global one.
    """

    def __init__(self, service_name: Optional[str] = None, tracer_provider: Optional[str] = None) -> None:
        self._service_name = service_name
        self._tracing = TracerSource(tracer_provider)

    def job(self, process_job: ServerMiddlewareJobTask) -> ServerMiddlewareJobTask:
        current_tracer = self._tracing.tracer

        def traced_job(request: EnrichedJobRequest) -> JobResponse:
            tracer = current_tracer()
            if tracer is None:
                return process_job(request)
            return self._run_job(tracer, process_job, request)

        return traced_job

    def action(self, process_action: ServerMiddlewareActionTask) -> ServerMiddlewareActionTask:
        # The server wraps each action just before running it: whether to trace it can be decided now.
        tracer = self._tracing.tracer()
        if tracer is None:
            return process_action

        def traced_action(request: EnrichedActionRequest) -> ActionResponse:
            return self._run_action(tracer, process_action, request)

        return traced_action

    def _run_job(
        self,
        tracer: Tracer,
        process_job: ServerMiddlewareJobTask,
        request: EnrichedJobRequest,
    ) -> JobResponse:
        service_name = self._service_name_of(request.client)
        method = method_name([action_request.action for action_request in request.actions])
        span = tracer.start_span(
            f'{service_name}/{method}',
            context=parent_context(request.context),
            kind=SpanKind.SERVER,
            attributes=rpc_attributes(service_name, method, request.context),
        )
        with trace.use_span(span, end_on_exit=True, record_exception=False, set_status_on_exception=False):
            _continue_trace_in(request.client, span)
            try:
                response = process_job(request)
            except JobError as e:
                record_errors(span, e.errors)
                raise
            except BaseException as e:
                record_exception(span, e)
                raise
            record_errors(span, job_response_errors(response))
            return response

    def _run_action(
        self,
        tracer: Tracer,
        process_action: ServerMiddlewareActionTask,
        request: EnrichedActionRequest,
    ) -> ActionResponse:
        service_name = self._service_name_of(request.client)
        span = tracer.start_span(
            f'{service_name}/{request.action}',
            kind=SpanKind.INTERNAL,
            attributes=rpc_attributes(service_name, request.action, request.context),
        )
        with trace.use_span(span, end_on_exit=True, record_exception=False, set_status_on_exception=False):
            _continue_trace_in(request.client, span)
            try:
                response = process_action(request)
            except (ActionError, JobError) as e:
                record_errors(span, e.errors)
                raise
            except BaseException as e:
                record_exception(span, e)
                raise
            record_errors(span, response.errors)
            return response

    def _service_name_of(self, client: Optional[Client]) -> str:
        if self._service_name:
            return self._service_name
        service_name: Union[str, None] = client.context.get('calling_service') if client is not None else None
        return service_name if isinstance(service_name, str) else 'unknown'


def _continue_trace_in(client: Optional[Client], span: Span) -> None:
    """Make the calls made through ``client`` (``request.client``) carry ``span``'s trace context."""
    if client is not None:
        write_trace_context(span, client.context)
