"""
Our AsyncClient calls a server of the original's: PySOA 1.4.9, in a virtualenv of its own, over a real Redis. The
AsyncClient must be understood, and understand the answers, in both protocol versions (2 and 3) and with both
serializers, in chunks when a response is large, with the values only MessagePack carries, with action and job
errors, with many calls waiting at once; and its requests that expire in the queue must never run.

The server is ``original/interop_service.py``'s ``InteropServer`` (see ``test_interop_original_server.py`` for the
same checks with the synchronous client).
"""

import asyncio
from typing import (
    Any,
    Callable,
    Dict,
    Iterator,
    List,
)

import attr
import pytest

from pysoa.client.aio import AsyncClient
from pysoa.client.errors import (
    CallActionError,
    CallJobError,
)
from pysoa.common.errors import Error
from pysoa.common.transport.errors import MessageReceiveTimeout
from tests.redis.interop.helpers import (
    ACTION_ERRORS,
    BIG_ROWS,
    BODY,
    DEFAULT_WIRE,
    JOB_ERRORS,
    LATE_SERVICE,
    SERVICE,
    Wire,
    client_config,
    original_server,
    queue_length,
    request_queue,
)
from tests.redis.interop.original.wire_values import (
    MSGPACK_ONLY_VALUES,
    big_body,
    to_json,
)
from tests.support.redis_processes import RedisServer
from tests.support.server_runner import ServerProcess
from tests.unit.client_aio.support import run_async


pytestmark = pytest.mark.interop

Connect = Callable[..., AsyncClient]


@pytest.fixture(scope='module')
def original_running_server(original_python: str, redis_session_server: RedisServer) -> Iterator[ServerProcess]:
    with original_server(original_python, redis_session_server.port) as server:
        yield server


@pytest.fixture
def connect(redis_server: RedisServer, original_running_server: ServerProcess) -> Connect:
    """``connect(wire)``: an AsyncClient of ours calling the original's server (protocol 3, MessagePack default)."""
    return lambda wire=DEFAULT_WIRE: AsyncClient(client_config(redis_server.port, wire))


def as_dicts(errors: List[Error]) -> List[Dict[str, Any]]:
    return [attr.asdict(error) for error in errors]


@run_async
async def test_our_async_client_gets_the_response_body_from_the_original_server(connect: Connect, wire: Wire) -> None:
    async with connect(wire) as client:
        response = await client.call_action(SERVICE, 'echo', BODY)

    assert (response.action, response.errors, response.body) == ('echo', [], BODY)


@run_async
async def test_the_original_server_answers_many_calls_waiting_at_once_each_with_its_own_response(
    connect: Connect,
    wire: Wire,
) -> None:
    async with connect(wire) as client:
        responses = await asyncio.gather(*(client.call_action(SERVICE, 'echo', {'n': n}) for n in range(100)))

    assert [r.body for r in responses] == [{'n': n} for n in range(100)]


@run_async
async def test_the_original_server_returns_the_correlation_id_our_async_client_sends(connect: Connect) -> None:
    async with connect() as client:
        job_response = await client.call_actions(SERVICE, [{'action': 'echo'}], correlation_id='interop-async-corr')

    assert job_response.context['correlation_id'] == 'interop-async-corr'


@pytest.mark.parametrize('name', sorted(MSGPACK_ONLY_VALUES))
@run_async
async def test_values_only_msgpack_carries_travel_both_ways_between_our_async_client_and_the_original_server(
    connect: Connect,
    name: str,
) -> None:
    async with connect() as client:
        described = await client.call_action(SERVICE, 'describe', {'value': MSGPACK_ONLY_VALUES[name]})
        made = await client.call_action(SERVICE, 'make_value', {'name': name})

    assert described.body == {'described': to_json(MSGPACK_ONLY_VALUES[name])}
    # compared in tagged form, which tells apart types that compare equal (a naive and an aware datetime, say)
    assert to_json(made.body) == {'value': to_json(MSGPACK_ONLY_VALUES[name])}


@pytest.mark.parametrize('serializer', ['msgpack', 'json'])
@run_async
async def test_our_async_client_reassembles_a_large_response_the_original_server_sends_in_chunks(
    connect: Connect,
    serializer: str,
) -> None:
    async with connect(Wire(3, serializer)) as client:
        big, small = await asyncio.gather(
            client.call_action(SERVICE, 'big', {'rows': BIG_ROWS}),
            client.call_action(SERVICE, 'echo', {'small': True}),
        )

    assert big.body == big_body(BIG_ROWS)
    assert small.body == {'small': True}


@run_async
async def test_our_async_client_raises_the_action_errors_of_the_original_server_with_every_field(
    connect: Connect,
    wire: Wire,
) -> None:
    async with connect(wire) as client:
        with pytest.raises(CallActionError) as raised:
            await client.call_action(SERVICE, 'fail_action')

    [action_response] = raised.value.actions
    assert (action_response.action, as_dicts(action_response.errors)) == ('fail_action', ACTION_ERRORS)


@run_async
async def test_our_async_client_raises_the_job_errors_of_the_original_server_with_every_field(
    connect: Connect,
    wire: Wire,
) -> None:
    async with connect(wire) as client:
        with pytest.raises(CallJobError) as raised:
            await client.call_action(SERVICE, 'fail_job')

    assert as_dicts(raised.value.errors) == JOB_ERRORS


@run_async
async def test_a_request_of_our_async_client_that_expires_before_the_original_server_takes_it_never_runs(
    connect: Connect,
    original_python: str,
    redis_server: RedisServer,
) -> None:
    async with connect() as client:
        with pytest.raises(MessageReceiveTimeout):
            await client.call_action(LATE_SERVICE, 'count', timeout=1)
        # Still queued, so it is up to the server to see that it expired.
        assert queue_length(redis_server, request_queue(LATE_SERVICE)) == 1
        await asyncio.sleep(1.1)

        with original_server(original_python, redis_server.port, 'LateInteropServer'):
            response = await client.call_action(LATE_SERVICE, 'count', timeout=10)

    assert response.body == {'runs': 1}
