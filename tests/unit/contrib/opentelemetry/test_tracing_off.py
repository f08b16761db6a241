"""
Without an OpenTelemetry SDK (the global tracer provider is the API's no-op default) or with a no-op tracer provider,
the middleware records nothing and changes nothing, yet a trace context the caller sent still reaches nested calls.
"""

import os
import pathlib
import subprocess
import sys
import textwrap

from opentelemetry import trace

from pysoa.client.client import Client
from tests.unit.contrib.opentelemetry.services import (
    EXPORTER,
    NO_OP_TRACER_PROVIDER_PATH,
    shop_config,
    traced_client,
)


REPO_ROOT = str(pathlib.Path(__file__).resolve().parents[4])

TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'


def test_with_a_no_op_tracer_provider_no_trace_context_is_added_to_requests() -> None:
    response = traced_client(shop_config(NO_OP_TRACER_PROVIDER_PATH), NO_OP_TRACER_PROVIDER_PATH).call_action(
        'shop',
        'order',
        {'count': 1},
    )

    assert response.body == {'reserved': 1, 'inventory_saw': {'traceparent': None, 'tracestate': None}}
    assert EXPORTER.get_finished_spans() == ()


def test_without_an_sdk_the_middleware_of_the_global_tracer_provider_adds_no_trace_context() -> None:
    assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider), 'a test set a global tracer provider'

    response = traced_client(shop_config(None), None).call_action('shop', 'order', {'count': 1})

    assert response.body['inventory_saw'] == {'traceparent': None, 'tracestate': None}


def test_without_tracing_a_trace_context_the_caller_sent_reaches_the_nested_calls() -> None:
    context = {'traceparent': TRACEPARENT, 'tracestate': 'vendor=value'}
    response = Client(shop_config(NO_OP_TRACER_PROVIDER_PATH)).call_action(
        'shop',
        'order',
        {'count': 1},
        context=context,
    )

    assert response.body['inventory_saw'] == context


def test_a_global_tracer_provider_set_after_the_first_calls_is_used_for_the_next_ones() -> None:
    # In a process of its own: the global tracer provider can be set only once per process.
    script = textwrap.dedent("""
        import time
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        from tests.unit.contrib.opentelemetry.services import shop_config, traced_client

        client = traced_client(shop_config(None), None)
        client.call_action('shop', 'show_context', {})
        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        trace.set_tracer_provider(provider)
        kinds = []
        deadline = time.monotonic() + 30
        while kinds != ['CLIENT', 'INTERNAL', 'SERVER'] and time.monotonic() < deadline:
            time.sleep(0.05)
            exporter.clear()
            client.call_action('shop', 'show_context', {})
            kinds = sorted(span.kind.name for span in exporter.get_finished_spans())
        print(kinds)
    """)
    result = subprocess.run(
        [sys.executable, '-c', script],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, 'PYTHONPATH': REPO_ROOT},
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split('\n')[-2] == "['CLIENT', 'INTERNAL', 'SERVER']"
