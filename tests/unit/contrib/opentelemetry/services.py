"""
Two services for the tracing tests, run in-process through the local transport: ``shop``, whose ``order`` action
calls ``inventory``'s ``reserve`` through ``request.client``, and ``inventory``. Their spans go to an OpenTelemetry
SDK tracer provider that keeps them in memory (:data:`EXPORTER`), configured into the middleware by import path.
"""

from typing import (
    Any,
    Dict,
    List,
    Optional,
)

from opentelemetry.sdk.trace import (
    ReadableSpan,
    TracerProvider,
)
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import NoOpTracerProvider

from pysoa.client.client import Client
from pysoa.common.errors import Error
from pysoa.contrib.opentelemetry import traced_client_config
from pysoa.server.action.base import Action
from pysoa.server.errors import (
    ActionError,
    JobError,
)
from pysoa.server.server import Server
from pysoa.server.types import EnrichedActionRequest


EXPORTER = InMemorySpanExporter()
TRACER_PROVIDER = TracerProvider()
TRACER_PROVIDER.add_span_processor(SimpleSpanProcessor(EXPORTER))
TRACER_PROVIDER_PATH = f'{__name__}:TRACER_PROVIDER'

NO_OP_TRACER_PROVIDER = NoOpTracerProvider()
NO_OP_TRACER_PROVIDER_PATH = f'{__name__}:NO_OP_TRACER_PROVIDER'


class ReserveAction(Action):
    """Reserves items; fails for more than 3."""

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        if request.body.get('count', 1) > 3:
            raise ActionError([Error(code='OUT_OF_STOCK', message='Only 3 left', is_caller_error=True)])
        return {'reserved': request.body.get('count', 1)}


class ShowContextAction(Action):
    """Returns the trace context keys of the context header it received."""

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        return {key: request.context.get(key) for key in ('traceparent', 'tracestate')}


class CloseAction(Action):
    """Fails the whole job."""

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        raise JobError([Error(code='CLOSED', message='Closed for inventory', is_caller_error=False)])


class BreakAction(Action):
    """Raises an unexpected exception."""

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        raise RuntimeError('The shelf collapsed')


class InventoryServer(Server):
    service_name = 'inventory'
    action_class_map = {
        'reserve': ReserveAction,
        'show_context': ShowContextAction,
        'close': CloseAction,
        'break': BreakAction,
    }


class OrderAction(Action):
    """Reserves the items with ``inventory``, and returns what it answered and the context its request carried."""

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        assert request.client is not None
        reserved = request.client.call_action('inventory', 'reserve', {'count': request.body.get('count', 1)})
        context = request.client.call_action('inventory', 'show_context', {})
        return {'reserved': reserved.body['reserved'], 'inventory_saw': context.body}


class ShopServer(Server):
    service_name = 'shop'
    action_class_map = {'order': OrderAction, 'show_context': ShowContextAction}


def server_middleware(tracer_provider: Optional[str] = TRACER_PROVIDER_PATH) -> List[Dict[str, Any]]:
    """The ``middleware`` setting of a traced server."""
    kwargs = {'tracer_provider': tracer_provider} if tracer_provider else {}
    return [{'path': 'pysoa.contrib.opentelemetry:OpenTelemetryServerMiddleware', 'kwargs': kwargs}]


def _local(server_class: type, server_settings: Dict[str, Any]) -> Dict[str, Any]:
    return {
        'transport': {
            'path': 'pysoa.common.transport.local:LocalClientTransport',
            'kwargs': {'server_class': server_class, 'server_settings': server_settings},
        },
    }


def inventory_config(tracer_provider: Optional[str] = TRACER_PROVIDER_PATH) -> Dict[str, Any]:
    """A client config for ``inventory`` (no client middleware), whose server is traced."""
    return {'inventory': _local(InventoryServer, {'middleware': server_middleware(tracer_provider)})}


def shop_config(
    tracer_provider: Optional[str] = TRACER_PROVIDER_PATH,
    trace_nested_calls: bool = True,
) -> Dict[str, Any]:
    """
    A client config for ``shop`` (no client middleware), whose server is traced and calls ``inventory``, with the
    client middleware in its ``client_routing`` if ``trace_nested_calls``.
    """
    routing = inventory_config(tracer_provider)
    if trace_nested_calls:
        routing = traced_client_config(routing, tracer_provider)
    return {'shop': _local(ShopServer, {'middleware': server_middleware(tracer_provider), 'client_routing': routing})}


def traced_client(config: Dict[str, Any], tracer_provider: Optional[str] = TRACER_PROVIDER_PATH) -> Client:
    """A client of the services of ``config``, each call traced."""
    return Client(traced_client_config(config, tracer_provider))


def attributes_of(span: ReadableSpan) -> Dict[str, Any]:
    """The attributes of a finished span."""
    return dict(span.attributes or {})


def finished_spans() -> Dict[str, ReadableSpan]:
    """The spans finished so far, by ``<kind>:<name>``, e.g. ``SERVER:shop/order`` (each must be unique)."""
    spans: Dict[str, ReadableSpan] = {}
    for span in EXPORTER.get_finished_spans():
        key = f'{span.kind.name}:{span.name}'
        assert key not in spans, f'two {key} spans'
        spans[key] = span
    return spans
