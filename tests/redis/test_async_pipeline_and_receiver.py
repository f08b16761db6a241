"""
The two layers under the asynchronous Redis client transport, over a real Redis: ``CommandPipeline`` (commands from
any number of coroutines on one connection, each reply to its own command, a lost connection made again) and
``ResponseReceiver`` (waits on a reply queue while its listener awaits responses, and hands it each response as it
arrives: reassembled from chunks, or dropped with a warning if unreadable), with ``PulledResponses``, the listener
that keeps what arrived until it is pulled.
"""

import asyncio
import contextlib
import itertools
import logging
from typing import (
    Any,
    AsyncIterator,
    Callable,
    Dict,
    List,
    NamedTuple,
    Optional,
    Sequence,
    Tuple,
    Type,
    Union,
)

import pytest
import redis
import redis.asyncio
from redis.asyncio.connection import AbstractConnection
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from pysoa.common._metrics import free_metrics
from pysoa.common.serializer.msgpack_serializer import MsgpackSerializer
from pysoa.common.transport.base import ReceivedMessage
from pysoa.common.transport.errors import (
    MessageReceiveError,
    PySOATransportError,
)
from pysoa.common.transport.redis_gateway._async_pipeline import (
    CommandPipeline,
    ReplyTarget,
)
from pysoa.common.transport.redis_gateway._async_receiver import (
    COALESCE_SECONDS,
    COALESCE_WAITING,
    PulledResponses,
    ResponseRate,
    ResponseReceiver,
)
from pysoa.common.transport.redis_gateway._messages import (
    ExpiredMessageReceived,
    MessageDecoder,
    MessageEncoder,
)
from pysoa.common.transport.redis_gateway.backend._packing import pack_command
from pysoa.common.transport.redis_gateway.constants import ProtocolVersion
from tests.redis.services import (
    SERVICE,
    V3_MSGPACK_PREFIX,
    RecordingMetricsRecorder,
)
from tests.support.redis_processes import (
    RedisServer,
    free_port,
    wait_for,
)
from tests.unit.client_aio.support import (
    run_async,
    wait_until,
)


_connector_numbers = itertools.count(1)

LOGGER = 'pysoa.common.transport.redis_gateway.client'
METRICS_PREFIX = 'client.transport.redis_gateway.'
REPLY_QUEUE_KEY = f'pysoa:service.{SERVICE}.test-client!000000000001'
PING = pack_command(('PING',))
INCR = pack_command(('INCR', 'counter'))
BLMPOP_NAME = pack_command(('BLMPOP',)).partition(b'\r\n')[2]  # what follows a command's length: its name


# Helpers ------------------------------------------------------------------------------------------------------------


class Connector:
    """
    The ``connect`` of a pipeline: a new redis-py connection to one Redis each call, counted, and named (``CLIENT
    SETNAME``) for this connector alone.
    """

    def __init__(self, port: int) -> None:
        self.name = f'pipeline-test-{next(_connector_numbers)}'
        # No retries: a connection that cannot be made fails at once.
        self.client = redis.asyncio.Redis(
            host='127.0.0.1',
            port=port,
            client_name=self.name,
            retry=Retry(NoBackoff(), 0),
        )
        self.connects = 0

    async def __call__(self) -> AbstractConnection:
        self.connects += 1
        connection: AbstractConnection = self.client.connection_pool.make_connection()
        await connection.connect()
        return connection


def is_blmpop(command: bytes) -> bool:
    return command.partition(b'\r\n')[2].startswith(BLMPOP_NAME)


class RecordingPipeline(CommandPipeline):
    """A pipeline that records when (the loop's time) it was given which commands."""

    def __init__(self, connect: Connector) -> None:
        super().__init__(connect)
        self.given: List[Tuple[float, Sequence[bytes]]] = []

    def execute_all(self, commands: Sequence[bytes], targets: Sequence[ReplyTarget]) -> None:
        self.given.append((asyncio.get_running_loop().time(), list(commands)))
        super().execute_all(commands, targets)

    def waits_given(self) -> List[float]:
        """When each wait on the reply queue was given."""
        return [at for at, commands in self.given if any(is_blmpop(command) for command in commands)]


@contextlib.asynccontextmanager
async def pipeline_to(
    port: int,
    pipeline_class: Type[CommandPipeline] = CommandPipeline,
) -> AsyncIterator[Tuple[CommandPipeline, Connector]]:
    """A pipeline to the Redis on ``port``, closed on the way out."""
    connector = Connector(port)
    pipeline = pipeline_class(connector)
    try:
        yield pipeline, connector
    finally:
        await pipeline.close()
        await connector.client.aclose()


class Listener:
    """A receiver's listener: awaits ``waiting`` responses (fewer as they come, if ``count_down``), and records."""

    def __init__(self, waiting: int = 1, count_down: bool = False) -> None:
        self.waiting = waiting
        self.count_down = count_down
        self.received: List[ReceivedMessage] = []
        self.failed: List[PySOATransportError] = []
        self.on_response: Callable[[ReceivedMessage], None] = lambda message: None

    def response_received(self, message: ReceivedMessage) -> None:
        self.received.append(message)
        if self.count_down:
            self.waiting -= 1
        self.on_response(message)

    def receive_failed(self, error: PySOATransportError) -> None:
        self.failed.append(error)

    def request_ids(self) -> List[Any]:
        return [message.request_id for message in self.received]


class Receiving(NamedTuple):
    """A receiver on ``REPLY_QUEUE_KEY`` and what the tests look at: its pipeline, connector and metrics."""

    receiver: ResponseReceiver
    pipeline: RecordingPipeline
    connector: Connector
    metrics: RecordingMetricsRecorder


@contextlib.asynccontextmanager
async def receiving(
    redis_server: RedisServer,
    listener: Union[Listener, PulledResponses],
    rate: Optional[ResponseRate] = None,
    coalesce_seconds: float = COALESCE_SECONDS,
) -> AsyncIterator[Receiving]:
    """
    A receiver on the reply queue handing responses to ``listener`` (and measuring their rate with ``rate``, delaying
    waits under load by ``coalesce_seconds``), on a :class:`RecordingPipeline`; it stops waiting on the way out.
    """
    metrics = RecordingMetricsRecorder()
    decoder = MessageDecoder(SERVICE, free_metrics, METRICS_PREFIX, MsgpackSerializer())
    async with pipeline_to(redis_server.port, RecordingPipeline) as (pipeline, connector):
        receiver = ResponseReceiver(
            SERVICE, REPLY_QUEUE_KEY, pipeline, decoder, metrics, METRICS_PREFIX, listener, rate, coalesce_seconds
        )
        assert isinstance(pipeline, RecordingPipeline)
        try:
            yield Receiving(receiver, pipeline, connector, metrics)
        finally:
            if isinstance(listener, Listener):
                listener.waiting = 0


def response_frames(request_id: int, chunk_size: int = -1, expiry: int = 60, **body: Any) -> List[bytes]:
    """The frames a server pushes for a response with ``body`` (in chunks of ``chunk_size`` bytes, if it is > 0)."""
    encoder = MessageEncoder(
        SERVICE,
        free_metrics,
        'server.transport.redis_gateway.',
        MsgpackSerializer(),
        ProtocolVersion.VERSION_3,
        expiry,
        0,
        0,
        chunk_messages_larger_than_bytes=chunk_size,
        is_server=True,
    )
    frames, _, _ = encoder.encode(request_id, {}, body)
    return frames


def response_frame(request_id: int, **body: Any) -> bytes:
    (frame,) = response_frames(request_id, **body)
    return frame


def push(redis_server: RedisServer, *frames: bytes) -> None:
    """Push frames onto the reply queue, as servers push responses."""
    with redis_server.client() as connection:
        connection.rpush(REPLY_QUEUE_KEY, *frames)


def command_calls(redis_server: RedisServer, command: str) -> int:
    """How many times Redis ran ``command`` (blocking commands count once they end)."""
    with redis_server.client() as connection:
        stats: Dict[str, Dict[str, int]] = connection.info('commandstats')
    return stats.get(f'cmdstat_{command}', {}).get('calls', 0)


def reset_command_stats(redis_server: RedisServer) -> None:
    with redis_server.client() as connection:
        connection.config_resetstat()


def queued(redis_server: RedisServer) -> int:
    with redis_server.client() as connection:
        return int(connection.llen(REPLY_QUEUE_KEY))


async def blocked_client_id(redis_server: RedisServer, connector: Connector) -> str:
    """The client id of the connector's connection, once Redis blocks it (in a ``BLPOP``)."""

    def blocked() -> Optional[str]:
        with redis_server.client() as connection:
            clients = connection.client_list()
        return next((c['id'] for c in clients if c['name'] == connector.name and 'b' in c['flags']), None)

    client_id: str = await asyncio.to_thread(wait_for, blocked, 10, f'{connector.name} to be blocked in Redis')
    return client_id


def warnings_logged(caplog: pytest.LogCaptureFixture) -> List[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno == logging.WARNING]


# CommandPipeline ----------------------------------------------------------------------------------------------------


@run_async
async def test_commands_given_in_one_turn_of_the_event_loop_each_get_their_own_reply_in_order(
    redis_server: RedisServer,
) -> None:
    async with pipeline_to(redis_server.port) as (pipeline, connector):
        replies = await asyncio.gather(*(pipeline.execute(INCR) for _ in range(200)))

    assert replies == list(range(1, 201))
    assert connector.connects == 1


@run_async
async def test_commands_from_many_coroutines_share_one_connection(redis_server: RedisServer) -> None:
    async with pipeline_to(redis_server.port) as (pipeline, connector):

        async def increment_five_times() -> List[int]:
            return [await pipeline.execute(INCR) for _ in range(5)]

        replies = await asyncio.gather(*(increment_five_times() for _ in range(20)))

    assert sorted(reply for each in replies for reply in each) == list(range(1, 101))
    assert all(each == sorted(each) for each in replies)
    assert connector.connects == 1


@run_async
async def test_an_error_reply_fails_its_own_command_only(redis_server: RedisServer) -> None:
    with redis_server.client() as connection:
        connection.set('a string', 'not a list')

    async with pipeline_to(redis_server.port) as (pipeline, _):
        outcomes: Tuple[Any, ...] = await asyncio.gather(
            pipeline.execute(pack_command(('LPUSH', 'a string', 'x'))),
            pipeline.execute(INCR),
            return_exceptions=True,
        )
    wrong, right = outcomes

    assert isinstance(wrong, redis.ResponseError)
    assert 'WRONGTYPE' in str(wrong)
    assert right == 1


@run_async
async def test_a_connection_killed_by_redis_fails_the_commands_owed_a_reply_and_the_next_command_connects_again(
    redis_server: RedisServer,
) -> None:
    async with pipeline_to(redis_server.port) as (pipeline, connector):
        blocked = pipeline.execute(pack_command(('BLPOP', 'nothing', 10)))
        client_id = await blocked_client_id(redis_server, connector)
        with redis_server.client() as connection:
            connection.client_kill_filter(_id=client_id)

        with pytest.raises(redis.ConnectionError):
            await blocked
        assert await pipeline.execute(PING) == b'PONG'

    assert connector.connects == 2


@run_async
async def test_a_connection_that_cannot_be_made_fails_the_commands_given(redis_server: RedisServer) -> None:
    async with pipeline_to(free_port()) as (pipeline, connector):
        with pytest.raises(redis.ConnectionError):
            await pipeline.execute(PING)

        with pytest.raises(redis.ConnectionError):
            await pipeline.execute(PING)  # each command given tries again

    assert connector.connects == 2


@run_async
async def test_dropping_the_connection_fails_the_commands_owed_a_reply_and_the_next_command_connects_again(
    redis_server: RedisServer,
) -> None:
    async with pipeline_to(redis_server.port) as (pipeline, connector):
        blocked = pipeline.execute(pack_command(('BLPOP', 'nothing', 10)))
        await blocked_client_id(redis_server, connector)

        pipeline.drop_connection(redis.ResponseError('UNBLOCKED the client was unblocked'))
        with pytest.raises(redis.ConnectionError):
            await blocked
        assert await pipeline.execute(PING) == b'PONG'

    assert connector.connects == 2


@run_async
async def test_closing_fails_the_commands_owed_a_reply(redis_server: RedisServer) -> None:
    async with pipeline_to(redis_server.port) as (pipeline, connector):
        blocked = pipeline.execute(pack_command(('BLPOP', 'nothing', 10)))
        await blocked_client_id(redis_server, connector)

        await pipeline.close()

        with pytest.raises(redis.ConnectionError):
            await blocked


@run_async
async def test_closing_fails_the_commands_not_sent_yet(redis_server: RedisServer) -> None:
    async with pipeline_to(redis_server.port) as (pipeline, _):
        waiting_for_a_connection = pipeline.execute(PING)

        await pipeline.close()

        with pytest.raises(redis.ConnectionError, match='The transport was closed'):
            await waiting_for_a_connection


@run_async
async def test_commands_given_after_closing_fail_at_once(redis_server: RedisServer) -> None:
    async with pipeline_to(redis_server.port) as (pipeline, connector):
        await pipeline.execute(PING)
        await pipeline.close()
        outcomes: List[Any] = []

        pipeline.execute_all([PING, INCR], [outcomes.append, outcomes.append])

        assert len(outcomes) == 2
        assert all(isinstance(o, redis.ConnectionError) and str(o) == 'The transport was closed' for o in outcomes)
        assert connector.connects == 1


# ResponseReceiver: responses ----------------------------------------------------------------------------------------


@run_async
async def test_responses_pushed_onto_the_reply_queue_reach_the_listener_in_order(redis_server: RedisServer) -> None:
    listener = Listener()
    async with receiving(redis_server, listener) as r:
        r.receiver.receive()
        push(redis_server, response_frame(1, n=1), response_frame(2, n=2))
        push(redis_server, response_frame(3, n=3))

        await wait_until(lambda: len(listener.received) == 3, 'three responses')

    assert listener.request_ids() == [1, 2, 3]
    assert [message.body for message in listener.received] == [{'n': 1}, {'n': 2}, {'n': 3}]
    assert listener.failed == []


@run_async
async def test_responses_queued_together_are_taken_off_the_queue_in_one_wait(redis_server: RedisServer) -> None:
    reset_command_stats(redis_server)
    push(redis_server, *(response_frame(n) for n in range(1, 51)))
    listener = Listener(waiting=50, count_down=True)
    async with receiving(redis_server, listener) as r:
        r.receiver.receive()
        await wait_until(lambda: len(listener.received) == 50, '50 responses')

    assert listener.request_ids() == list(range(1, 51))
    assert r.receiver.pop_kind == 'BLMPOP'
    assert command_calls(redis_server, 'blmpop') == 1


@run_async
async def test_no_wait_is_sent_while_the_listener_awaits_no_response(redis_server: RedisServer) -> None:
    reset_command_stats(redis_server)
    push(redis_server, response_frame(1))
    listener = Listener(waiting=0)
    async with receiving(redis_server, listener) as r:
        r.receiver.receive()
        await r.pipeline.execute(PING)  # sent after anything the receiver gave the pipeline, and answered after it

        assert command_calls(redis_server, 'blmpop') == 0
        assert queued(redis_server) == 1
        assert listener.received == []

        listener.waiting = 1
        r.receiver.receive()
        await wait_until(lambda: listener.received, 'the response, once one is awaited')

    assert listener.request_ids() == [1]


@run_async
async def test_waiting_stops_once_the_listener_awaits_no_more_responses(redis_server: RedisServer) -> None:
    reset_command_stats(redis_server)
    listener = Listener(waiting=1, count_down=True)
    async with receiving(redis_server, listener) as r:
        r.receiver.receive()
        push(redis_server, response_frame(1))
        await wait_until(lambda: listener.received, 'the response')
        push(redis_server, response_frame(2))
        await r.pipeline.execute(PING)

        assert command_calls(redis_server, 'blmpop') == 1
        assert queued(redis_server) == 1

    assert listener.request_ids() == [1]


@run_async
async def test_an_expired_response_reaches_the_listener_as_a_failure_of_its_request(redis_server: RedisServer) -> None:
    listener = Listener()
    async with receiving(redis_server, listener) as r:
        r.receiver.receive()
        push(redis_server, response_frame(1, expiry=-1), response_frame(2))
        await wait_until(lambda: listener.received, 'the response after the expired one')

    assert listener.request_ids() == [2]
    (error,) = listener.failed
    assert isinstance(error, ExpiredMessageReceived)
    assert error.request_id == 1


# ResponseReceiver: chunks and unreadable frames ---------------------------------------------------------------------


@run_async
async def test_the_chunks_of_a_response_are_reassembled_into_one_message(redis_server: RedisServer) -> None:
    chunks = response_frames(1, chunk_size=300, data='x' * 1000)
    listener = Listener()
    async with receiving(redis_server, listener) as r:
        r.receiver.receive()
        push(redis_server, *chunks[:2])
        push(redis_server, *chunks[2:])
        await wait_until(lambda: listener.received, 'the response')

    assert len(chunks) == 4
    assert listener.request_ids() == [1]
    assert listener.received[0].body == {'data': 'x' * 1000}


@run_async
async def test_a_whole_response_pushed_between_the_chunks_of_another_is_delivered_on_its_own(
    redis_server: RedisServer,
) -> None:
    first, *rest = response_frames(1, chunk_size=300, data='x' * 1000)
    listener = Listener()
    async with receiving(redis_server, listener) as r:
        r.receiver.receive()
        push(redis_server, first, response_frame(2, small=True), *rest)
        await wait_until(lambda: len(listener.received) == 2, 'both responses')

    assert listener.request_ids() == [2, 1]
    assert [message.body for message in listener.received] == [{'small': True}, {'data': 'x' * 1000}]


@run_async
async def test_a_first_chunk_whose_next_chunk_never_comes_is_dropped_with_a_warning_after_an_empty_wait(
    redis_server: RedisServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    first = response_frames(1, chunk_size=300, data='x' * 1000)[0]
    listener = Listener()
    async with receiving(redis_server, listener) as r:
        r.receiver.receive()
        push(redis_server, first)
        await wait_until(lambda: warnings_logged(caplog), 'the incomplete response to be dropped')
        push(redis_server, response_frame(2))
        await wait_until(lambda: listener.received, 'the next response')

    assert warnings_logged(caplog) == [
        f'Dropped an unreadable message from the reply queue of service {SERVICE}: Incomplete chunked response for '
        f'service {SERVICE}: chunk 2 of 4 did not arrive within 1 seconds',
    ]
    assert listener.request_ids() == [2]
    assert r.metrics.counter_total(METRICS_PREFIX + 'receive.error.invalid_message') == 1


@run_async
async def test_an_unreadable_frame_is_dropped_with_a_warning_and_the_next_response_still_arrives(
    redis_server: RedisServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    listener = Listener()
    async with receiving(redis_server, listener) as r:
        r.receiver.receive()
        push(redis_server, V3_MSGPACK_PREFIX + b'\xc1 is no MessagePack', response_frame(2))
        await wait_until(lambda: listener.received, 'the readable response')

    assert listener.request_ids() == [2]
    assert listener.failed == []
    (warning,) = warnings_logged(caplog)
    assert warning.startswith(
        f'Dropped an unreadable message from the reply queue of service {SERVICE}: Invalid message'
    )
    assert r.metrics.counter_total(METRICS_PREFIX + 'receive.error.invalid_message') == 1


# ResponseReceiver: failures -----------------------------------------------------------------------------------------


@run_async
async def test_a_reply_queue_of_another_type_fails_the_awaited_responses_after_the_second_failed_wait(
    redis_server: RedisServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    with redis_server.client() as connection:
        connection.set(REPLY_QUEUE_KEY, 'not a list')
    listener = Listener()
    async with receiving(redis_server, listener) as r:
        r.receiver.receive()
        await wait_until(lambda: listener.failed, 'the awaited responses to fail')

    (error,) = listener.failed
    assert isinstance(error, MessageReceiveError)
    assert error.args[:2] == (f'Unknown error receiving message for service {SERVICE}', 'ResponseError')
    assert error.args[2].startswith('WRONGTYPE Operation against a key holding the wrong kind of value')
    (tried_again,) = [m for m in (record.getMessage() for record in caplog.records) if 'trying again' in m]
    assert tried_again.startswith(f'Waiting for responses from service {SERVICE} failed; trying again: ')
    assert 'ResponseError' in tried_again
    assert r.connector.connects == 2  # the wait tried again on a new connection
    assert listener.received == []


@run_async
async def test_without_blmpop_responses_are_taken_with_lpop_then_blpop(redis_without_blmpop: RedisServer) -> None:
    with redis_without_blmpop.client() as connection:
        connection.delete(REPLY_QUEUE_KEY)
    push(redis_without_blmpop, response_frame(1), response_frame(2))
    listener = Listener()
    async with receiving(redis_without_blmpop, listener) as r:
        r.receiver.receive()
        await wait_until(lambda: len(listener.received) == 2, 'the responses queued before the first wait')
        push(redis_without_blmpop, response_frame(3))
        push(redis_without_blmpop, response_frame(4))
        await wait_until(lambda: len(listener.received) == 4, 'the responses pushed later')

    assert r.receiver.pop_kind == 'LPOP <count>, then BLPOP'
    assert listener.request_ids() == [1, 2, 3, 4]
    assert listener.failed == []


# ResponseReceiver: commands riding with the waits -------------------------------------------------------------------


@run_async
async def test_a_command_given_while_no_wait_is_on_goes_out_with_a_wait(redis_server: RedisServer) -> None:
    listener = Listener()
    async with receiving(redis_server, listener) as r:
        await r.pipeline.execute(PING)  # connected
        outcomes: List[Any] = []

        assert r.receiver.receive_after(INCR, outcomes.append)
        await wait_until(lambda: outcomes, 'the reply to the command')
        push(redis_server, response_frame(1))
        await wait_until(lambda: listener.received, 'the response')  # a wait was on, with no receive()

    assert outcomes == [1]
    assert listener.request_ids() == [1]


@run_async
async def test_a_command_given_once_every_awaited_response_came_goes_out_with_a_wait_at_once(
    redis_server: RedisServer,
) -> None:
    listener = Listener(waiting=1, count_down=True)
    taken: List[bool] = []
    outcomes: List[Any] = []
    async with receiving(redis_server, listener) as r:

        def next_call() -> None:
            # As a sequential caller does once resumed: its next request (with a wait) goes out at once.
            listener.waiting = 1
            taken.append(r.receiver.receive_after(INCR, outcomes.append))
            # The wait left with that command: another command is not held back for a wait still to be sent.
            taken.append(r.receiver.receive_after(INCR, outcomes.append))

        def answered(message: ReceivedMessage) -> None:
            listener.on_response = lambda message: None
            asyncio.get_running_loop().call_soon(next_call)  # as the call answered by this response resumes

        listener.on_response = answered
        r.receiver.receive()
        push(redis_server, response_frame(1))
        await wait_until(lambda: outcomes, 'the reply to the command')
        push(redis_server, response_frame(2))
        await wait_until(lambda: len(listener.received) == 2, 'the second response, taken by that wait')

    assert taken == [True, False]
    assert outcomes == [1]
    assert listener.request_ids() == [1, 2]


@run_async
async def test_no_command_is_taken_to_go_with_a_wait_while_a_wait_is_on(redis_server: RedisServer) -> None:
    listener = Listener()
    async with receiving(redis_server, listener) as r:
        await r.pipeline.execute(PING)  # connected
        r.receiver.receive()

        assert not r.receiver.receive_after(INCR, lambda reply: None)


@run_async
async def test_no_command_is_taken_to_go_with_a_wait_before_the_connection_is_open(redis_server: RedisServer) -> None:
    listener = Listener(waiting=0)
    async with receiving(redis_server, listener) as r:
        assert not r.receiver.receive_after(INCR, lambda reply: None)
        assert r.connector.connects == 0


@run_async
async def test_a_command_given_in_the_turn_a_response_arrives_goes_out_ahead_of_the_next_wait(
    redis_server: RedisServer,
) -> None:
    events: List[str] = []
    taken: List[bool] = []
    listener = Listener()
    async with receiving(redis_server, listener) as r:

        def rider() -> None:
            def got(reply: Any) -> None:
                events.append(f'rider got {reply}')

            taken.append(r.receiver.receive_after(INCR, got))
            if not taken[-1]:
                r.pipeline.execute_then(INCR, got)  # as the transport sends it then

        def answered(message: ReceivedMessage) -> None:
            events.append(f'response {message.request_id}')
            asyncio.get_running_loop().call_soon(rider)  # as a call answered by this response sends its next request

        listener.on_response = answered
        r.receiver.receive()
        push(redis_server, response_frame(1))
        await wait_until(lambda: events, 'the first response')
        push(redis_server, response_frame(2))
        await wait_until(lambda: len(events) == 4, 'the second response and both riders')

    assert taken == [True, True]
    # A command sent behind a wait would get its reply only after that wait ended: after the second response.
    assert events == ['response 1', 'rider got 1', 'response 2', 'rider got 2']


# Under load -----------------------------------------------------------------------------------------------------------


def measured_rate(per_second: int) -> ResponseRate:
    """A rate that has just measured ``per_second`` responses a second."""
    now = asyncio.get_running_loop().time()
    rate = ResponseRate()
    rate.count(0, now - 1)
    rate.count(per_second, now)
    return rate


async def next_wait_after_a_response(
    redis_server: RedisServer, listener: Listener, rate: ResponseRate, coalesce_seconds: float = COALESCE_SECONDS
) -> float:
    """How long after a response arrived the next wait on the reply queue was given."""
    delivered: List[float] = []
    listener.on_response = lambda message: delivered.append(asyncio.get_running_loop().time())
    async with receiving(redis_server, listener, rate, coalesce_seconds) as r:
        r.receiver.receive()
        push(redis_server, response_frame(1))
        await wait_until(lambda: len(r.pipeline.waits_given()) == 2, 'the next wait')
        next_wait = r.pipeline.waits_given()[1]
        push(redis_server, response_frame(2))
        await wait_until(lambda: len(listener.received) == 2, 'the next response, taken by that wait')
    return next_wait - delivered[0]


# The tests of a wait that starts at once delay waits under load by half a second, not a millisecond: a busy machine
# may well take a millisecond to start a wait at once, never half a second. Their conditions would be under load for
# that delay but for the one each test is about.
LONG_DELAY = 0.5


@run_async
async def test_under_load_the_next_wait_starts_a_moment_after_a_response_came(redis_server: RedisServer) -> None:
    # 1,000 responses awaited at 1,000 a second take a second: a hundred times the delay.
    listener = Listener(waiting=1000)

    assert await next_wait_after_a_response(redis_server, listener, measured_rate(1000)) >= COALESCE_SECONDS


@run_async
async def test_with_few_responses_awaited_the_next_wait_starts_at_once(redis_server: RedisServer) -> None:
    # Fewer than COALESCE_WAITING responses awaited, though at one a second they take 30 times the delay.
    listener = Listener(waiting=COALESCE_WAITING - 1)

    assert await next_wait_after_a_response(redis_server, listener, measured_rate(1), LONG_DELAY) < LONG_DELAY


@run_async
async def test_with_responses_coming_fast_enough_the_next_wait_starts_at_once(redis_server: RedisServer) -> None:
    # 1,000 responses awaited at 1,000 a second take a second: twice the delay, not ten times.
    listener = Listener(waiting=1000)

    assert await next_wait_after_a_response(redis_server, listener, measured_rate(1000), LONG_DELAY) < LONG_DELAY


@run_async
async def test_before_the_rate_is_known_the_next_wait_starts_at_once(redis_server: RedisServer) -> None:
    listener = Listener(waiting=1000)

    assert await next_wait_after_a_response(redis_server, listener, ResponseRate(), LONG_DELAY) < LONG_DELAY


@run_async
async def test_while_the_next_wait_is_delayed_commands_and_receives_are_not_held_back(
    redis_server: RedisServer,
) -> None:
    listener = Listener(waiting=1000)
    during_the_delay: List[Any] = []
    async with receiving(redis_server, listener, measured_rate(1000)) as r:

        def next_call() -> None:
            during_the_delay.append(r.receiver.receive_after(INCR, lambda reply: None))
            r.receiver.receive()  # as the transport calls it after sending the command on its own connection
            during_the_delay.append(len(r.pipeline.waits_given()))

        def answered(message: ReceivedMessage) -> None:
            asyncio.get_running_loop().call_soon(next_call)  # as the call answered by this response resumes

        listener.on_response = answered
        r.receiver.receive()
        push(redis_server, response_frame(1))
        await wait_until(lambda: len(r.pipeline.waits_given()) == 2, 'the delayed wait')

    # The command is not taken to go with the delayed wait (its transport sends it at once), and no wait starts early.
    assert during_the_delay == [False, 1]


@run_async
async def test_a_wait_delayed_when_the_transport_closes_is_never_given(redis_server: RedisServer) -> None:
    # 1,000 responses awaited at 1,000 a second take a second: twenty times a delay of 50 ms.
    delay = 0.05
    listener = Listener(waiting=1000)
    closing: List[asyncio.Future[None]] = []
    async with receiving(redis_server, listener, measured_rate(1000), delay) as r:

        def close(message: ReceivedMessage) -> None:
            closing.append(asyncio.ensure_future(r.pipeline.close()))  # before the delayed wait is due

        listener.on_response = close
        r.receiver.receive()
        push(redis_server, response_frame(1))
        await wait_until(lambda: closing, 'the response')
        await closing[0]
        await asyncio.sleep(2 * delay)

        assert len(r.pipeline.waits_given()) == 1


# PulledResponses ----------------------------------------------------------------------------------------------------


@run_async
async def test_pull_returns_the_responses_that_arrived_in_order(redis_server: RedisServer) -> None:
    pulled = PulledResponses()
    async with receiving(redis_server, pulled) as r:
        push(redis_server, response_frame(1), response_frame(2))
        first = await pulled.pull(5, r.receiver.receive)
        second = await pulled.pull(5, r.receiver.receive)

    assert isinstance(first, ReceivedMessage) and isinstance(second, ReceivedMessage)
    assert [first.request_id, second.request_id] == [1, 2]


@run_async
async def test_pull_raises_a_timeout_error_when_nothing_arrives_in_time(redis_server: RedisServer) -> None:
    pulled = PulledResponses()
    async with receiving(redis_server, pulled) as r:
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(asyncio.TimeoutError):
            await pulled.pull(0.2, r.receiver.receive)

    assert loop.time() - started >= 0.2
    assert pulled.waiting == 0


@run_async
async def test_a_response_that_arrives_after_a_pull_timed_out_is_returned_by_the_next_pull(
    redis_server: RedisServer,
) -> None:
    pulled = PulledResponses()
    async with receiving(redis_server, pulled) as r:
        with pytest.raises(asyncio.TimeoutError):
            await pulled.pull(0.05, r.receiver.receive)
        push(redis_server, response_frame(1))  # taken by the wait the pull started, which lasts a second
        await wait_until(lambda: pulled.arrived, 'the response to arrive')

        late = await pulled.pull(0.05, r.receiver.receive)

    assert isinstance(late, ReceivedMessage)
    assert late.request_id == 1


@run_async
async def test_a_receive_failure_is_pulled_like_a_response(redis_server: RedisServer) -> None:
    with redis_server.client() as connection:
        connection.set(REPLY_QUEUE_KEY, 'not a list')
    pulled = PulledResponses()
    async with receiving(redis_server, pulled) as r:
        error = await pulled.pull(10, r.receiver.receive)

    assert isinstance(error, MessageReceiveError)
    assert error.args[0] == f'Unknown error receiving message for service {SERVICE}'


@run_async
async def test_a_puller_counts_as_waiting_from_before_it_starts_receiving_until_a_response_arrives() -> None:
    pulled = PulledResponses()
    waiting_when_receiving: List[int] = []
    pull = asyncio.ensure_future(pulled.pull(5, lambda: waiting_when_receiving.append(pulled.waiting)))
    await wait_until(lambda: waiting_when_receiving, 'the puller to start receiving')
    assert pulled.waiting == 1

    pulled.response_received(ReceivedMessage(1, {}, {}))

    assert pulled.waiting == 0
    assert await pull == ReceivedMessage(1, {}, {})
    assert waiting_when_receiving == [1]
