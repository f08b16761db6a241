"""
The AsyncClient through Redis Sentinel, against a real master, replica and three Sentinels: calls, discovered
services, masters that cannot be found, and a failover in the middle of a stream of concurrent calls.
"""

import asyncio
import threading
import time
from typing import (
    Any,
    Dict,
    List,
    Set,
    Type,
)

import pytest

from pysoa.client.aio import AsyncClient
from pysoa.common.transport.errors import (
    MessageReceiveError,
    MessageReceiveTimeout,
    MessageSendError,
    TransientPySOATransportError,
)
from tests.redis.services import (
    MASTER_NOT_FOUND,
    SERVICE,
    RedisTestServer,
    client_settings,
    sentinel_kwargs,
    server_settings,
)
from tests.support.redis_processes import (
    RedisServer,
    SentinelCluster,
    free_port,
)
from tests.support.server_runner import ThreadedServer
from tests.unit.client_aio.support import run_async


def async_client(transport_kwargs: Dict[str, Any]) -> AsyncClient:
    return AsyncClient({SERVICE: client_settings(transport_kwargs)})


@run_async
async def test_calls_succeed_through_the_sentinel_backend(cluster: SentinelCluster) -> None:
    kwargs = sentinel_kwargs(cluster.sentinel_hosts, sentinel_services=[cluster.service_name])

    with ThreadedServer(RedisTestServer, server_settings(kwargs)) as server:
        async with async_client(kwargs) as client:
            responses = await asyncio.gather(*(client.call_action(SERVICE, 'echo', {'i': i}) for i in range(20)))

    assert [r.body for r in responses] == [{'i': i} for i in range(20)]
    assert server.errors == []


@run_async
async def test_calls_succeed_with_the_services_the_sentinels_name(cluster: SentinelCluster) -> None:
    kwargs = sentinel_kwargs(cluster.sentinel_hosts)

    with ThreadedServer(RedisTestServer, server_settings(kwargs)):
        async with async_client(kwargs) as client:
            response = await client.call_action(SERVICE, 'echo', {'discovered': True}, timeout=10)

    assert response.body == {'discovered': True}


@run_async
async def test_an_unknown_service_fails_sending_with_master_not_found(cluster: SentinelCluster) -> None:
    async with async_client(sentinel_kwargs(cluster.sentinel_hosts, sentinel_services=['no-such-service'])) as client:
        with pytest.raises(MessageSendError) as raised:
            await client.call_action(SERVICE, 'echo')

    assert raised.value.args[0].startswith(MASTER_NOT_FOUND)
    assert "'no-such-service'" in raised.value.args[0]


@run_async
async def test_the_master_lookup_is_retried_sentinel_failover_retries_times(cluster: SentinelCluster) -> None:
    kwargs = sentinel_kwargs(cluster.sentinel_hosts, sentinel_services=['no-such-service'], sentinel_failover_retries=2)
    async with async_client(kwargs) as client:
        started = time.monotonic()
        with pytest.raises(MessageSendError, match='Master not found'):
            await client.call_action(SERVICE, 'echo')

    # Waits of (2**i + random()) / 4 seconds before retries 1 and 2: 0.75 to 1.25 seconds in all.
    assert 0.7 <= time.monotonic() - started < 5


@run_async
async def test_sentinels_that_do_not_answer_fail_the_send() -> None:
    dead_hosts = [('127.0.0.1', free_port())]
    async with async_client(sentinel_kwargs(dead_hosts)) as client:
        with pytest.raises(MessageSendError, match='Cannot get connection: Cannot create the Redis backend'):
            await client.call_action(SERVICE, 'echo')


# Failover -------------------------------------------------------------------------------------------------------------


def _scripts_run(server: RedisServer) -> int:
    with server.client() as connection:
        calls: int = connection.info('commandstats').get('cmdstat_evalsha', {}).get('calls', 0)
    return calls


async def _call_batch(client: AsyncClient, first: int, errors_seen: Set[Type[BaseException]]) -> bool:
    """Ten calls at once; whether all succeeded (each failure's type is recorded)."""
    outcomes = await asyncio.gather(
        *(client.call_action(SERVICE, 'echo', {'i': i}, timeout=2) for i in range(first, first + 10)),
        return_exceptions=True,
    )
    for index, outcome in enumerate(outcomes):
        if isinstance(outcome, TransientPySOATransportError):
            errors_seen.add(type(outcome))
        elif isinstance(outcome, BaseException):
            raise outcome
        else:
            assert outcome.body == {'i': first + index}
    return all(not isinstance(outcome, BaseException) for outcome in outcomes)


@run_async
async def test_concurrent_calls_recover_after_a_failover_with_only_transient_errors_in_between(
    sentinel_cluster: SentinelCluster,
) -> None:
    kwargs = sentinel_kwargs(
        sentinel_cluster.sentinel_hosts,
        sentinel_services=[sentinel_cluster.service_name],
        sentinel_failover_retries=3,
    )
    old_master, new_master = sentinel_cluster.master, sentinel_cluster.replica
    errors_seen: Set[Type[BaseException]] = set()
    failover_result: Dict[str, Any] = {}

    def fail_over() -> None:
        try:
            failover_result['new_port'] = sentinel_cluster.failover()
        except BaseException as e:
            failover_result['error'] = e

    with ThreadedServer(RedisTestServer, server_settings(kwargs)), old_master.client() as old_master_connection:
        async with async_client(kwargs) as client:
            assert await _call_batch(client, 0, errors_seen)

            # Keep calling while the Sentinels promote the replica and, some seconds later, demote the old master.
            failover = threading.Thread(target=fail_over)
            failover.start()
            index = 10
            deadline = time.monotonic() + 60
            while failover.is_alive() or old_master_connection.info('replication')['role'] == 'master':
                assert time.monotonic() < deadline, 'the failover did not complete'
                await _call_batch(client, index, errors_seen)
                index += 10
            await asyncio.to_thread(failover.join)
            assert failover_result == {'new_port': new_master.port}

            completed_at = time.monotonic()
            while not await _call_batch(client, index, errors_seen):
                assert time.monotonic() - completed_at < 20, f'no batch succeeded after the failover ({errors_seen})'
                index += 10
            recovered_after = time.monotonic() - completed_at
            index += 10
            scripts_before = _scripts_run(new_master)
            later: List[bool] = [await _call_batch(client, i, errors_seen) for i in range(index, index + 30, 10)]
            scripts_after = _scripts_run(new_master)

    assert recovered_after < 10
    assert later == [True, True, True]
    assert scripts_after - scripts_before >= 30  # the calls after the failover went to the new master
    assert errors_seen <= {MessageSendError, MessageReceiveTimeout, MessageReceiveError}
