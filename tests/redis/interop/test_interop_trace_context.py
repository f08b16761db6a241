"""
The W3C trace context of ``pysoa.contrib.opentelemetry`` (``traceparent`` and ``tracestate`` in the job's context
header) between PySOA 1.4.9, which knows nothing of it, and this project, over a real Redis: a server of the original
answers our traced client as usual, and our traced server answers the original's client, continuing the trace that
the client's context carries, or starting one.
"""

import pathlib
import uuid
from typing import (
    Any,
    Callable,
    Dict,
    Iterator,
    List,
)

import pytest

from tests.redis.interop.helpers import (
    BODY,
    LATE_SERVICE,
    SERVICE,
    OriginalClient,
    Wire,
    client_config,
    original_server,
    server_settings,
)
from tests.support.redis_processes import (
    RedisServer,
    wait_for,
)
from tests.support.server_runner import ServerProcess


pytest.importorskip('opentelemetry.sdk', reason='the OpenTelemetry SDK is not installed')

from pysoa.client.client import Client
from pysoa.contrib.opentelemetry import traced_client_config
from tests.redis.interop.traced_services import (
    IN_MEMORY_EXPORTER,
    SPAN_FILE_VARIABLE,
    read_spans,
    traced_server_settings,
)


pytestmark = pytest.mark.interop

TRACE_ID = '0af7651916cd43dd8448eb211c80319c'
PARENT_SPAN_ID = 'b7ad6b7169203331'
TRACE_CONTEXT = {'traceparent': f'00-{TRACE_ID}-{PARENT_SPAN_ID}-01', 'tracestate': 'vendor=opaque-value'}


@pytest.fixture(scope='module')
def original_running_server(original_python: str, redis_session_server: RedisServer) -> Iterator[ServerProcess]:
    with original_server(original_python, redis_session_server.port) as server:
        yield server


@pytest.fixture(scope='module')
def span_file(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    return tmp_path_factory.mktemp('spans') / 'spans.jsonl'


@pytest.fixture(scope='module')
def our_traced_server(
    redis_session_server: RedisServer,
    span_file: pathlib.Path,
) -> Iterator[ServerProcess]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv(SPAN_FILE_VARIABLE, str(span_file))
        server = ServerProcess(
            'tests.redis.interop.services:LateInteropServer',  # its queue is not the original server's
            traced_server_settings(server_settings(redis_session_server.port)),
        )
    with server:
        yield server


def traced_client(port: int, wire: Wire) -> Client:
    return Client(
        traced_client_config(
            client_config(port, wire),
            'tests.redis.interop.traced_services:IN_MEMORY_TRACER_PROVIDER',
        )
    )


def test_a_server_of_the_original_answers_a_job_whose_context_has_a_trace_context(
    original_running_server: ServerProcess,
    redis_server: RedisServer,
    wire: Wire,
) -> None:
    IN_MEMORY_EXPORTER.clear()

    response = traced_client(redis_server.port, wire).call_action(SERVICE, 'echo', BODY, context=TRACE_CONTEXT)

    assert response.body == BODY
    assert response.errors == []
    [client_span] = IN_MEMORY_EXPORTER.get_finished_spans()
    assert format(client_span.context.trace_id, '032x') == TRACE_ID
    assert client_span.attributes is not None and 'error.type' not in client_span.attributes


def test_a_server_of_the_original_answers_the_action_errors_of_a_traced_job_as_usual(
    original_running_server: ServerProcess,
    redis_server: RedisServer,
) -> None:
    IN_MEMORY_EXPORTER.clear()

    response = traced_client(redis_server.port, Wire(3, 'msgpack')).call_action(
        SERVICE,
        'fail_action',
        {},
        raise_action_errors=False,
    )

    assert [error.code for error in response.errors] == ['OUT_OF_STOCK', 'LIMIT']
    [client_span] = IN_MEMORY_EXPORTER.get_finished_spans()
    assert client_span.attributes is not None
    assert client_span.attributes['pysoa.error_codes'] == ('OUT_OF_STOCK', 'LIMIT')


def _wait_for_spans(span_file: pathlib.Path, trace_id: str, count: int) -> List[Dict[str, Any]]:
    def spans() -> List[Dict[str, Any]]:
        return read_spans(span_file, trace_id)

    wait_for(lambda: len(spans()) >= count, 15, f'{count} spans of trace {trace_id} in {span_file}')
    return spans()


def test_our_traced_server_answers_the_original_client_and_continues_the_trace_of_its_context(
    our_traced_server: ServerProcess,
    make_original_client: Callable[[Dict[str, object]], OriginalClient],
    redis_server: RedisServer,
    span_file: pathlib.Path,
    wire: Wire,
) -> None:
    trace_id = uuid.uuid4().hex
    context = {'traceparent': f'00-{trace_id}-{PARENT_SPAN_ID}-01', 'tracestate': 'vendor=opaque-value'}

    response = make_original_client(client_config(redis_server.port, wire)).call(
        'call_action',
        LATE_SERVICE,
        'echo',
        BODY,
        context=context,
    )

    assert response == {'action': 'echo', 'errors': [], 'body': BODY}
    spans = {span['kind']: span for span in _wait_for_spans(span_file, trace_id, 2)}
    assert spans['SERVER']['name'] == f'{LATE_SERVICE}/echo'
    assert spans['SERVER']['parent_span_id'] == PARENT_SPAN_ID
    assert spans['INTERNAL']['parent_span_id'] == spans['SERVER']['span_id']
    assert spans['SERVER']['attributes']['rpc.system'] == 'pysoa'


def test_our_traced_server_starts_a_trace_for_a_call_of_the_original_client_without_trace_context(
    our_traced_server: ServerProcess,
    make_original_client: Callable[[Dict[str, object]], OriginalClient],
    redis_server: RedisServer,
    span_file: pathlib.Path,
) -> None:
    correlation_id = uuid.uuid4().hex

    response = make_original_client(client_config(redis_server.port)).call(
        'call_action',
        LATE_SERVICE,
        'echo',
        BODY,
        correlation_id=correlation_id,
    )

    assert response == {'action': 'echo', 'errors': [], 'body': BODY}

    def server_span() -> Any:
        found = [
            span
            for span in read_spans(span_file)
            if span['kind'] == 'SERVER' and span['attributes'].get('pysoa.correlation_id') == correlation_id
        ]
        return found[0] if found else None

    span = wait_for(server_span, 15, f'the server span of the call {correlation_id}')
    assert span['parent_span_id'] is None
