"""
The client side of the Redis gateway transport for the :class:`pysoa.client.aio.AsyncClient`, on ``redis.asyncio``.

On the wire it is the synchronous :class:`pysoa.common.transport.redis_gateway.client.RedisClientTransport`: the same
settings, request queue (``pysoa:service.<name>``), frames, enqueue script (with its capacity check and expiry),
message expiry, size limits and chunked responses, so any server of PySOA 2 or 1.4.9 answers it unchanged. What
differs is how many calls share the Redis connections:

* Requests from every call in flight go to one connection per master, pipelined: each is written at once (those sent
  in one turn of the event loop in one write), and one task reads the replies, in order.
* All responses come to one reply queue per client and service (``pysoa:service.<name>.<client id>!<pid>``), read by
  one connection with one command at a time, which takes every response queued or waits for the next: ``BLMPOP`` on
  Redis 7 and later; before, ``LPOP <queue> <count>`` followed by ``BLPOP`` (Redis 6.2), or ``BLPOP`` alone.
"""

import asyncio
import collections
import enum
import logging
import math
import os
import random
import time
import uuid
from typing import (
    Any,
    Awaitable,
    Callable,
    Deque,
    Dict,
    List,
    Optional,
    Tuple,
    Union,
)

import redis
from pymetrics.instruments import (
    Counter,
    TimerResolution,
)
from pymetrics.recorders.base import MetricsRecorder
from redis.asyncio.connection import AbstractConnection

from pysoa.client.aio._transport import AsyncClientTransport
from pysoa.common.transport.base import ReceivedMessage
from pysoa.common.transport.errors import (
    InvalidMessageError,
    MessageReceiveError,
    MessageReceiveTimeout,
    MessageSendError,
    TransientPySOATransportError,
)
from pysoa.common.transport.redis_gateway._async_backend import (
    AsyncRedisBackend,
    make_async_backend,
)
from pysoa.common.transport.redis_gateway._description import describe_redis
from pysoa.common.transport.redis_gateway._framing import parse_frame
from pysoa.common.transport.redis_gateway._messages import (
    QUEUE_PREFIX,
    ChunkedResponse,
    MessageDecoder,
    MessageEncoder,
    make_serializer,
)
from pysoa.common.transport.redis_gateway.backend._common import normalize_backend_layer_kwargs
from pysoa.common.transport.redis_gateway.backend._packing import pack_command
from pysoa.common.transport.redis_gateway.backend.base import (
    CannotGetConnectionError,
    SendMessageToQueueCommand,
)
from pysoa.common.transport.redis_gateway.constants import (
    DEFAULT_MAXIMUM_MESSAGE_BYTES_CLIENT,
    REDIS_BACKEND_TYPES,
    ProtocolVersion,
)
from pysoa.common.transport.redis_gateway.core import UndeliverableMessageError
from pysoa.common.transport.redis_gateway.utils import make_redis_queue_name


__all__ = ('AsyncRedisClientTransport',)

_logger = logging.getLogger('pysoa.common.transport.redis_gateway.client')
_MICROSECONDS = TimerResolution.MICROSECONDS
_METRICS_PREFIX = 'client.transport.redis_gateway.'

#: Errors after which a connection is not trusted again (the command may be tried once more on a new one).
_CONNECTION_ERRORS = (redis.ConnectionError, redis.TimeoutError, OSError)

_ENQUEUE = SendMessageToQueueCommand()

#: The most responses taken off the reply queue at once.
DRAIN_COUNT = 500


class _Pop(enum.Enum):
    """How the transport takes responses off its reply queue: the best the Redis version offers."""

    BLMPOP = 'BLMPOP'
    LPOP_THEN_BLPOP = 'LPOP <count>, then BLPOP'
    BLPOP = 'BLPOP'


_LOAD_ENQUEUE = pack_command(('SCRIPT', 'LOAD', _ENQUEUE.script))


class _EnqueueCommand:
    """The ``EVALSHA`` of the enqueue script for one queue."""

    def __init__(self, queue_key: str, capacity: int) -> None:
        self._queue_key = queue_key
        self._capacity = capacity

    def pack(self, redis_expiry: int, frames: List[bytes]) -> bytes:
        """The command pushing ``frames``, with this time to live of the queue in seconds."""
        return pack_command(('EVALSHA', _ENQUEUE.sha, 1, self._queue_key, redis_expiry, self._capacity, *frames))


class _CommandPipeline:
    """
    Commands from any number of coroutines on one connection, pipelined: each is written as soon as it is given (the
    first in a turn of the event loop at once, the others given in the same turn together, at its end), and a task
    reads the replies, in order, settling each command's future with its reply or error. A connection that fails
    fails the commands whose replies it owes; the next command connects again.

    :param connect: Makes a new connection.
    """

    def __init__(self, connect: Callable[[], Awaitable[AbstractConnection]]) -> None:
        self._connect = connect
        self._connection: Optional[AbstractConnection] = None
        self._replies: Deque[_ReplyTarget] = collections.deque()
        """Where the replies of the commands written go, in the order they will come."""
        self._unsent: List[Tuple[bytes, _ReplyTarget]] = []
        self._flush_scheduled = False
        self._connecting: Optional[asyncio.Task[None]] = None
        self._reader: Optional[asyncio.Task[None]] = None
        self._loading_script: Optional[asyncio.Future[Any]] = None

    def execute(self, command: bytes) -> 'asyncio.Future[Any]':
        """Send a packed command (:func:`pack_command`); the future settles with its reply, or its error."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.execute_then(command, future)
        return future

    def execute_then(self, command: bytes, then: '_ReplyTarget') -> None:
        """Send a packed command; its reply (or error) settles the future ``then``, or goes to ``then(reply, err)``."""
        if self._connection is None:
            self._unsent.append((command, then))
            if self._connecting is None:
                self._connecting = asyncio.get_running_loop().create_task(self._connect_then_write())
        elif self._flush_scheduled:
            self._unsent.append((command, then))
        else:
            self._write([command], [then])
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._write_unsent)

    async def load_script(self) -> None:
        """Load the enqueue script (once, however many callers found it missing at once)."""
        loading = self._loading_script
        if loading is None or loading.done():
            loading = self._loading_script = self.execute(_LOAD_ENQUEUE)
        await asyncio.shield(loading)

    def _write(self, commands: List[bytes], targets: List['_ReplyTarget']) -> None:
        connection = self._connection
        # redis-py's own send_packed_command would await the writer's drain for each write: written here, commands
        # given in one turn leave together, and nobody waits for more than its reply.
        writer = connection._writer if connection is not None else None
        if writer is None or writer.transport.is_closing():
            self._connection = None  # the next command connects again
            error = redis.ConnectionError('The connection to Redis closed')
            for target in targets:
                _deliver(target, None, error)
            return
        writer.writelines(commands)
        self._replies.extend(targets)

    def _write_unsent(self) -> None:
        self._flush_scheduled = False
        if not self._unsent:
            return
        if self._connection is None:
            if self._connecting is None:
                self._connecting = asyncio.get_running_loop().create_task(self._connect_then_write())
            return
        unsent, self._unsent = self._unsent, []
        self._write([command for command, _ in unsent], [target for _, target in unsent])

    async def _connect_then_write(self) -> None:
        try:
            connection = await self._connect()
        except BaseException as e:
            unsent, self._unsent = self._unsent, []
            for _, target in unsent:
                _deliver(target, None, e if isinstance(e, Exception) else MessageSendError('The transport was closed'))
            if not isinstance(e, Exception):
                raise
            return
        finally:
            self._connecting = None
        self._connection = connection
        self._reader = asyncio.get_running_loop().create_task(self._read_replies(connection))
        self._write_unsent()

    async def _read_replies(self, connection: AbstractConnection) -> None:
        replies = self._replies
        try:
            while True:
                try:
                    reply = await connection.read_response()
                except redis.ResponseError as e:
                    _deliver(replies.popleft(), None, e)
                else:
                    _deliver(replies.popleft(), reply, None)
        except BaseException as e:
            # Lost (or, with a reply nobody asked for, out of step): every command still owed a reply fails.
            if self._connection is connection:
                self._connection = None
            self._replies = collections.deque()
            error = e if isinstance(e, Exception) and not isinstance(e, IndexError) else None
            for target in replies:
                _deliver(target, None, error or redis.ConnectionError(f'The connection to Redis failed: {e!r}'))
            await _disconnect(connection)
            if not isinstance(e, Exception):
                raise

    async def close(self) -> None:
        for task in (self._connecting, self._reader):
            if task is not None:
                task.cancel()
                await asyncio.wait([task])
        connection, self._connection = self._connection, None
        if connection is not None:
            await _disconnect(connection)


_ReplyTarget = Union['asyncio.Future[Any]', Callable[[Any, Optional[BaseException]], None]]
"""Where the reply to a command goes: a future it settles, or a function called with ``(reply, error)``."""


def _deliver(target: _ReplyTarget, reply: Any, error: Optional[BaseException]) -> None:
    if isinstance(target, asyncio.Future):
        _settle(target, reply, error)
    else:
        target(reply, error)


def _settle(future: 'asyncio.Future[Any]', result: Any = None, error: Optional[BaseException] = None) -> None:
    if future.done():
        return  # its caller stopped waiting
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


async def _disconnect(connection: AbstractConnection) -> None:
    try:
        await connection.disconnect(nowait=True)
    except Exception:  # closing a connection that already failed: nothing left to do with it
        pass


class AsyncRedisClientTransport(AsyncClientTransport):
    """
    Sends requests to ``pysoa:service.<service_name>`` and receives every response on one reply queue,
    ``pysoa:service.<service_name>.<client id>!<process id>``; see the module documentation.

    :param service_name: The service to call.
    :param metrics: The metrics recorder.
    :param kwargs: The settings of :class:`pysoa.common.transport.redis_gateway.client.RedisClientTransport`
                   (``RedisClientTransportSchema``); ``backend_type`` is required.
    """

    def __init__(
        self,
        service_name: str,
        metrics: MetricsRecorder,
        backend_type: str,
        backend_layer_kwargs: Optional[Dict[str, Any]] = None,
        default_serializer_config: Optional[Dict[str, Any]] = None,
        log_messages_larger_than_bytes: int = DEFAULT_MAXIMUM_MESSAGE_BYTES_CLIENT,
        maximum_message_size_in_bytes: int = DEFAULT_MAXIMUM_MESSAGE_BYTES_CLIENT,
        message_expiry_in_seconds: int = 60,
        queue_capacity: int = 10000,
        queue_full_retries: int = 10,
        receive_timeout_in_seconds: int = 5,
        protocol_version: Any = ProtocolVersion.VERSION_3,
    ) -> None:
        super().__init__(service_name, metrics)
        if backend_type not in REDIS_BACKEND_TYPES:
            raise ValueError(f'backend_type must be one of {REDIS_BACKEND_TYPES}, got {backend_type}')
        self.client_id = uuid.uuid4().hex
        self._send_queue_key = QUEUE_PREFIX + make_redis_queue_name(service_name)
        self.reply_queue_name = f'{make_redis_queue_name(service_name)}.{self.client_id}!{os.getpid():012x}'
        self._reply_queue_key = QUEUE_PREFIX + self.reply_queue_name
        normalized = normalize_backend_layer_kwargs(backend_type, backend_layer_kwargs or {})
        self._backend: AsyncRedisBackend = make_async_backend(backend_type, normalized)
        self._redis = describe_redis(backend_type, normalized)
        self._backend.counter_factory = self._counter
        self._queue_capacity = queue_capacity
        self._queue_full_retries = queue_full_retries
        self._receive_timeout = receive_timeout_in_seconds
        self._message_expiry = message_expiry_in_seconds
        serializer = make_serializer(default_serializer_config)
        self._encoder = MessageEncoder(
            service_name,
            metrics,
            _METRICS_PREFIX,
            serializer,
            ProtocolVersion(protocol_version),
            message_expiry_in_seconds,
            maximum_message_size_in_bytes,
            log_messages_larger_than_bytes,
            time_serialization=False,
        )
        self._decoder = MessageDecoder(service_name, metrics, _METRICS_PREFIX, serializer)

        self._enqueue_command = _EnqueueCommand(self._send_queue_key, queue_capacity)
        self._pipelines: Dict[int, _CommandPipeline] = {}
        self._only_pipeline: Optional[_CommandPipeline] = None
        self._receive_connection: Optional[AbstractConnection] = None
        self._frames: Deque[bytes] = collections.deque()
        self._waiting_on_pop = False  # a BLPOP was sent and its reply is not read yet
        self._pop_kind = _Pop.BLMPOP
        self._closed = False

    @property
    def default_receive_timeout_in_seconds(self) -> Optional[float]:
        return self._receive_timeout

    @property
    def default_message_expiry_in_seconds(self) -> Optional[float]:
        return self._message_expiry

    def no_response_error(self, timeout: float) -> MessageReceiveTimeout:
        """As the synchronous transport says it: where the response was awaited, and the likely cause."""
        return MessageReceiveTimeout(
            f'No response from service {self.service_name} arrived within {timeout:g} seconds (on reply queue '
            f'{self._reply_queue_key}). The request went to queue {self._send_queue_key} on {self._redis}: if no '
            f'server of service {self.service_name} is consuming that queue (none is running, or they use another '
            f'Redis or database), or all are busy, requests wait there until they expire.',
        )

    @property
    def responses_ready(self) -> bool:
        return bool(self._frames)

    def _counter(self, name: str) -> Counter:
        return self.metrics.counter(_METRICS_PREFIX + name)

    # Sending --------------------------------------------------------------------------------------------------------

    async def send_request_message(
        self,
        request_id: int,
        meta: Dict[str, Any],
        body: Dict[str, Any],
        message_expiry_in_seconds: Optional[int] = None,
    ) -> None:
        """
        Send a request, which expires ``message_expiry_in_seconds`` from now (by default after the
        ``message_expiry_in_seconds`` setting); while the service's queue is full, sending is retried up to
        ``queue_full_retries`` times, never past that expiry.

        :raises MessageTooLarge: If the request exceeds ``maximum_message_size_in_bytes``.
        :raises MessageSendError: If Redis cannot be reached, refuses the request, or the queue stays full.
        """
        meta['reply_to'] = self.reply_queue_name
        with self.metrics.timer(_METRICS_PREFIX + 'send', resolution=_MICROSECONDS):
            frames, redis_expiry, expires_at = self._encoder.encode(request_id, meta, body, message_expiry_in_seconds)
            await self._enqueue(self._enqueue_command.pack(redis_expiry, frames), expires_at)

    def start_send_request_message(
        self,
        request_id: int,
        meta: Dict[str, Any],
        body: Dict[str, Any],
        message_expiry_in_seconds: Optional[int],
        sent: Callable[[Optional[BaseException]], None],
    ) -> bool:
        """
        Send a request as :meth:`send_request_message` does, without waiting for Redis to accept it: the request is
        written to Redis now, and ``sent`` called with ``None`` once it is accepted (after the same retries, if
        needed), or with the error that :meth:`send_request_message` would raise. Errors of the request itself
        (``MessageTooLarge``, ...) raise at once. ``False`` (nothing done) before the first request is sent.
        """
        pipeline = self._only_pipeline
        if pipeline is None:
            return False
        meta['reply_to'] = self.reply_queue_name
        with self.metrics.timer(_METRICS_PREFIX + 'send', resolution=_MICROSECONDS):
            frames, redis_expiry, expires_at = self._encoder.encode(request_id, meta, body, message_expiry_in_seconds)
            command = self._enqueue_command.pack(redis_expiry, frames)
            pipeline.execute_then(command, lambda _, error: self._accepted_or_retried(error, command, expires_at, sent))
        return True

    def _accepted_or_retried(
        self,
        error: Optional[BaseException],
        command: bytes,
        expires_at: float,
        sent: Callable[[Optional[BaseException]], None],
    ) -> None:
        if error is None:
            sent(None)
            return
        # Refused, or not delivered: what send_request_message does next, in a task of its own.
        retry = asyncio.get_running_loop().create_task(self._enqueue(command, expires_at, error))
        retry.add_done_callback(
            lambda done: sent(
                MessageSendError('The transport was closed') if done.cancelled() else done.exception(),
            )
        )

    async def _enqueue(self, command: bytes, expires_at: float, first_error: Optional[BaseException] = None) -> None:
        """
        Push a request (its packed enqueue command), retrying while the queue is full, but never past the request's
        expiry, ``expires_at``. ``first_error``: the error of a first attempt already made.
        """
        try:
            await self._push(command, expires_at, first_error)
        except TransientPySOATransportError:
            self._counter('send.error.transient').increment()
            raise

    async def _push(self, command: bytes, expires_at: float, first_error: Optional[BaseException]) -> None:
        retries = 0
        for attempt in range(self._queue_full_retries + 1):
            try:
                pipeline = self._only_pipeline or await self._pipeline_for(self._send_queue_key)
                try:
                    if first_error is not None:
                        error, first_error = first_error, None
                        raise error
                    await pipeline.execute(command)
                except _CONNECTION_ERRORS:
                    await pipeline.execute(command)  # once more, on a new connection
                except redis.exceptions.NoScriptError:
                    await pipeline.load_script()
                    await pipeline.execute(command)
                return
            except CannotGetConnectionError as e:
                self._counter('send.error.connection').increment()
                raise MessageSendError(f'Cannot get connection: {e.args[0] if e.args else repr(e)}') from e
            except redis.ResponseError as e:
                if 'queue full' not in str(e):
                    raise self._send_error_for_response(e) from e
                retries = attempt
                delay = (2**attempt + random.random()) / 4.0
                if attempt == self._queue_full_retries or time.time() + delay >= expires_at:
                    break
                self._counter('send.queue_full_retry').increment()
                self._counter(f'send.queue_full_retry.retry_{attempt + 1}').increment()
                await asyncio.sleep(delay)
            except (redis.RedisError, OSError) as e:
                self._counter('send.error.unknown').increment()
                _logger.warning('Error sending message for service %s: %r', self.service_name, e)
                raise MessageSendError(
                    f'Unknown error sending message for service {self.service_name}',
                    type(e).__name__,
                    *e.args,
                ) from e

        self._counter('send.error.redis_queue_full').increment()
        message = f'Redis queue {make_redis_queue_name(self.service_name)} was full after {retries} retries'
        if retries < self._queue_full_retries:
            message += ', and the message would have expired before the next one'
        raise MessageSendError(message)

    async def _pipeline_for(self, queue_key: str) -> _CommandPipeline:
        """The pipeline to the master of this queue (with one master, kept as ``_only_pipeline``)."""
        index = await self._backend.connection_index(queue_key)
        pipeline = self._pipelines.get(index)
        if pipeline is None:
            if self._closed:
                raise MessageSendError(f'The transport for service {self.service_name} was closed')
            backend = self._backend
            pipeline = self._pipelines[index] = _CommandPipeline(lambda: backend.connect(index))
            if await backend.ring_size() == 1:
                self._only_pipeline = pipeline
        return pipeline

    def _send_error_for_response(self, error: redis.ResponseError) -> MessageSendError:
        self._counter('send.error.response').increment()
        message = f'Redis error sending message for service {self.service_name}'
        if 'WRONGTYPE' in str(error):  # the key is not a list: nothing is wrong with the connection
            return UndeliverableMessageError(message, *error.args)
        return MessageSendError(message, *error.args)

    # Receiving ------------------------------------------------------------------------------------------------------

    async def receive_response_message(self, receive_timeout_in_seconds: Optional[float] = None) -> ReceivedMessage:
        """
        The next response on the reply queue, waiting up to ``receive_timeout_in_seconds`` in all (by default the
        ``receive_timeout_in_seconds`` setting). A message that cannot be read is dropped with a warning on the logger
        ``pysoa.common.transport.redis_gateway.client`` and the metric
        ``client.transport.redis_gateway.receive.error.invalid_message``, and the wait goes on.

        :raises MessageReceiveTimeout: If none arrived in time, or the one that arrived had expired (an
                                       ``ExpiredMessageReceived``, with its ``request_id``).
        :raises MessageReceiveError: If Redis cannot be reached or fails.
        """
        timeout = receive_timeout_in_seconds or self._receive_timeout
        deadline = time.monotonic() + timeout
        while True:
            try:
                with self.metrics.timer(_METRICS_PREFIX + 'receive', resolution=_MICROSECONDS):
                    frames = self._frames
                    frame = parse_frame(frames.popleft() if frames else await self._next_frame(timeout))
                    payload = frame.payload
                    if b'chunk-count' in frame.headers:
                        payload = await self._rest_of_chunks(ChunkedResponse(frame, self.service_name), timeout)
                    return self._decoder.decode(frame, payload)
            except MessageReceiveTimeout:
                self._counter('receive.error.timeout').increment()
                raise
            except InvalidMessageError as e:
                self._counter('receive.error.invalid_message').increment()
                _logger.warning(
                    'Dropped an unreadable message from the reply queue of service %s: %s', self.service_name, e
                )
            except TransientPySOATransportError:
                self._counter('receive.error.transient').increment()
                raise
            timeout = deadline - time.monotonic()
            if timeout <= 0:
                self._counter('receive.error.timeout').increment()
                raise MessageReceiveTimeout(f'No message received for service {self.service_name}')

    async def _rest_of_chunks(self, chunks: ChunkedResponse, timeout: float) -> bytes:
        try:
            while not chunks.complete:
                try:
                    data = await self._next_frame(timeout)
                except MessageReceiveTimeout:
                    raise chunks.incomplete_error(timeout) from None
                chunks.take(data)
        finally:
            # The whole messages between the chunks are received next, in order.
            self._frames.extendleft(reversed(chunks.between))
        return chunks.payload

    async def _next_frame(self, timeout: float) -> bytes:
        if self._frames:
            return self._frames.popleft()
        for attempt in (1, 2):
            try:
                return await self._pop(timeout)
            except CannotGetConnectionError as e:
                self._counter('receive.error.connection').increment()
                raise MessageReceiveError(f'Cannot get connection: {e.args[0] if e.args else repr(e)}') from e
            except (redis.RedisError, OSError) as e:
                await self._drop_receive_connection()
                if attempt == 1 and isinstance(e, _CONNECTION_ERRORS):
                    continue  # once more, on a new connection
                self._counter('receive.error.unknown').increment()
                raise MessageReceiveError(
                    f'Unknown error receiving message for service {self.service_name}',
                    type(e).__name__,
                    *e.args,
                ) from e
        raise AssertionError('unreachable')

    async def _pop(self, timeout: float) -> bytes:
        """
        The next frame from Redis: from the reply of the pop already waiting, or of a new one. The pop takes every
        frame queued (up to :data:`DRAIN_COUNT`), or waits for the next: ``BLMPOP`` on Redis 7 and later; before, an
        ``LPOP <count>`` followed by a ``BLPOP`` (Redis 6.2), or a ``BLPOP`` alone.
        """
        try:
            connection = self._receive_connection
            if connection is None:
                if self._closed:
                    raise MessageReceiveError(f'The transport for service {self.service_name} was closed')
                index = await self._backend.connection_index(self._reply_queue_key)
                connection = self._receive_connection = await self._backend.connect(index)
            pop = self._pop_kind
            if not self._waiting_on_pop:
                await connection.send_packed_command(self._pop_commands(timeout), check_health=False)
                self._waiting_on_pop = True
                if pop is _Pop.LPOP_THEN_BLPOP and await self._drained(connection):
                    return self._frames.popleft()
            try:
                reply = await connection.read_response()
            except redis.ResponseError:
                if pop is not _Pop.BLMPOP:
                    raise
                # Before Redis 7, there is no BLMPOP: the connection is fine, and the next pop uses older commands.
                self._waiting_on_pop = False
                self._pop_kind = _Pop.LPOP_THEN_BLPOP
                return await self._pop(timeout)
            self._waiting_on_pop = False
        except BaseException:
            if self._waiting_on_pop:
                # The pop's reply would be read by nobody, or in place of another reply: the connection is done.
                await self._drop_receive_connection()
            raise
        if reply is None:
            raise MessageReceiveTimeout(f'No message received for service {self.service_name}')
        if pop is _Pop.BLMPOP:
            self._frames.extend(reply[1])
            return self._frames.popleft()
        frame: bytes = reply[1]
        return frame

    def _pop_commands(self, timeout: float) -> List[bytes]:
        key = self._reply_queue_key
        # Whole seconds: before Redis 6, a fraction of a second is not a valid timeout of a blocking pop.
        seconds = max(1, math.ceil(timeout))
        if self._pop_kind is _Pop.BLMPOP:
            return [pack_command(('BLMPOP', seconds, 1, key, 'LEFT', 'COUNT', DRAIN_COUNT))]
        blpop = pack_command(('BLPOP', key, seconds))
        return [pack_command(('LPOP', key, DRAIN_COUNT)), blpop] if self._pop_kind is _Pop.LPOP_THEN_BLPOP else [blpop]

    async def _drained(self, connection: AbstractConnection) -> bool:
        """Read the reply of the ``LPOP <count>`` before a ``BLPOP``; whether it took any frame."""
        try:
            drained: Optional[List[bytes]] = await connection.read_response()
        except redis.ResponseError:
            # Before Redis 6.2, LPOP takes no count: wait on BLPOP alone from now on.
            self._pop_kind = _Pop.BLPOP
            return False
        if not drained:
            return False
        self._frames.extend(drained)
        return True

    async def _drop_receive_connection(self) -> None:
        connection, self._receive_connection = self._receive_connection, None
        self._waiting_on_pop = False
        if connection is not None:
            await _disconnect(connection)

    # Closing --------------------------------------------------------------------------------------------------------

    async def close(self) -> None:
        """Close every connection of this transport; it cannot be used afterwards."""
        self._closed = True
        pipelines, self._pipelines, self._only_pipeline = self._pipelines, {}, None
        for each in pipelines.values():
            await each.close()
        await self._drop_receive_connection()
        await self._backend.close()
