"""
The reply queue of the asynchronous Redis client transport: one connection waits on it while any response is awaited,
and each response is read, reassembled (chunks), decoded and handed to the transport's listener the moment its bytes
arrive, in the event loop's callback.
"""

import asyncio
import collections
import enum
import logging
from typing import (
    Any,
    Callable,
    Deque,
    List,
    Optional,
    Sequence,
    Tuple,
    Union,
)

import redis
from pymetrics.instruments import (
    Counter,
    TimerResolution,
)
from pymetrics.recorders.base import MetricsRecorder

from pysoa.client.aio._transport import ResponseListener
from pysoa.common.transport.base import ReceivedMessage
from pysoa.common.transport.errors import (
    InvalidMessageError,
    MessageReceiveError,
    MessageReceiveTimeout,
    PySOATransportError,
)
from pysoa.common.transport.redis_gateway._async_pipeline import (
    CommandPipeline,
    ReplyTarget,
)
from pysoa.common.transport.redis_gateway._framing import (
    ParsedFrame,
    parse_frame,
)
from pysoa.common.transport.redis_gateway._messages import (
    ChunkedResponse,
    MessageDecoder,
    is_chunk,
)
from pysoa.common.transport.redis_gateway.backend._packing import pack_command
from pysoa.common.transport.redis_gateway.backend.base import CannotGetConnectionError


__all__ = (
    'COALESCE_SECONDS',
    'COALESCE_WAITING',
    'DRAIN_COUNT',
    'POP_SECONDS',
    'RATE_SECONDS',
    'PulledResponses',
    'ResponseRate',
    'ResponseReceiver',
)

_logger = logging.getLogger('pysoa.common.transport.redis_gateway.client')
_MICROSECONDS = TimerResolution.MICROSECONDS

#: The most responses taken off the reply queue at once.
DRAIN_COUNT = 500

#: How long one wait on the reply queue lasts; while responses are awaited, another follows (see COALESCE_WAITING).
POP_SECONDS = 1

#: Under load, the next wait on the reply queue starts this long after the last one ended, instead of at once, so that
#: it takes the responses that came meanwhile together: taken one or two per wait, each response costs the client a
#: wake-up of its own, CPU time that a busy machine's servers need (benchmarks/async_coalescing.py measures both ways).
#: Requests are never held back, only the wait for responses.
COALESCE_SECONDS = 0.001

#: Under load means: at least this many responses are awaited, and they are expected to take ten times
#: COALESCE_SECONDS or more (by Little's law: the number awaited over the rate at which responses came lately), so
#: the delay adds at most a tenth to a call's wait. A few calls at a time, or fast ones, are never delayed.
COALESCE_WAITING = 16

#: How long the rate at which responses come is measured over.
RATE_SECONDS = 0.1


class _Pop(enum.Enum):
    """How responses are taken off the reply queue: the best the Redis version offers."""

    BLMPOP = 'BLMPOP'
    LPOP_THEN_BLPOP = 'LPOP <count>, then BLPOP'
    BLPOP = 'BLPOP'


class ResponseReceiver:
    """
    Waits on one reply queue, on a connection of its own, whenever its listener awaits a response and no wait is on:
    ``BLMPOP`` on Redis 7 and later, which takes every response queued (up to :data:`DRAIN_COUNT`) or waits for the
    next; before, ``LPOP <count>`` followed by ``BLPOP`` (Redis 6.2), or ``BLPOP`` alone. Each response goes to the
    listener; a response that cannot be read is dropped with a warning and the metric ``receive.error.invalid_message``.
    A failed wait is tried again once (on a new connection); a second failure in a row fails every awaited response.
    Under load (see :data:`COALESCE_WAITING`), a wait starts :data:`COALESCE_SECONDS` after the last one ended.

    :param service_name: The service called (for messages).
    :param reply_queue_key: The reply queue's Redis key.
    :param pipeline: The connection to the master holding the reply queue.
    :param decoder: Decodes responses.
    :param metrics: The metrics recorder.
    :param metrics_prefix: The prefix of the transport's metric names.
    :param listener: Where responses go.
    :param rate: Measures the rate at which responses come (a new one by default).
    :param coalesce_seconds: How long after the last wait, under load, the next starts (:data:`COALESCE_SECONDS` by
        default); under load means responses are expected to take ten times this or more.
    """

    def __init__(
        self,
        service_name: str,
        reply_queue_key: str,
        pipeline: CommandPipeline,
        decoder: MessageDecoder,
        metrics: MetricsRecorder,
        metrics_prefix: str,
        listener: ResponseListener,
        rate: Optional['ResponseRate'] = None,
        coalesce_seconds: float = COALESCE_SECONDS,
    ) -> None:
        self.service_name = service_name
        self.pipeline = pipeline
        self.listener = listener
        self._key = reply_queue_key
        self._decoder = decoder
        self._metrics = metrics
        self._metrics_prefix = metrics_prefix
        self._receive_timer_name = metrics_prefix + 'receive'
        self._kind = _Pop.BLMPOP
        self._commands, self._targets = self._pop_commands()
        self._waiting_on_queue = False
        self._wait_scheduled = False
        self._wait_delayed = False
        self._rate = rate or ResponseRate()
        self._coalesce_seconds = coalesce_seconds
        self._riders: List[bytes] = []
        self._rider_targets: List[ReplyTarget] = []
        self._failures = 0
        self._chunks: Optional[Tuple[ParsedFrame, ChunkedResponse]] = None

    @property
    def pop_kind(self) -> str:
        """How responses are taken off the queue (the name of the command, or commands)."""
        return self._kind.value

    def _pop_commands(self) -> Tuple[List[bytes], List[ReplyTarget]]:
        key = self._key
        if self._kind is _Pop.BLMPOP:
            return [pack_command(('BLMPOP', POP_SECONDS, 1, key, 'LEFT', 'COUNT', DRAIN_COUNT))], [self._on_blmpop]
        blpop = pack_command(('BLPOP', key, POP_SECONDS))
        if self._kind is _Pop.LPOP_THEN_BLPOP:
            return [pack_command(('LPOP', key, DRAIN_COUNT)), blpop], [self._on_lpop, self._on_blpop]
        return [blpop], [self._on_blpop]

    def _use(self, kind: _Pop) -> None:
        self._kind = kind
        self._commands, self._targets = self._pop_commands()

    def receive(self) -> None:
        """Wait on the reply queue, unless a wait is on (or about to be) already, or no response is awaited."""
        if not (self._waiting_on_queue or self._wait_scheduled or self._wait_delayed) and self.listener.waiting:
            self._waiting_on_queue = True
            self.pipeline.execute_all(self._commands, self._targets)

    def receive_after(self, command: bytes, target: ReplyTarget) -> bool:
        """
        Send ``command`` (its reply to ``target``) in the same write as the next wait on the reply queue, if that
        wait is about to be sent, or if no wait is on and the connection is open (then both are sent now). ``False``
        (nothing sent) otherwise: a wait is on, and a command sent behind it would wait for it to end, or the next
        wait is delayed (see :data:`COALESCE_WAITING`), and the command would wait for it to start.
        """
        if self._wait_scheduled:
            self._riders.append(command)
            self._rider_targets.append(target)
            return True
        if self._waiting_on_queue or self._wait_delayed or not self.pipeline.connected:
            return False
        self._waiting_on_queue = True
        self.pipeline.execute_all([command, *self._commands], [target, *self._targets])
        return True

    def _receive_soon(self) -> None:
        """
        Wait again at the end of this turn of the event loop, for the responses still awaited: the calls just answered
        run first, and the requests they send go in the same write as the wait (their replies then come with the
        responses it takes).
        """
        if not self._wait_scheduled:
            self._wait_scheduled = True
            asyncio.get_running_loop().call_soon(self._send_wait_with_riders)

    def _receive_later(self) -> None:
        """Wait again in ``coalesce_seconds`` (see :data:`COALESCE_WAITING`)."""
        if not (self._wait_scheduled or self._wait_delayed):
            self._wait_delayed = True
            asyncio.get_running_loop().call_later(self._coalesce_seconds, self._send_delayed_wait)

    def _send_delayed_wait(self) -> None:
        self._wait_delayed = False
        if not self.pipeline.closed:
            self.receive()

    def _send_wait_with_riders(self) -> None:
        self._wait_scheduled = False
        commands, targets = self._riders, self._rider_targets
        self._riders, self._rider_targets = [], []
        if self.listener.waiting and not self._waiting_on_queue:
            self._waiting_on_queue = True
            commands.extend(self._commands)
            targets.extend(self._targets)
        if commands:
            self.pipeline.execute_all(commands, targets)

    # Replies --------------------------------------------------------------------------------------------------------

    def _on_blmpop(self, reply: Any) -> None:
        if isinstance(reply, list):  # the queue's name, and the responses taken
            self._end_wait(reply, reply[1])
        elif isinstance(reply, redis.ResponseError) and 'unknown command' in str(reply):
            self._waiting_on_queue = False
            self._use(_Pop.LPOP_THEN_BLPOP)  # before Redis 7: the connection is fine
            self._receive_soon()
        else:
            self._end_wait(reply, ())

    def _on_lpop(self, reply: Any) -> None:
        if isinstance(reply, redis.ResponseError):
            self._use(_Pop.BLPOP)  # before Redis 6.2, LPOP takes no count; the BLPOP sent with it still answers
        elif reply and not isinstance(reply, BaseException):  # a lost connection: the BLPOP's reply says it
            self._failures = 0
            self._rate.count(len(reply), asyncio.get_running_loop().time())
            self._take(reply)

    def _on_blpop(self, reply: Any) -> None:
        self._end_wait(reply, (reply[1],) if isinstance(reply, list) else ())

    def _end_wait(self, reply: Any, frames: Sequence[bytes]) -> None:
        """The wait on the queue ended: with the frames it took, nothing (``None``), or an error."""
        self._waiting_on_queue = False
        if isinstance(reply, BaseException):
            if self.pipeline.closed or not self._try_again_after(reply):
                return  # closed with the transport: the calls waiting were told already
        else:
            self._failures = 0
            if reply is None:
                self._nothing_came()
            else:
                self._rate.count(len(frames), asyncio.get_running_loop().time())
                self._take(frames)
        waiting = self.listener.waiting
        if waiting >= COALESCE_WAITING and self._rate.expected_wait(waiting) >= 10 * self._coalesce_seconds:
            self._receive_later()
        elif waiting:
            self._receive_soon()
        else:  # every response awaited came: the next request sent carries the next wait (see receive_after)
            self._rate.restart()  # and the rate is measured afresh once calls come again

    def _try_again_after(self, error: BaseException) -> bool:
        """Whether to wait again after a failed wait; if not, every awaited response fails."""
        if isinstance(error, CannotGetConnectionError):
            self._counter('receive.error.connection').increment()
            self._fail_all(
                MessageReceiveError(f'Cannot get connection: {error.args[0] if error.args else repr(error)}')
            )
            return False
        # Not trusted again (a demoted master, say, answers READONLY or UNBLOCKED): the next wait connects again.
        self.pipeline.drop_connection(error if isinstance(error, Exception) else redis.ConnectionError(repr(error)))
        self._failures += 1
        if self._failures == 1:
            _logger.info(
                'Waiting for responses from service %s failed; trying again: %s: %s',
                self.service_name,
                type(error).__name__,
                error,
            )
            return True
        self._failures = 0
        self._counter('receive.error.unknown').increment()
        self._fail_all(
            MessageReceiveError(
                f'Unknown error receiving message for service {self.service_name}',
                type(error).__name__,
                *error.args,
            )
        )
        return False

    def _fail_all(self, error: MessageReceiveError) -> None:
        self._counter('receive.error.transient').increment()
        self.listener.receive_failed(error)

    def _nothing_came(self) -> None:
        if self._chunks is not None:
            # The next chunk did not come within a wait: the response is lost, its first chunks consumed.
            _, chunks = self._chunks
            self._chunks = None
            self._drop(chunks.incomplete_error(POP_SECONDS))

    # Responses ------------------------------------------------------------------------------------------------------

    def _take(self, frames: Sequence[bytes]) -> None:
        for data in frames:
            try:
                frame = parse_frame(data)
                if self._chunks is not None and is_chunk(frame):
                    self._add_chunk(frame)
                elif b'chunk-count' in frame.headers:
                    self._chunks = frame, ChunkedResponse(frame, self.service_name)
                else:  # a whole message: between the chunks of another, it may go first
                    self._deliver(frame, frame.payload)
            except InvalidMessageError as e:
                self._drop(e)

    def _add_chunk(self, frame: ParsedFrame) -> None:
        assert self._chunks is not None
        first, chunks = self._chunks
        try:
            chunks.add(frame)
        except InvalidMessageError:
            self._chunks = None
            raise
        if chunks.complete:
            self._chunks = None
            self._deliver(first, chunks.payload)

    def _deliver(self, frame: ParsedFrame, payload: bytes) -> None:
        try:
            with self._metrics.timer(self._receive_timer_name, resolution=_MICROSECONDS):
                message = self._decoder.decode(frame, payload)
        except MessageReceiveTimeout as e:  # it expired: its caller hears it
            self._counter('receive.error.timeout').increment()
            self.listener.receive_failed(e)
        else:
            self.listener.response_received(message)

    def _drop(self, error: InvalidMessageError) -> None:
        self._counter('receive.error.invalid_message').increment()
        _logger.warning(
            'Dropped an unreadable message from the reply queue of service %s: %s', self.service_name, error
        )

    def _counter(self, name: str) -> Counter:
        return self._metrics.counter(self._metrics_prefix + name)


class ResponseRate:
    """The rate at which responses come, measured over :data:`RATE_SECONDS` or more, from when counting starts."""

    def __init__(self) -> None:
        self.per_second = 0.0
        """Responses per second over the last whole measure (``0``: none yet)."""
        self._counted = 0
        self._since: Optional[float] = None

    def count(self, responses: int, now: float) -> None:
        """Count responses that came at ``now`` (the loop's time)."""
        since = self._since
        if since is None:
            self._since, self._counted = now, responses
        elif now - since >= RATE_SECONDS:
            self.per_second = (self._counted + responses) / (now - since)
            self._since, self._counted = now, 0
        else:
            self._counted += responses

    def restart(self) -> None:
        """Start counting again with the next response (the rate so far stays until then measured again)."""
        self._since = None

    def expected_wait(self, waiting: int) -> float:
        """How long, by Little's law, ``waiting`` awaited responses take at this rate (``0``: rate not known)."""
        return waiting / self.per_second if self.per_second else 0.0


class PulledResponses:
    """
    The listener behind ``receive_response_message``: the responses (and receive errors) that arrived, in order,
    until they are pulled.
    """

    def __init__(self) -> None:
        self.arrived: Deque[Union[ReceivedMessage, PySOATransportError]] = collections.deque()
        self._pulling = 0
        self._wake: Optional[asyncio.Future[None]] = None

    @property
    def waiting(self) -> int:
        """How many pullers wait for a response that has not arrived."""
        return 0 if self.arrived else self._pulling

    def response_received(self, message: ReceivedMessage) -> None:
        self.arrived.append(message)
        self._wake_puller()

    def receive_failed(self, error: PySOATransportError) -> None:
        self.arrived.append(error)
        self._wake_puller()

    def _wake_puller(self) -> None:
        wake = self._wake
        if wake is not None and not wake.done():
            wake.set_result(None)

    async def pull(self, timeout: float, receive: Callable[[], None]) -> Union[ReceivedMessage, PySOATransportError]:
        """
        The first response (or error) that arrived, waiting up to ``timeout`` seconds for one, with ``receive`` called
        to start receiving.

        :raises asyncio.TimeoutError: If none arrived in time.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        arrived = self.arrived
        while not arrived:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise asyncio.TimeoutError()
            self._wake = wake = loop.create_future()
            self._pulling += 1
            try:
                receive()
                await asyncio.wait_for(wake, remaining)
            except asyncio.TimeoutError:
                pass
            finally:
                self._pulling -= 1
                self._wake = None
        return arrived.popleft()
