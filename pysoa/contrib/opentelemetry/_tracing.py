"""What the client and server middleware share: finding the tracer, the trace context header keys, span attributes."""

from time import monotonic
from typing import (
    Any,
    Dict,
    Iterable,
    List,
    Mapping,
    MutableMapping,
    Optional,
    Sequence,
)

from conformity import fields
from opentelemetry import trace
from opentelemetry.context import Context as TraceContext
from opentelemetry.trace import (
    NoOpTracerProvider,
    ProxyTracerProvider,
    Span,
    Status,
    StatusCode,
    Tracer,
    TracerProvider,
)
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import AttributeValue

from pysoa.common.errors import Error
from pysoa.common.types import JobResponse
from pysoa.version import __version__


__all__ = (
    'TRACEPARENT',
    'TRACER_PROVIDER_FIELD',
    'TRACESTATE',
    'TracerSource',
    'job_response_errors',
    'method_name',
    'parent_context',
    'record_errors',
    'record_exception',
    'rpc_attributes',
    'write_trace_context',
)

TRACEPARENT = 'traceparent'
TRACESTATE = 'tracestate'

_INSTRUMENTATION_NAME = 'pysoa'

# While the global tracer provider is the API's default (no SDK), how long to wait before looking again: looking
# costs about a microsecond, which is too much on every call of an uninstrumented service.
_LOOK_AGAIN_SECONDS = 1.0

_PROPAGATOR = TraceContextTextMapPropagator()

TRACER_PROVIDER_FIELD = fields.PythonPath(
    value_schema=fields.ObjectInstance(TracerProvider),
    description='The import path (`module.name:VARIABLE`) of the OpenTelemetry `TracerProvider` to create spans with; '
    'by default the global one (`opentelemetry.trace.get_tracer_provider()`)',
)


class TracerSource:
    """
    The tracer to create spans with, or ``None`` while tracing is off: while the tracer provider is the OpenTelemetry
    API's no-op default (no SDK installed or configured). A global provider set later is picked up within a second.

    :param tracer_provider: The import path of a tracer provider; ``None`` for the global one.
    """

    def __init__(self, tracer_provider: Optional[str] = None) -> None:
        self._provider: Optional[TracerProvider] = (
            fields.PythonPath.resolve_python_path(tracer_provider) if tracer_provider else None
        )
        self._tracer: Optional[Tracer] = None
        self._look_again_at = 0.0

    def tracer(self) -> Optional[Tracer]:
        """The tracer, or ``None`` while tracing is off."""
        tracer = self._tracer
        if tracer is not None:
            return tracer
        now = monotonic()
        if now < self._look_again_at:
            return None
        self._look_again_at = now + _LOOK_AGAIN_SECONDS
        provider = self._provider if self._provider is not None else trace.get_tracer_provider()
        if isinstance(provider, (ProxyTracerProvider, NoOpTracerProvider)):
            return None
        self._tracer = provider.get_tracer(_INSTRUMENTATION_NAME, __version__)
        return self._tracer


def parent_context(context_header: Mapping[str, Any]) -> TraceContext:
    """The trace context a job's context header carries (an empty one, meaning "start a trace", if none)."""
    carrier = {
        key: value
        for key, value in ((TRACEPARENT, context_header.get(TRACEPARENT)), (TRACESTATE, context_header.get(TRACESTATE)))
        if isinstance(value, str)
    }
    return _PROPAGATOR.extract(carrier)


def write_trace_context(span: Span, context_header: MutableMapping[str, Any]) -> None:
    """Put ``span``'s trace context in a job's context header, replacing what was there."""
    context_header.pop(TRACEPARENT, None)
    context_header.pop(TRACESTATE, None)
    _PROPAGATOR.inject(context_header, context=trace.set_span_in_context(span))


def method_name(actions: Sequence[str]) -> str:
    """The ``rpc.method`` of a job: its action's name, or the names of its actions separated by commas."""
    return actions[0] if len(actions) == 1 else ','.join(actions)


def rpc_attributes(service_name: str, method: str, context_header: Mapping[str, Any]) -> Dict[str, AttributeValue]:
    """The attributes every span of a call has: the RPC semantic conventions' and the correlation id."""
    attributes: Dict[str, AttributeValue] = {
        'rpc.system': 'pysoa',
        'rpc.service': service_name,
        'rpc.method': method,
    }
    correlation_id = context_header.get('correlation_id')
    if isinstance(correlation_id, str):
        attributes['pysoa.correlation_id'] = correlation_id
    return attributes


def job_response_errors(job_response: Optional[JobResponse]) -> List[Error]:
    """The errors of a job response: the job's, then each action's."""
    if job_response is None:
        return []
    errors = list(job_response.errors)
    for action_response in job_response.actions:
        errors.extend(action_response.errors)
    return errors


def record_errors(span: Span, errors: Iterable[Error]) -> None:
    """
    Record the codes of the errors a job or action returned (``pysoa.error_codes``, all of them, and ``error.type``,
    the first), and set the span's status to error with the first one's code and message; nothing without errors.
    """
    errors = list(errors)
    if not errors or not span.is_recording():
        return
    codes = list(dict.fromkeys(str(error.code) for error in errors))
    span.set_attribute('pysoa.error_codes', codes)
    span.set_attribute('error.type', codes[0])
    span.set_status(Status(StatusCode.ERROR, f'{errors[0].code}: {errors[0].message}'))


def record_exception(span: Span, exception: BaseException) -> None:
    """Record an exception that ended a call, and set the span's status to error."""
    if not span.is_recording():
        return
    span.record_exception(exception)
    span.set_attribute('error.type', type(exception).__qualname__)
    span.set_status(Status(StatusCode.ERROR, f'{type(exception).__name__}: {exception}'))
