"""Calls that fail: their spans record the error codes and have an error status, or record the exception."""

import pytest
from opentelemetry.trace import (
    SpanKind,
    StatusCode,
)

from pysoa.client.client import Client
from tests.unit.contrib.opentelemetry.services import (
    EXPORTER,
    attributes_of,
    finished_spans,
    inventory_config,
    traced_client,
)


def test_an_action_error_is_recorded_on_the_action_job_and_client_spans_with_an_error_status() -> None:
    with pytest.raises(Client.CallActionError):
        traced_client(inventory_config()).call_action('inventory', 'reserve', {'count': 5})

    spans = finished_spans()
    for key in ('CLIENT:inventory/reserve', 'SERVER:inventory/reserve', 'INTERNAL:inventory/reserve'):
        span = spans[key]
        assert attributes_of(span)['pysoa.error_codes'] == ('OUT_OF_STOCK',), key
        assert attributes_of(span)['error.type'] == 'OUT_OF_STOCK', key
        assert span.status.status_code == StatusCode.ERROR, key
        assert span.status.description == 'OUT_OF_STOCK: Only 3 left', key


def test_a_job_error_is_recorded_on_the_job_and_client_spans() -> None:
    with pytest.raises(Client.JobError):
        traced_client(inventory_config()).call_action('inventory', 'close', {})

    spans = finished_spans()
    for key in ('CLIENT:inventory/close', 'SERVER:inventory/close', 'INTERNAL:inventory/close'):
        assert attributes_of(spans[key])['pysoa.error_codes'] == ('CLOSED',), key
        assert spans[key].status.status_code == StatusCode.ERROR, key


def test_an_exception_in_an_action_is_recorded_on_its_span_and_the_server_error_on_the_others() -> None:
    with pytest.raises(Client.CallActionError):
        traced_client(inventory_config()).call_action('inventory', 'break', {})

    spans = finished_spans()
    action_span = spans['INTERNAL:inventory/break']
    assert [event.name for event in action_span.events] == ['exception']
    assert attributes_of(action_span)['error.type'] == 'RuntimeError'
    assert action_span.status.description == 'RuntimeError: The shelf collapsed'
    for key in ('CLIENT:inventory/break', 'SERVER:inventory/break'):
        assert attributes_of(spans[key])['pysoa.error_codes'] == ('SERVER_ERROR',), key


def test_an_unknown_action_is_recorded_on_the_job_and_client_spans() -> None:
    with pytest.raises(Client.CallActionError):
        traced_client(inventory_config()).call_action('inventory', 'teleport', {})

    spans = finished_spans()
    assert 'INTERNAL:inventory/teleport' not in spans  # no action ran
    for key in ('CLIENT:inventory/teleport', 'SERVER:inventory/teleport'):
        assert attributes_of(spans[key])['pysoa.error_codes'] == ('UNKNOWN',), key


def test_every_distinct_error_code_of_a_job_is_recorded_once_in_order() -> None:
    traced_client(inventory_config()).call_actions(
        'inventory',
        [
            {'action': 'reserve', 'body': {'count': 9}},
            {'action': 'teleport'},
            {'action': 'reserve', 'body': {'count': 7}},
        ],
        continue_on_error=True,
        raise_action_errors=False,
    )

    [client_span] = [span for span in EXPORTER.get_finished_spans() if span.kind == SpanKind.CLIENT]
    assert client_span.name == 'inventory/reserve,teleport,reserve'
    assert attributes_of(client_span)['pysoa.error_codes'] == ('OUT_OF_STOCK', 'UNKNOWN')
