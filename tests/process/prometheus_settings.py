"""The sample service's settings with the Prometheus metrics recorder, for ``test_prometheus_metrics.py``."""

from typing import (
    Any,
    Dict,
)

from tests.process.sample_service.settings import SOA_SERVER_SETTINGS as SAMPLE_SETTINGS


SOA_SERVER_SETTINGS: Dict[str, Any] = {
    **SAMPLE_SETTINGS,
    'metrics': {'path': 'pysoa.contrib.prometheus:PrometheusMetricsRecorder'},
}
