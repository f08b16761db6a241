"""
What the optional observability integrations cost a call: local-transport calls per second of the benchmark service
(``round_trip_service.py``'s ``echo``) with no middleware at all, then with the OpenTelemetry client and server
middleware of ``pysoa.contrib.opentelemetry`` installed in several states, and with the Prometheus metrics recorder of
``pysoa.contrib.prometheus``. One process, no Redis: the client runs the server in its own thread, so a call's figure
is everything both sides do, middleware included.

    .venv/bin/python benchmarks/observability_overhead.py [--rounds N] [--calls N] [--warmup N] [--json FILE]

Rows (see benchmarks/README.md):

- ``no middleware``: the baseline.
- ``tracing off (no SDK)``: both middleware installed, no tracer provider configured (the OpenTelemetry API's no-op
  default): what every call of a service that ships the middleware but has not turned tracing on pays.
- ``tracing off (no-op provider)``: both middleware, configured with the API's ``NoOpTracerProvider``.
- ``SDK, sampled out``: an SDK tracer provider whose sampler drops every trace (non-recording spans, but the trace
  context still travels).
- ``SDK, recording``: an SDK tracer provider recording every span, handed to an exporter that drops it.
- ``prometheus recorder``: no middleware, the Prometheus recorder as the ``metrics`` setting of client and server.
"""

import argparse
import json
import statistics
import sys
import time
from typing import (
    Any,
    Callable,
    Dict,
    List,
    Optional,
    Sequence,
)

from benchmark_harness import (
    format_table,
    load_average,
    machine_description,
)
from opentelemetry.sdk.trace import (
    ReadableSpan,
    TracerProvider,
)
from opentelemetry.sdk.trace.export import (
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace import NoOpTracerProvider
from round_trip_service import (
    QUIET_LOGGING,
    SERVICE_NAME,
    RoundTripServer,
    expected_response,
    request_body,
)

from pysoa.client.client import Client
from pysoa.contrib.opentelemetry import traced_client_config


class _DroppingExporter(SpanExporter):
    """Takes every finished span and keeps none: the cost of recording, without the cost of exporting."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


NO_OP_PROVIDER = NoOpTracerProvider()
SAMPLED_OUT_PROVIDER = TracerProvider(sampler=ALWAYS_OFF)
RECORDING_PROVIDER = TracerProvider()
RECORDING_PROVIDER.add_span_processor(SimpleSpanProcessor(_DroppingExporter()))

_SERVER_MIDDLEWARE_PATH = 'pysoa.contrib.opentelemetry:OpenTelemetryServerMiddleware'
_PROMETHEUS_RECORDER = {'path': 'pysoa.contrib.prometheus:PrometheusMetricsRecorder'}


def _config(tracer_provider: Optional[str] = None, traced: bool = True, prometheus: bool = False) -> Dict[str, Any]:
    """A client config of the benchmark service on the local transport, traced (with this provider) or not."""
    server_settings: Dict[str, Any] = {'logging': QUIET_LOGGING}
    if traced:
        kwargs = {'tracer_provider': tracer_provider} if tracer_provider else {}
        server_settings['middleware'] = [{'path': _SERVER_MIDDLEWARE_PATH, 'kwargs': kwargs}]
    settings: Dict[str, Any] = {
        'transport': {
            'path': 'pysoa.common.transport.local:LocalClientTransport',
            'kwargs': {'server_class': RoundTripServer, 'server_settings': server_settings},
        }
    }
    if prometheus:
        server_settings['metrics'] = settings['metrics'] = _PROMETHEUS_RECORDER
    config = {SERVICE_NAME: settings}
    return traced_client_config(config, tracer_provider) if traced else config


ROWS: Dict[str, Callable[[], Dict[str, Any]]] = {
    'no middleware': lambda: _config(traced=False),
    'tracing off (no SDK)': lambda: _config(),
    'tracing off (no-op provider)': lambda: _config(f'{__name__}:NO_OP_PROVIDER'),
    'SDK, sampled out': lambda: _config(f'{__name__}:SAMPLED_OUT_PROVIDER'),
    'SDK, recording': lambda: _config(f'{__name__}:RECORDING_PROVIDER'),
    'prometheus recorder': lambda: _config(traced=False, prometheus=True),
}


def _calls_per_second(client: Client, warmup: int, calls: int) -> float:
    for i in range(warmup):
        client.call_action(SERVICE_NAME, 'echo', request_body('echo', i))
    started = time.perf_counter()
    for i in range(calls):
        response = client.call_action(SERVICE_NAME, 'echo', request_body('echo', i))
        if response.body != expected_response('echo', i):
            raise AssertionError(f'Wrong answer to call {i}: {response.body!r}')
    return calls / (time.perf_counter() - started)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--rounds', type=int, default=7, help='rounds of every row (default: %(default)s)')
    parser.add_argument('--calls', type=int, default=5000, help='timed calls per row and round (default: %(default)s)')
    parser.add_argument('--warmup', type=int, default=500, help='untimed calls before them (default: %(default)s)')
    parser.add_argument('--json', metavar='FILE', help='also write every figure to this file')
    arguments = parser.parse_args(argv)

    from opentelemetry import trace

    if not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        print('A global tracer provider is configured (OTEL_PYTHON_TRACER_PROVIDER?); "no SDK" would not be that.')
        return 1

    names = list(ROWS)
    clients = {name: Client(ROWS[name]()) for name in names}
    load_before = load_average()
    figures: Dict[str, List[float]] = {name: [] for name in names}
    for round_number in range(arguments.rounds):
        # Each round starts one row further down, so that a slow phase of a shared machine hits every row alike.
        start = round_number % len(names)
        for name in names[start:] + names[:start]:
            figures[name].append(_calls_per_second(clients[name], arguments.warmup, arguments.calls))

    baseline = statistics.median(figures['no middleware'])
    rows = []
    for name in names:
        median = statistics.median(figures[name])
        rows.append(
            [
                name,
                f'{median:,.0f}',
                f'{min(figures[name]):,.0f} - {max(figures[name]):,.0f}',
                f'{1e6 / median:.1f}',
                f'{(baseline / median - 1) * 100:+.1f}%',
            ]
        )
    print(f'machine: {machine_description()}; load average before {load_before}, after {load_average()}')
    print(f'python {sys.version.split()[0]}; {arguments.rounds} rounds of {arguments.calls} timed calls per row\n')
    print(format_table(['row', 'calls/s (median)', 'range over rounds', 'us/call', 'cost vs no middleware'], rows))

    if arguments.json:
        with open(arguments.json, 'w', encoding='utf-8') as f:
            json.dump(
                {
                    'settings': vars(arguments),
                    'machine': machine_description(),
                    'load_average_before': load_before,
                    'load_average_after': load_average(),
                    'calls_per_second': figures,
                },
                f,
                indent=2,
            )
    return 0


if __name__ == '__main__':
    sys.exit(main())
