"""
A call through two traced services, in-process: the client calls ``shop``'s ``order`` action, which calls
``inventory`` through ``request.client``. Every span of it belongs to one trace, each the child of the one before.
"""

from opentelemetry.trace import (
    SpanKind,
    StatusCode,
)

from tests.unit.contrib.opentelemetry.services import (
    attributes_of,
    finished_spans,
    shop_config,
    traced_client,
)


def test_a_nested_call_across_two_services_is_one_trace_of_parent_and_child_spans() -> None:
    traced_client(shop_config()).call_action('shop', 'order', {'count': 2})

    spans = finished_spans()
    chain = [
        spans['CLIENT:shop/order'],
        spans['SERVER:shop/order'],
        spans['INTERNAL:shop/order'],
        spans['CLIENT:inventory/reserve'],
        spans['SERVER:inventory/reserve'],
        spans['INTERNAL:inventory/reserve'],
    ]
    assert chain[0].parent is None
    for parent, child in zip(chain, chain[1:]):
        assert child.parent is not None
        assert child.parent.span_id == parent.context.span_id, f'{child.name} ({child.kind.name}) under {parent.name}'
    assert {span.context.trace_id for span in spans.values()} == {chain[0].context.trace_id}
    assert len(spans) == 9  # and, under the shop's action, the three spans of its call of inventory/show_context


def test_each_span_has_the_rpc_semantic_convention_attributes_of_its_call() -> None:
    traced_client(shop_config()).call_action('shop', 'order', {'count': 2}, correlation_id='corr-1')

    for key, span in finished_spans().items():
        service, method = span.name.split('/')
        assert attributes_of(span)['rpc.system'] == 'pysoa', key
        assert attributes_of(span)['rpc.service'] == service, key
        assert attributes_of(span)['rpc.method'] == method, key
        assert attributes_of(span)['pysoa.correlation_id'] == 'corr-1', key


def test_the_client_span_records_the_request_id() -> None:
    client = traced_client(shop_config())
    request_id = client.send_request('shop', [{'action': 'show_context', 'body': {}}])
    list(client.get_all_responses('shop'))

    span = finished_spans()['CLIENT:shop/show_context']
    assert attributes_of(span)['pysoa.request_id'] == request_id


def test_a_job_of_several_actions_is_named_after_all_of_them_and_each_action_has_its_span() -> None:
    traced_client(shop_config()).call_actions(
        'shop',
        [
            {'action': 'show_context', 'body': {}},
            {'action': 'order', 'body': {'count': 1}},
        ],
    )

    spans = finished_spans()
    job_span = spans['SERVER:shop/show_context,order']
    assert attributes_of(job_span)['rpc.method'] == 'show_context,order'
    for action in ('show_context', 'order'):
        action_span = spans[f'INTERNAL:shop/{action}']
        assert action_span.parent is not None
        assert action_span.parent.span_id == job_span.context.span_id


def test_the_job_request_carries_the_client_spans_trace_context_in_its_context_header() -> None:
    response = traced_client(shop_config()).call_action('shop', 'show_context', {})

    client_span = finished_spans()['CLIENT:shop/show_context']
    trace_id = format(client_span.context.trace_id, '032x')
    span_id = format(client_span.context.span_id, '016x')
    assert response.body == {'traceparent': f'00-{trace_id}-{span_id}-01', 'tracestate': None}


def test_a_nested_call_carries_the_trace_context_of_the_client_span_that_made_it() -> None:
    response = traced_client(shop_config()).call_action('shop', 'order', {'count': 1})

    nested_client_span = finished_spans()['CLIENT:inventory/show_context']
    assert response.body['inventory_saw']['traceparent'].split('-')[2] == format(
        nested_client_span.context.span_id,
        '016x',
    )


def test_a_nested_call_without_the_client_middleware_continues_the_trace_under_the_action() -> None:
    traced_client(shop_config(trace_nested_calls=False)).call_action('shop', 'order', {'count': 2})

    spans = finished_spans()
    assert 'CLIENT:inventory/reserve' not in spans
    nested_server_span = spans['SERVER:inventory/reserve']
    assert nested_server_span.parent is not None
    assert nested_server_span.parent.span_id == spans['INTERNAL:shop/order'].context.span_id
    assert nested_server_span.context.trace_id == spans['CLIENT:shop/order'].context.trace_id


def test_a_server_continues_the_trace_of_a_traceparent_it_receives() -> None:
    from pysoa.client.client import Client

    traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
    Client(shop_config()).call_action('shop', 'show_context', {}, context={'traceparent': traceparent})

    server_span = finished_spans()['SERVER:shop/show_context']
    assert server_span.context.trace_id == 0x0AF7651916CD43DD8448EB211C80319C
    assert server_span.parent is not None
    assert server_span.parent.span_id == 0xB7AD6B7169203331
    assert server_span.parent.is_remote


def test_the_tracestate_travels_on_with_the_trace() -> None:
    from pysoa.client.client import Client

    context = {
        'traceparent': '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        'tracestate': 'vendor=opaque-value',
    }
    response = Client(shop_config()).call_action('shop', 'order', {'count': 1}, context=context)

    assert response.body['inventory_saw']['tracestate'] == 'vendor=opaque-value'


def test_a_call_without_errors_leaves_every_span_status_unset() -> None:
    traced_client(shop_config()).call_action('shop', 'order', {'count': 1})

    assert {span.status.status_code for span in finished_spans().values()} == {StatusCode.UNSET}


def test_span_kinds_are_client_for_calls_server_for_jobs_and_internal_for_actions() -> None:
    traced_client(shop_config()).call_action('shop', 'show_context', {})

    assert {(span.kind, span.name) for span in finished_spans().values()} == {
        (SpanKind.CLIENT, 'shop/show_context'),
        (SpanKind.SERVER, 'shop/show_context'),
        (SpanKind.INTERNAL, 'shop/show_context'),
    }
