"""
Exposing PySOA's metrics to `Prometheus <https://prometheus.io/>`_: ``pip install 'pysoa[prometheus]'``.

:class:`PrometheusMetricsRecorder`, in the ``metrics`` setting of a server (and of clients), records PySOA's metrics
into ``prometheus_client`` metrics; the service command line's ``--metrics-port PORT`` serves them over HTTP, also
those of every forked worker under ``--fork N`` (``prometheus_client``'s multiprocess mode).
:func:`~pysoa.contrib.prometheus.endpoint.serve_metrics` serves them from any other process. See the documentation's
"Observability" page, which lists every metric.
"""

from pysoa.contrib.prometheus import _requirement  # noqa: F401  (first: says what to install if it is missing)
from pysoa.contrib.prometheus.endpoint import (
    MetricsEndpoint,
    MetricsEndpointError,
    serve_metrics,
)
from pysoa.contrib.prometheus.recorder import (
    DEFAULT_HISTOGRAM_BUCKETS,
    DEFAULT_TIMER_BUCKETS,
    PrometheusMetricsRecorder,
)


__all__ = (
    'DEFAULT_HISTOGRAM_BUCKETS',
    'DEFAULT_TIMER_BUCKETS',
    'MetricsEndpoint',
    'MetricsEndpointError',
    'PrometheusMetricsRecorder',
    'serve_metrics',
)
