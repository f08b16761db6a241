"""
The replies of one Redis connection, parsed as they arrive (``RespProtocol`` in ``redis_gateway._async_pipeline``):
each goes to the target of its command, in order, however the bytes are cut; an error reply arrives as redis-py's
exception; a reply nobody asked for, or bytes that are not RESP, close the connection; a lost connection fails every
command still owed a reply. Driven by hand: a fake asyncio transport, and bytes fed to ``data_received``.
"""

import asyncio
import logging
from types import SimpleNamespace
from typing import (
    Any,
    Callable,
    List,
    Optional,
    Tuple,
    cast,
)

import pytest
import redis
import redis.exceptions

from pysoa.common.transport.redis_gateway._async_pipeline import (
    RespProtocol,
    settle,
)
from pysoa.common.transport.redis_gateway.backend._packing import pack_command
from tests.unit.client_aio.support import (
    run_async,
    wait_until,
)


LOGGER = 'pysoa.common.transport.redis_gateway.client'
PING = pack_command(('PING',))
GET = pack_command(('GET', 'key'))
INCR = pack_command(('INCR', 'counter'))
EVALSHA = pack_command(('EVALSHA', 'f' * 40, 0))


class FakeTransport:
    """
    The asyncio transport under the protocol: records what is written, and whether it was aborted; once closed, it
    tells its protocol the connection is lost (soon, as asyncio does).
    """

    def __init__(self) -> None:
        self.written: List[bytes] = []
        self.aborted = False
        self.closed = False
        self.protocol: Optional[RespProtocol] = None

    def writelines(self, data: List[bytes]) -> None:
        self.written.extend(data)

    def is_closing(self) -> bool:
        return self.aborted or self.closed

    def abort(self) -> None:
        self.aborted = True

    def close(self) -> None:
        self.closed = True
        if self.protocol is not None:
            asyncio.get_running_loop().call_soon(self.protocol.connection_lost, None)

    def set_protocol(self, protocol: RespProtocol) -> None:
        self.protocol = protocol


class FakeConnection:
    """
    redis-py's side of the connection: whether it thinks it is connected, and each ``disconnect(nowait)``, which
    closes the transport as redis-py's does.
    """

    def __init__(self, is_connected: bool = False) -> None:
        self.is_connected = is_connected
        self.disconnects: List[bool] = []
        self.transport: Optional[FakeTransport] = None

    async def disconnect(self, nowait: bool = False) -> None:
        self.disconnects.append(nowait)
        if self.is_connected and self.transport is not None:
            self.transport.close()
        self.is_connected = False


class Targets:
    """Reply targets that record, in one list, which of them got what."""

    def __init__(self) -> None:
        self.got: List[Tuple[str, Any]] = []

    def __call__(self, name: str) -> Callable[[Any], None]:
        return lambda outcome: self.got.append((name, outcome))

    def outcome(self, name: str) -> Any:
        (outcome,) = [outcome for target, outcome in self.got if target == name]
        return outcome


def make_protocol(connection: Optional[FakeConnection] = None) -> Tuple[RespProtocol, FakeTransport]:
    connection = connection or FakeConnection()
    connection.transport = transport = FakeTransport()
    protocol = RespProtocol(cast(Any, connection), cast(Any, transport))
    transport.set_protocol(protocol)
    return protocol, transport


# Replies --------------------------------------------------------------------------------------------------------------


def test_the_commands_are_written_at_once_and_each_reply_goes_to_the_target_of_its_command() -> None:
    protocol, transport = make_protocol()
    targets = Targets()

    protocol.write([PING, GET, GET], [targets('ping'), targets('get'), targets('get again')])
    assert transport.written == [PING, GET, GET]
    protocol.data_received(b'+PONG\r\n$5\r\nhello\r\n$-1\r\n')

    assert targets.got == [('ping', b'PONG'), ('get', b'hello'), ('get again', None)]


def test_a_reply_split_across_reads_reaches_its_target_once_it_is_whole() -> None:
    protocol, _ = make_protocol()
    targets = Targets()
    protocol.write([GET, INCR], [targets('get'), targets('incr')])

    protocol.data_received(b'$5\r\nhel')
    assert targets.got == []
    protocol.data_received(b'lo\r\n:4')
    assert targets.got == [('get', b'hello')]
    protocol.data_received(b'2\r\n')

    assert targets.got == [('get', b'hello'), ('incr', 42)]


def test_an_error_reply_reaches_its_target_as_a_response_error_and_the_next_reply_still_reaches_its_own() -> None:
    protocol, _ = make_protocol()
    targets = Targets()
    protocol.write([GET, PING], [targets('bad'), targets('good')])

    protocol.data_received(b'-WRONGTYPE Operation against a key holding the wrong kind of value\r\n+PONG\r\n')

    error = targets.outcome('bad')
    assert isinstance(error, redis.ResponseError)
    assert str(error) == 'WRONGTYPE Operation against a key holding the wrong kind of value'
    assert targets.outcome('good') == b'PONG'


def test_a_noscript_reply_reaches_its_target_as_a_no_script_error() -> None:
    protocol, _ = make_protocol()
    targets = Targets()
    protocol.write([EVALSHA], [targets('evalsha')])

    protocol.data_received(b'-NOSCRIPT No matching script. Please use EVAL.\r\n')

    assert isinstance(targets.outcome('evalsha'), redis.exceptions.NoScriptError)


def test_a_target_that_raises_does_not_stop_the_replies_after_it(caplog: pytest.LogCaptureFixture) -> None:
    protocol, _ = make_protocol()
    targets = Targets()

    def broken(reply: Any) -> None:
        raise RuntimeError('a bug in a target')

    protocol.write([PING, PING], [broken, targets('next')])

    with caplog.at_level(logging.ERROR, logger=LOGGER):
        protocol.data_received(b'+PONG\r\n+PONG\r\n')

    assert targets.got == [('next', b'PONG')]
    (record,) = [r for r in caplog.records if r.name == LOGGER]
    assert record.getMessage() == 'Handling a reply from Redis failed'
    assert record.exc_info is not None and isinstance(record.exc_info[1], RuntimeError)
    assert protocol.usable


def test_bytes_the_event_loop_reads_into_the_protocols_buffer_are_parsed_as_they_come() -> None:
    protocol, _ = make_protocol()
    targets = Targets()
    protocol.write([GET, INCR], [targets('get'), targets('incr')])

    for chunk in (b'$5\r\nhel', b'lo\r\n:4', b'2\r\n'):
        buffer = protocol.get_buffer(-1)
        buffer[: len(chunk)] = chunk
        protocol.buffer_updated(len(chunk))

    assert targets.got == [('get', b'hello'), ('incr', 42)]


def test_owes_replies_while_a_command_written_has_not_had_its_reply() -> None:
    protocol, _ = make_protocol()
    targets = Targets()
    assert not protocol.owes_replies

    protocol.write([PING, PING], [targets('a'), targets('b')])
    assert protocol.owes_replies
    protocol.data_received(b'+PONG\r\n')
    assert protocol.owes_replies
    protocol.data_received(b'+PONG\r\n')

    assert not protocol.owes_replies


# Replies that cannot be matched to their commands -------------------------------------------------------------------


def test_a_reply_no_command_asked_for_aborts_the_connection(caplog: pytest.LogCaptureFixture) -> None:
    protocol, transport = make_protocol()

    with caplog.at_level(logging.WARNING, logger=LOGGER):
        protocol.data_received(b'+OK\r\n')

    assert transport.aborted
    assert not protocol.usable
    assert isinstance(protocol.lost, redis.InvalidResponse)
    assert [r.getMessage() for r in caplog.records if r.name == LOGGER] == [
        "Closing a connection to Redis: Redis sent a reply no command asked for: b'OK'",
    ]


def test_after_a_reply_no_command_asked_for_later_commands_fail_with_a_connection_error() -> None:
    protocol, transport = make_protocol()
    protocol.data_received(b'+OK\r\n')
    targets = Targets()

    protocol.write([PING], [targets('later')])
    protocol.connection_lost(None)  # as the aborted transport reports it

    error = targets.outcome('later')
    assert isinstance(error, redis.ConnectionError)
    assert transport.written == []
    assert isinstance(protocol.lost, redis.InvalidResponse)  # the reason stays the stray reply


def test_bytes_that_are_not_resp_abort_the_connection_and_its_commands_fail_once_it_is_lost() -> None:
    protocol, transport = make_protocol()
    targets = Targets()
    protocol.write([PING], [targets('owed')])

    protocol.data_received(b'?what\r\n')
    assert transport.aborted
    assert targets.got == []  # not in this call: the transport reports the loss
    protocol.connection_lost(None)

    error = targets.outcome('owed')
    assert isinstance(error, redis.ConnectionError)
    assert 'InvalidResponse' in str(error)
    assert str(protocol.lost) == 'Protocol error, got "?" as reply type byte'


def test_aborting_fails_the_commands_owed_a_reply_with_the_reason_once_the_connection_is_lost() -> None:
    protocol, transport = make_protocol()
    targets = Targets()
    protocol.write([PING], [targets('owed')])

    reason = redis.ReadOnlyError('You cannot write against a read only replica.')
    protocol.abort(reason)
    assert transport.aborted
    assert targets.got == []
    protocol.connection_lost(None)

    error = targets.outcome('owed')
    assert isinstance(error, redis.ConnectionError)
    assert 'ReadOnlyError' in str(error)
    assert protocol.lost is reason


# A lost connection ----------------------------------------------------------------------------------------------------


def test_a_lost_connection_fails_every_command_still_owed_a_reply() -> None:
    protocol, _ = make_protocol()
    targets = Targets()
    protocol.write([PING, PING, PING], [targets('answered'), targets('owed 1'), targets('owed 2')])
    protocol.data_received(b'+PONG\r\n')

    protocol.connection_lost(ConnectionResetError('Connection reset by peer'))

    assert [name for name, _ in targets.got] == ['answered', 'owed 1', 'owed 2']
    for name in ('owed 1', 'owed 2'):
        error = targets.outcome(name)
        assert isinstance(error, redis.ConnectionError)
        assert 'Connection reset by peer' in str(error)
    assert isinstance(protocol.lost, ConnectionResetError)
    assert not protocol.owes_replies
    assert not protocol.usable


def test_a_connection_closed_by_redis_is_lost_with_a_connection_error() -> None:
    protocol, _ = make_protocol()

    protocol.connection_lost(None)

    assert isinstance(protocol.lost, redis.ConnectionError)
    assert str(protocol.lost) == 'Redis closed the connection'


def test_writing_on_a_lost_connection_fails_the_targets_at_once_and_writes_nothing() -> None:
    protocol, transport = make_protocol()
    protocol.connection_lost(None)
    targets = Targets()

    protocol.write([PING, GET], [targets('a'), targets('b')])

    assert [name for name, _ in targets.got] == ['a', 'b']
    assert all(isinstance(outcome, redis.ConnectionError) for _, outcome in targets.got)
    assert transport.written == []
    assert not protocol.owes_replies


@run_async
async def test_a_lost_connection_releases_redis_pys_side_of_it() -> None:
    connection = FakeConnection(is_connected=True)
    protocol, _ = make_protocol(connection)

    protocol.connection_lost(None)

    await wait_until(lambda: connection.disconnects, 'the connection to be disconnected')
    assert connection.disconnects == [True]


@run_async
async def test_closing_disconnects_and_fails_the_commands_owed_a_reply() -> None:
    connection = FakeConnection(is_connected=True)
    protocol, _ = make_protocol(connection)
    targets = Targets()
    protocol.write([PING], [targets('owed')])

    await protocol.close()

    assert connection.disconnects == [True]
    assert isinstance(targets.outcome('owed'), redis.ConnectionError)
    assert not protocol.usable


# Adopting a connection ------------------------------------------------------------------------------------------------


def test_adopting_a_connection_takes_over_its_transport() -> None:
    transport = FakeTransport()
    connection = SimpleNamespace(_writer=SimpleNamespace(transport=transport), is_connected=True)

    protocol = RespProtocol.adopt(cast(Any, connection))

    assert transport.protocol is protocol
    assert protocol.usable


def test_adopting_a_connection_that_is_not_open_raises_a_connection_error() -> None:
    with pytest.raises(redis.ConnectionError, match='The connection to Redis closed'):
        RespProtocol.adopt(cast(Any, SimpleNamespace(_writer=None)))


# settle ---------------------------------------------------------------------------------------------------------------


@run_async
async def test_settle_sets_a_futures_result_or_its_exception() -> None:
    loop = asyncio.get_running_loop()
    replied, failed = loop.create_future(), loop.create_future()

    settle(replied, b'PONG')
    settle(failed, redis.ResponseError('WRONGTYPE'))

    assert replied.result() == b'PONG'
    with pytest.raises(redis.ResponseError, match='WRONGTYPE'):
        failed.result()


@run_async
async def test_settle_leaves_a_future_whose_awaiter_stopped_waiting_alone() -> None:
    future = asyncio.get_running_loop().create_future()
    future.cancel()

    settle(future, b'too late')

    assert future.cancelled()
