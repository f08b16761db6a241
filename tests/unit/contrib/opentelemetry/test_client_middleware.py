"""The client middleware's span of each call, from sending the request until its response (or its failure)."""

from typing import (
    Any,
    Dict,
    List,
    Optional,
    Tuple,
)

import pytest
from opentelemetry.trace import (
    SpanKind,
    StatusCode,
)

from pysoa.client.aio import AsyncClient
from pysoa.client.service_handler import InvalidJobResponseError
from pysoa.common.types import (
    ActionRequest,
    JobRequest,
    JobResponse,
)
from pysoa.contrib.opentelemetry import (
    OpenTelemetryClientMiddleware,
    traced_client_config,
)
from tests.unit.client_aio.support import run_async
from tests.unit.contrib.opentelemetry.services import (
    EXPORTER,
    TRACER_PROVIDER_PATH,
    attributes_of,
    finished_spans,
    inventory_config,
    shop_config,
    traced_client,
)


def _job(action: str = 'reserve') -> JobRequest:
    return JobRequest(actions=[ActionRequest(action=action, body={})], context={'correlation_id': 'c'})


def _send(middleware: OpenTelemetryClientMiddleware, request_id: int, job: Optional[JobRequest] = None) -> None:
    sent: List[int] = []
    middleware.request(lambda request_id, meta, job_request, expiry: sent.append(request_id))(
        request_id,
        {},
        job or _job(),
        None,
    )
    assert sent == [request_id]


def _client_spans() -> List[Any]:
    return [span for span in EXPORTER.get_finished_spans() if span.kind == SpanKind.CLIENT]


def test_the_client_span_ends_when_the_response_arrives() -> None:
    middleware = OpenTelemetryClientMiddleware('inventory', TRACER_PROVIDER_PATH)
    _send(middleware, 7)
    assert _client_spans() == []

    def get_response(timeout: Optional[int]) -> Tuple[Optional[int], Optional[JobResponse]]:
        return 7, JobResponse()

    assert middleware.response(get_response)(5) == (7, JobResponse())
    assert [span.name for span in _client_spans()] == ['inventory/reserve']


def test_a_response_that_fails_with_its_request_id_ends_its_span_with_the_error() -> None:
    middleware = OpenTelemetryClientMiddleware('inventory', TRACER_PROVIDER_PATH)
    _send(middleware, 7)

    def get_response(timeout: Optional[int]) -> Tuple[Optional[int], Optional[JobResponse]]:
        raise InvalidJobResponseError(7, 'not a job response')

    with pytest.raises(InvalidJobResponseError):
        middleware.response(get_response)(5)

    [span] = _client_spans()
    assert span.status.status_code == StatusCode.ERROR
    assert attributes_of(span)['error.type'] == 'InvalidJobResponseError'


def test_a_request_that_fails_to_send_ends_its_span_with_the_error() -> None:
    middleware = OpenTelemetryClientMiddleware('inventory', TRACER_PROVIDER_PATH)

    def send_request(request_id: int, meta: Dict[str, Any], job_request: JobRequest, expiry: Optional[int]) -> None:
        raise ConnectionError('Redis is gone')

    with pytest.raises(ConnectionError):
        middleware.request(send_request)(7, {}, _job(), None)

    [span] = _client_spans()
    assert span.status.description == 'ConnectionError: Redis is gone'


def test_a_request_without_response_ends_its_span_once_sent() -> None:
    client = traced_client(inventory_config())
    client.send_request('inventory', [{'action': 'reserve', 'body': {}}], suppress_response=True)

    assert [span.name for span in _client_spans()] == ['inventory/reserve']


def test_past_the_maximum_of_calls_waiting_for_a_response_the_oldest_span_ends_with_an_error() -> None:
    class SmallMiddleware(OpenTelemetryClientMiddleware):
        maximum_outstanding_spans = 2

    middleware = SmallMiddleware('inventory', TRACER_PROVIDER_PATH)
    for request_id in (1, 2, 3):
        _send(middleware, request_id)

    [span] = _client_spans()
    assert attributes_of(span)['pysoa.request_id'] == 1
    assert span.status.status_code == StatusCode.ERROR


def test_the_asynchronous_client_traces_its_calls_into_the_same_trace_as_the_server() -> None:
    @run_async
    async def call() -> None:
        async with AsyncClient(traced_client_config(shop_config(), TRACER_PROVIDER_PATH)) as client:
            await client.call_action('shop', 'show_context', {})

    call()

    spans = finished_spans()
    client_span = spans['CLIENT:shop/show_context']
    assert spans['SERVER:shop/show_context'].parent is not None
    assert spans['SERVER:shop/show_context'].parent.span_id == client_span.context.span_id


def test_traced_client_config_puts_the_middleware_first_for_each_service_and_leaves_the_config_alone() -> None:
    other_middleware = {'path': 'pysoa.client.middleware:ClientMiddleware'}
    config: Dict[str, Dict[str, Any]] = {
        'a': {'transport': {'path': 'x:Y'}, 'middleware': [other_middleware]},
        'b': {'transport': {}},
    }

    traced = traced_client_config(config, 'tracing:PROVIDER')

    assert traced['a']['middleware'] == [
        {
            'path': 'pysoa.contrib.opentelemetry:OpenTelemetryClientMiddleware',
            'kwargs': {'service_name': 'a', 'tracer_provider': 'tracing:PROVIDER'},
        },
        other_middleware,
    ]
    assert traced['b']['middleware'][0]['kwargs'] == {'service_name': 'b', 'tracer_provider': 'tracing:PROVIDER'}
    assert config['a']['middleware'] == [other_middleware]
    assert 'middleware' not in config['b']
