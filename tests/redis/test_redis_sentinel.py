"""
The Sentinel backend against a real master, replica and three Sentinels: service discovery, calls, masters that
cannot be found, and a failover in the middle of a stream of calls.
"""

import threading
import time
from typing import (
    Any,
    Dict,
    List,
    Set,
    Type,
    cast,
)

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from pysoa.client.client import Client
from pysoa.common.transport.errors import (
    MessageReceiveError,
    MessageReceiveTimeout,
    MessageSendError,
    TransientPySOATransportError,
)
from pysoa.common.transport.redis_gateway.backend.sentinel import SentinelRedisClient
from pysoa.common.transport.redis_gateway.server import RedisServerTransport
from pysoa.common.types import ActionResponse
from tests.redis.services import (
    MASTER_NOT_FOUND,
    REQUEST_QUEUE_KEY,
    SERVICE,
    RecordingMetricsRecorder,
    RedisTestServer,
    client_transport,
    job_request,
    make_client,
    sentinel_kwargs,
    server_settings,
)
from tests.support.redis_processes import (
    RedisServer,
    SentinelCluster,
    free_port,
)
from tests.support.server_runner import ThreadedServer


# Discovery and calls ------------------------------------------------------------------------------------------------


def test_services_are_discovered_from_the_sentinels_when_not_configured(cluster: SentinelCluster) -> None:
    transport = client_transport(sentinel_kwargs(cluster.sentinel_hosts))

    assert transport.core.backend_layer.services == [cluster.service_name]  # type: ignore[attr-defined]


def test_requests_reach_the_master_sentinel_names(cluster: SentinelCluster) -> None:
    transport = client_transport(sentinel_kwargs(cluster.sentinel_hosts, sentinel_services=[cluster.service_name]))

    transport.send_request_message(1, {}, job_request(('echo', {})))

    with cluster.master.client() as connection:
        assert connection.llen(REQUEST_QUEUE_KEY) == 1


def test_calls_succeed_through_the_sentinel_backend(cluster: SentinelCluster) -> None:
    kwargs = sentinel_kwargs(cluster.sentinel_hosts, sentinel_services=[cluster.service_name])
    client = make_client(kwargs)

    with ThreadedServer(RedisTestServer, server_settings(kwargs)) as server:
        responses = cast(
            List[ActionResponse],
            list(
                client.call_actions_parallel(
                    SERVICE,
                    [{'action': 'echo', 'body': {'i': i}} for i in range(5)],
                    timeout=10,
                )
            ),
        )

    assert [r.body for r in responses] == [{'i': i} for i in range(5)]
    assert server.errors == []


def test_calls_succeed_with_discovered_services(cluster: SentinelCluster) -> None:
    kwargs = sentinel_kwargs(cluster.sentinel_hosts)

    with ThreadedServer(RedisTestServer, server_settings(kwargs)):
        response = make_client(kwargs).call_action(SERVICE, 'echo', {'discovered': True}, timeout=10)

    assert response.body == {'discovered': True}


def test_master_client_is_looked_up_once_and_counted(cluster: SentinelCluster) -> None:
    metrics = RecordingMetricsRecorder()
    transport = client_transport(
        sentinel_kwargs(cluster.sentinel_hosts, sentinel_services=[cluster.service_name], sentinel_kwargs={}),
        metrics=metrics,
    )

    for request_id in range(3):
        transport.send_request_message(request_id, {}, job_request(('echo', {})))

    assert metrics.counter_total('client.transport.redis_gateway.backend.sentinel.populate_master_client') == 1


# Masters that cannot be found ---------------------------------------------------------------------------------------


def test_unknown_service_fails_sending_with_master_not_found(cluster: SentinelCluster) -> None:
    transport = client_transport(sentinel_kwargs(cluster.sentinel_hosts, sentinel_services=['no-such-service']))

    with pytest.raises(MessageSendError) as error_info:
        transport.send_request_message(1, {}, job_request(('echo', {})))

    assert error_info.value.args[0].startswith(MASTER_NOT_FOUND)
    assert "No master found for 'no-such-service'" in error_info.value.args[0]


def test_unknown_service_fails_receiving_with_master_not_found(cluster: SentinelCluster) -> None:
    transport = RedisServerTransport(
        SERVICE,
        RecordingMetricsRecorder(),
        **sentinel_kwargs(cluster.sentinel_hosts, sentinel_services=['no-such-service']),
    )

    with pytest.raises(MessageReceiveError) as error_info:
        transport.receive_request_message()

    assert error_info.value.args[0].startswith(MASTER_NOT_FOUND)
    assert "No master found for 'no-such-service'" in error_info.value.args[0]


def test_master_lookup_is_retried_sentinel_failover_retries_times(cluster: SentinelCluster) -> None:
    metrics = RecordingMetricsRecorder()
    transport = client_transport(
        sentinel_kwargs(cluster.sentinel_hosts, sentinel_services=['no-such-service'], sentinel_failover_retries=2),
        metrics=metrics,
    )

    started = time.monotonic()
    with pytest.raises(MessageSendError, match='Master not found'):
        transport.send_request_message(1, {}, job_request(('echo', {})))

    # Waits of (2**i + random()) / 4 seconds before retries 1 and 2: 0.75 to 1.25 seconds in all.
    assert 0.7 <= time.monotonic() - started < 5
    assert metrics.counter_total('client.transport.redis_gateway.backend.sentinel.master_not_found_retry') == 2
    assert metrics.counter_total('client.transport.redis_gateway.send.error.connection') == 1


def test_discovery_fails_with_connection_error_when_no_sentinel_answers() -> None:
    dead_ports = [free_port(), free_port()]

    with pytest.raises(redis.ConnectionError) as error_info:
        SentinelRedisClient(
            hosts=[('127.0.0.1', port) for port in dead_ports],
            sentinel_kwargs={'retry': Retry(NoBackoff(), 0)},  # fail at once instead of redis-py's default retries
        )

    for port in dead_ports:
        assert str(port) in str(error_info.value)


def test_transport_reports_sentinels_that_do_not_answer_as_a_send_error() -> None:
    dead_hosts = [('127.0.0.1', free_port())]
    transport = client_transport(
        sentinel_kwargs(dead_hosts, sentinel_kwargs={'retry': Retry(NoBackoff(), 0)}),
    )

    with pytest.raises(MessageSendError, match='Cannot get connection: Cannot create the Redis backend'):
        transport.send_request_message(1, {}, job_request(('echo', {})))
    assert transport.requests_outstanding == 0


# Failover -----------------------------------------------------------------------------------------------------------


def _call(client: Client, index: int) -> Any:
    return client.call_action(SERVICE, 'echo', {'i': index}, timeout=2).body


def _scripts_run(server: RedisServer) -> int:
    with server.client() as connection:
        calls: int = connection.info('commandstats').get('cmdstat_evalsha', {}).get('calls', 0)
    return calls


def test_calls_recover_after_a_failover_with_only_transient_errors_in_between(
    sentinel_cluster: SentinelCluster,
) -> None:
    kwargs = sentinel_kwargs(
        sentinel_cluster.sentinel_hosts,
        sentinel_services=[sentinel_cluster.service_name],
        sentinel_failover_retries=3,
    )
    client = make_client(kwargs)
    old_master, new_master = sentinel_cluster.master, sentinel_cluster.replica
    assert sentinel_cluster.master_port() == old_master.port
    errors_seen: Set[Type[BaseException]] = set()
    failover_result: Dict[str, Any] = {}

    def fail_over() -> None:
        try:
            failover_result['new_port'] = sentinel_cluster.failover()
        except BaseException as e:
            failover_result['error'] = e

    with ThreadedServer(RedisTestServer, server_settings(kwargs)), old_master.client() as old_master_connection:
        assert _call(client, 0) == {'i': 0}

        # Keep calling while the Sentinels promote the replica and, some seconds later, demote the old master.
        failover = threading.Thread(target=fail_over)
        failover.start()
        index = 1
        deadline = time.monotonic() + 60
        while failover.is_alive() or old_master_connection.info('replication')['role'] == 'master':
            assert time.monotonic() < deadline, 'the failover did not complete'
            try:
                assert _call(client, index) == {'i': index}
            except TransientPySOATransportError as e:
                errors_seen.add(type(e))
            index += 1
        failover.join()
        assert failover_result == {'new_port': new_master.port}

        recovered_after = None
        completed_at = time.monotonic()
        while recovered_after is None:
            assert time.monotonic() - completed_at < 20, f'no call succeeded after the failover ({errors_seen})'
            try:
                assert _call(client, index) == {'i': index}
                recovered_after = time.monotonic() - completed_at
            except TransientPySOATransportError as e:
                errors_seen.add(type(e))
            index += 1
        scripts_before = _scripts_run(new_master)
        later: List[Any] = [_call(client, i) for i in range(index, index + 5)]
        scripts_after = _scripts_run(new_master)

    assert recovered_after < 10
    assert later == [{'i': i} for i in range(index, index + 5)]
    assert scripts_after - scripts_before >= 5  # the calls after the failover went to the new master
    assert errors_seen <= {MessageSendError, MessageReceiveTimeout, MessageReceiveError}
