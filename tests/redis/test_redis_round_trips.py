"""
Every client call style through the Redis gateway transport against real Redis, with the server in a separate
process and in a thread of the test process; responses go to the thread that asked; connections are shared and a
call costs one command each way.
"""

import threading
from typing import (
    Any,
    Dict,
    Iterator,
    List,
    Set,
    Tuple,
    cast,
)

import pytest
import redis

from pysoa.client.client import Client
from pysoa.client.errors import CallActionError
from pysoa.common.transport.base import get_hex_thread_id
from pysoa.common.transport.redis_gateway.server import RedisServerTransport
from pysoa.common.types import (
    ActionResponse,
    JobResponse,
)
from tests.redis.services import (
    OTHER_SERVER_CLASS_PATH,
    OTHER_SERVICE,
    SERVER_CLASS_PATH,
    SERVICE,
    RecordingMetricsRecorder,
    RedisOtherServer,
    RedisTestServer,
    client_transport,
    job_request,
    make_client,
    make_server,
    reply_queue_key,
    reply_queue_name,
    server_settings,
    standard_kwargs,
)
from tests.support.redis_processes import RedisServer
from tests.support.server_runner import (
    ServerProcess,
    ThreadedServer,
)


@pytest.fixture(scope='module', params=['server_process', 'threaded_server'])
def running_servers(request: pytest.FixtureRequest, redis_session_server: RedisServer) -> Iterator[str]:
    """Servers of both test services on the session's Redis, in separate processes or in threads."""
    settings = server_settings(standard_kwargs(redis_session_server.port))
    if request.param == 'server_process':
        servers: List[Any] = [
            ServerProcess(SERVER_CLASS_PATH, settings),
            ServerProcess(OTHER_SERVER_CLASS_PATH, settings),
        ]
    else:
        servers = [ThreadedServer(RedisTestServer, settings), ThreadedServer(RedisOtherServer, settings)]
    for server in servers:
        server.start()
    yield request.param
    for server in servers:
        server.stop()
    for server in servers:
        if isinstance(server, ThreadedServer):
            assert server.errors == []


@pytest.fixture
def client(running_servers: str, redis_server: RedisServer) -> Client:
    return make_client(standard_kwargs(redis_server.port), services=(SERVICE, OTHER_SERVICE))


# Call styles --------------------------------------------------------------------------------------------------------


def test_call_action_returns_the_action_response(client: Client) -> None:
    response = client.call_action(SERVICE, 'echo', {'greeting': 'hello', 'number': 42}, timeout=10)

    assert response == ActionResponse(action='echo', body={'greeting': 'hello', 'number': 42})


def test_call_actions_runs_all_actions_in_one_job(client: Client) -> None:
    response = client.call_actions(
        SERVICE,
        [{'action': 'echo', 'body': {'step': 1}}, {'action': 'whoami'}, {'action': 'echo', 'body': {}}],
        timeout=10,
    )

    assert isinstance(response, JobResponse)
    assert [a.action for a in response.actions] == ['echo', 'whoami', 'echo']
    assert response.actions[0].body == {'step': 1}
    assert response.errors == []


def test_call_actions_parallel_returns_responses_in_request_order(client: Client) -> None:
    responses = cast(
        List[ActionResponse],
        list(
            client.call_actions_parallel(
                SERVICE,
                [{'action': 'echo', 'body': {'index': i}} for i in range(10)],
                timeout=10,
            )
        ),
    )

    assert [r.body for r in responses] == [{'index': i} for i in range(10)]


def test_call_jobs_parallel_calls_several_services(client: Client) -> None:
    responses = client.call_jobs_parallel(
        [
            {'service_name': SERVICE, 'actions': [{'action': 'echo', 'body': {'to': SERVICE}}]},
            {'service_name': OTHER_SERVICE, 'actions': [{'action': 'echo', 'body': {'to': OTHER_SERVICE}}]},
            {'service_name': SERVICE, 'actions': [{'action': 'echo', 'body': {'to': 'again'}}]},
        ],
        timeout=10,
    )

    assert [r.actions[0].body for r in responses] == [{'to': SERVICE}, {'to': OTHER_SERVICE}, {'to': 'again'}]


def test_call_action_future_resolves_to_the_action_response(client: Client) -> None:
    future = client.call_action_future(SERVICE, 'echo', {'future': True}, timeout=10)

    assert future.result().body == {'future': True}
    assert future.done()


def test_call_actions_future_resolves_to_the_job_response(client: Client) -> None:
    future = client.call_actions_future(
        SERVICE, [{'action': 'echo', 'body': {'a': 1}}, {'action': 'whoami'}], timeout=10
    )

    response = future.result()
    assert [a.action for a in response.actions] == ['echo', 'whoami']


def test_call_actions_parallel_future_resolves_to_responses_in_order(client: Client) -> None:
    future = client.call_actions_parallel_future(
        SERVICE,
        [{'action': 'echo', 'body': {'index': i}} for i in range(5)],
        timeout=10,
    )

    assert [r.body for r in cast(List[ActionResponse], future.result())] == [{'index': i} for i in range(5)]


def test_call_jobs_parallel_future_resolves_to_job_responses_in_order(client: Client) -> None:
    future = client.call_jobs_parallel_future(
        [
            {'service_name': OTHER_SERVICE, 'actions': [{'action': 'echo', 'body': {'n': 1}}]},
            {'service_name': SERVICE, 'actions': [{'action': 'echo', 'body': {'n': 2}}]},
        ],
        timeout=10,
    )

    assert [r.actions[0].body for r in cast(List[JobResponse], future.result())] == [{'n': 1}, {'n': 2}]


def test_outstanding_futures_resolve_in_any_order(client: Client) -> None:
    futures = [client.call_action_future(SERVICE, 'echo', {'index': i}, timeout=10) for i in range(6)]

    results = [future.result().body for future in reversed(futures)]

    assert results == [{'index': i} for i in reversed(range(6))]


def test_action_error_raises_call_action_error(client: Client) -> None:
    with pytest.raises(CallActionError) as error_info:
        client.call_action(SERVICE, 'fail', timeout=10)

    [action_response] = error_info.value.actions
    assert action_response.errors[0].code == 'BROKEN'


def test_unknown_action_raises_call_action_error(client: Client) -> None:
    with pytest.raises(CallActionError) as error_info:
        client.call_action(SERVICE, 'no_such_action', timeout=10)

    assert error_info.value.actions[0].errors[0].code == 'UNKNOWN'


# Per-thread reply queues --------------------------------------------------------------------------------------------


def test_threads_sharing_a_transport_each_receive_their_own_responses(redis_server: RedisServer) -> None:
    kwargs = standard_kwargs(redis_server.port)
    transport = client_transport(kwargs)
    results: Dict[int, Tuple[str, List[int], Set[str]]] = {}
    errors: List[BaseException] = []
    start = threading.Barrier(2)

    def call(first_request_id: int) -> None:
        try:
            start.wait(10)
            for sent_id in range(first_request_id, first_request_id + 5):
                transport.send_request_message(sent_id, {}, job_request(('echo', {'id': sent_id})))
            received_ids, reply_queues = [], set()
            for _ in range(5):
                request_id, meta, body = transport.receive_response_message(10)
                assert request_id is not None and meta is not None and body is not None
                assert body['actions'][0]['body'] == {'id': request_id}
                received_ids.append(request_id)
                reply_queues.add(meta['reply_to'])
            results[first_request_id] = (get_hex_thread_id(), received_ids, reply_queues)
        except BaseException as e:
            errors.append(e)

    with ThreadedServer(RedisTestServer, server_settings(kwargs)):
        threads = [threading.Thread(target=call, args=(first,)) for first in (100, 200)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)

    assert errors == []
    for first_request_id, (thread_id, received_ids, reply_queues) in results.items():
        assert sorted(received_ids) == list(range(first_request_id, first_request_id + 5))
        assert reply_queues == {reply_queue_name(transport, thread_id)}
    assert len({thread_id for thread_id, _, _ in results.values()}) == 2


def test_reply_queue_name_ends_with_the_sending_thread_id(redis_server: RedisServer) -> None:
    transport = client_transport(standard_kwargs(redis_server.port))
    meta: Dict[str, Any] = {}

    transport.send_request_message(1, meta, job_request(('echo', {})))

    assert 'pysoa:' + meta['reply_to'] == reply_queue_key(transport)
    assert meta['reply_to'].endswith('!' + get_hex_thread_id())


# Connection efficiency ----------------------------------------------------------------------------------------------


def test_transports_with_equal_settings_share_one_backend_layer(redis_server: RedisServer) -> None:
    kwargs = standard_kwargs(redis_server.port)
    first = client_transport(kwargs)
    second = client_transport(standard_kwargs(redis_server.port), service=OTHER_SERVICE)
    server = RedisServerTransport(SERVICE, RecordingMetricsRecorder(), **standard_kwargs(redis_server.port))

    assert first.core.backend_layer is second.core.backend_layer
    assert server.core.backend_layer is first.core.backend_layer


def test_transports_with_different_settings_use_different_backend_layers(redis_server: RedisServer) -> None:
    first = client_transport(standard_kwargs(redis_server.port))
    other_db = standard_kwargs(redis_server.port)
    other_db['backend_layer_kwargs']['redis_db'] = 2
    second = client_transport(other_db)

    assert first.core.backend_layer is not second.core.backend_layer


def _command_calls(connection: redis.Redis) -> Dict[str, int]:
    stats = connection.info('commandstats')
    return {name[len('cmdstat_') :]: values['calls'] for name, values in stats.items() if name != 'cmdstat_info'}


def _delta(before: Dict[str, int], after: Dict[str, int]) -> Dict[str, int]:
    return {name: calls - before.get(name, 0) for name, calls in after.items() if calls != before.get(name, 0)}


def test_each_call_costs_one_script_call_to_send_and_one_blpop_to_receive(second_redis_server: RedisServer) -> None:
    # The second Redis: no other server polls it, so every command counted comes from this test.
    redis_server = second_redis_server
    kwargs = standard_kwargs(redis_server.port)
    client = make_client(kwargs)
    server = make_server(RedisTestServer, kwargs)
    with redis_server.client() as connection:
        # Warm up: connections made, script loaded.
        warm_up = client.call_action_future(SERVICE, 'echo', {}, timeout=10)
        server.handle_next_request()
        warm_up.result()
        calls = 10

        before = _command_calls(connection)
        futures = [client.call_action_future(SERVICE, 'echo', {'i': i}, timeout=10) for i in range(calls)]
        for _ in range(calls):
            server.handle_next_request()
        results = [future.result().body for future in futures]
        after = _command_calls(connection)

        assert connection.llen(f'pysoa:service.{SERVICE}') == 0
    server.teardown()

    assert results == [{'i': i} for i in range(calls)]
    # Each request and each response: one EVALSHA to send (LLEN, RPUSH and EXPIRE are the script's own commands,
    # run inside Redis) and one BLPOP to receive.
    assert _delta(before, after) == {
        'evalsha': 2 * calls,
        'llen': 2 * calls,
        'rpush': 2 * calls,
        'expire': 2 * calls,
        'blpop': 2 * calls,
    }


def test_a_call_records_the_transport_metrics(second_redis_server: RedisServer) -> None:
    kwargs = standard_kwargs(second_redis_server.port)
    client = make_client(kwargs)
    server = make_server(RedisTestServer, kwargs)

    future = client.call_action_future(SERVICE, 'echo', {}, timeout=10)
    server.handle_next_request()
    future.result()
    server.teardown()

    core_metrics = {
        'send.get_redis_connection',
        'send.serialize',
        'send.message_size',
        'send.send_message_to_redis_queue',
        'receive.get_redis_connection',
        'receive.pop_from_redis_queue',
        'receive.deserialize',
    }
    client_metrics = client.handlers[SERVICE].metrics
    server_metrics = server.metrics
    assert isinstance(client_metrics, RecordingMetricsRecorder)
    assert isinstance(server_metrics, RecordingMetricsRecorder)
    assert set(client_metrics.metric_names()) >= {
        'client.transport.redis_gateway.send',
        'client.transport.redis_gateway.receive',
        *(f'client.transport.redis_gateway.{name}' for name in core_metrics),
    }
    assert set(server_metrics.metric_names()) >= {
        'server.transport.redis_gateway.send',
        'server.transport.redis_gateway.receive',
        *(f'server.transport.redis_gateway.{name}' for name in core_metrics),
    }
