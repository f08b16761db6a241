"""
Tracing PySOA calls with `OpenTelemetry <https://opentelemetry.io/>`_: ``pip install 'pysoa[opentelemetry]'``.

:class:`OpenTelemetryServerMiddleware`, in a server's ``middleware`` setting, traces every job and action the server
runs; :class:`OpenTelemetryClientMiddleware`, in a client's settings of a service (:func:`traced_client_config` adds
it to every service of a config), traces every call. The W3C trace context travels in the job's context header
(``traceparent`` and ``tracestate``), so the calls an action makes through ``request.client`` continue the trace of
the call it serves. Spans follow OpenTelemetry's RPC semantic conventions (``rpc.system`` is ``pysoa``).

Both record nothing, at next to no cost, until an OpenTelemetry SDK is configured. See the documentation's
"Observability" page.
"""

from pysoa.contrib.opentelemetry import _requirement  # noqa: F401  (first: says what to install if it is missing)
from pysoa.contrib.opentelemetry._tracing import (
    TRACEPARENT,
    TRACESTATE,
)
from pysoa.contrib.opentelemetry.client import (
    OpenTelemetryClientMiddleware,
    traced_client_config,
)
from pysoa.contrib.opentelemetry.server import OpenTelemetryServerMiddleware


__all__ = (
    'TRACEPARENT',
    'TRACESTATE',
    'OpenTelemetryClientMiddleware',
    'OpenTelemetryServerMiddleware',
    'traced_client_config',
)
