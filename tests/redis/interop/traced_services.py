"""
Tracing for the interop tests of the trace context (``test_interop_trace_context.py``): an OpenTelemetry SDK tracer
provider that keeps its spans in memory, for our clients in the test process, and one that appends them as JSON lines
to the file named by ``$PYSOA_TEST_SPAN_FILE``, for our server in a process of its own.
"""

import json
import os
import pathlib
from typing import (
    Any,
    Dict,
    List,
    Optional,
    Sequence,
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
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


SPAN_FILE_VARIABLE = 'PYSOA_TEST_SPAN_FILE'


class _JsonLinesExporter(SpanExporter):
    """Appends each span, as a JSON line of the fields the tests look at, to the file ``$PYSOA_TEST_SPAN_FILE``."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        with open(os.environ[SPAN_FILE_VARIABLE], 'a', encoding='utf-8') as f:
            for span in spans:
                f.write(
                    json.dumps(
                        {
                            'name': span.name,
                            'kind': span.kind.name,
                            'trace_id': format(span.context.trace_id, '032x'),
                            'span_id': format(span.context.span_id, '016x'),
                            'parent_span_id': format(span.parent.span_id, '016x') if span.parent else None,
                            'attributes': dict(span.attributes or {}),
                        }
                    )
                    + '\n'
                )
        return SpanExportResult.SUCCESS


IN_MEMORY_EXPORTER = InMemorySpanExporter()
IN_MEMORY_TRACER_PROVIDER = TracerProvider()
IN_MEMORY_TRACER_PROVIDER.add_span_processor(SimpleSpanProcessor(IN_MEMORY_EXPORTER))

FILE_TRACER_PROVIDER = TracerProvider()
FILE_TRACER_PROVIDER.add_span_processor(SimpleSpanProcessor(_JsonLinesExporter()))


def traced_server_settings(settings: Dict[str, Any]) -> Dict[str, Any]:
    """Server settings with the tracing middleware, its spans going to ``$PYSOA_TEST_SPAN_FILE``."""
    return {
        **settings,
        'middleware': [
            {
                'path': 'pysoa.contrib.opentelemetry:OpenTelemetryServerMiddleware',
                'kwargs': {'tracer_provider': f'{__name__}:FILE_TRACER_PROVIDER'},
            }
        ],
    }


def read_spans(span_file: pathlib.Path, trace_id: Optional[str] = None) -> List[Dict[str, Any]]:
    """The spans in the file (of one trace, if ``trace_id``)."""
    if not span_file.exists():
        return []
    spans = [json.loads(line) for line in span_file.read_text(encoding='utf-8').splitlines()]
    return [span for span in spans if trace_id is None or span['trace_id'] == trace_id]
