"""
The client side of the Redis gateway transport for the :class:`pysoa.client.aio.AsyncClient`, on ``redis.asyncio``.

On the wire it is the synchronous :class:`pysoa.common.transport.redis_gateway.client.RedisClientTransport`: the same
settings, request queue (``pysoa:service.<name>``), frames, enqueue script (with its capacity check and expiry),
message expiry, size limits and chunked responses, so any server of PySOA 2 or 1.4.9 answers it unchanged. What
differs is how many calls share the Redis connections:

* Requests from every call in flight go to one connection per master, pipelined: each is written at once (those sent
  in one turn of the event loop in one write), and each reply is parsed as it arrives
  (:mod:`pysoa.common.transport.redis_gateway._async_pipeline`).
* All responses come to one reply queue per client and service (``pysoa:service.<name>.<client id>!<pid>``), waited
  on by one connection whenever a response is awaited, which takes every response queued at once
  (:mod:`pysoa.common.transport.redis_gateway._async_receiver`). With one Redis master and no wait on, a request and
  the wait for its response leave in one write, as the synchronous client sends them.
"""

import asyncio
import logging
import os
import uuid
from typing import (
    Any,
    Callable,
    Dict,
    List,
    Optional,
)

import redis
from pymetrics.instruments import (
    Counter,
    TimerResolution,
)
from pymetrics.recorders.base import MetricsRecorder
from redis.asyncio.connection import AbstractConnection

from pysoa.client.aio._transport import (
    AsyncClientTransport,
    ResponseListener,
)
from pysoa.common.transport.base import ReceivedMessage
from pysoa.common.transport.errors import (
    MessageReceiveError,
    MessageReceiveTimeout,
    MessageSendError,
    TransientPySOATransportError,
)
from pysoa.common.transport.redis_gateway._async_backend import (
    AsyncRedisBackend,
    make_async_backend,
)
from pysoa.common.transport.redis_gateway._async_pipeline import (
    CommandPipeline,
)
from pysoa.common.transport.redis_gateway._async_receiver import (
    PulledResponses,
    ResponseReceiver,
)
from pysoa.common.transport.redis_gateway._description import describe_redis
from pysoa.common.transport.redis_gateway._messages import (
    QUEUE_PREFIX,
    MessageDecoder,
    MessageEncoder,
    make_serializer,
)
from pysoa.common.transport.redis_gateway._queue_full import (
    full_queue_error,
    retry_delay,
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
_SEND_TIMER = _METRICS_PREFIX + 'send'

#: Errors after which a connection is not trusted again (the command may be tried once more on a new one).
_CONNECTION_ERRORS = (redis.ConnectionError, redis.TimeoutError, OSError)

_ENQUEUE = SendMessageToQueueCommand()

_LOAD_ENQUEUE = pack_command(('SCRIPT', 'LOAD', _ENQUEUE.script))


class _EnqueueCommand:
    """The ``EVALSHA`` of the enqueue script for one queue."""

    def __init__(self, queue_key: str, capacity: int) -> None:
        self._queue_key = queue_key
        self._capacity = capacity
        # What every command for this queue starts with, after its length: "EVALSHA <sha> 1 <queue key>".
        self._head = pack_command(('EVALSHA', _ENQUEUE.sha, 1, queue_key)).partition(b'\r\n')[2]
        self._capacity_argument = pack_command((capacity,)).partition(b'\r\n')[2]

    def pack(self, redis_expiry: int, frames: List[bytes]) -> bytes:
        """The command pushing ``frames``, with this time to live of the queue in seconds."""
        if len(frames) != 1:
            return pack_command(('EVALSHA', _ENQUEUE.sha, 1, self._queue_key, redis_expiry, self._capacity, *frames))
        # A request is one frame: the command in one formatting, with the parts that never change made once.
        expiry = b'%d' % redis_expiry
        frame = frames[0]
        return b'*7\r\n%b$%d\r\n%b\r\n%b$%d\r\n%b\r\n' % (
            self._head,
            len(expiry),
            expiry,
            self._capacity_argument,
            len(frame),
            frame,
        )


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
        self._pipelines: Dict[int, CommandPipeline] = {}
        self._only_pipeline: Optional[CommandPipeline] = None
        self._loading_script: Dict[int, asyncio.Future[Any]] = {}
        self._pulled = PulledResponses()
        self._listening = False
        self._receiver = ResponseReceiver(
            service_name,
            self._reply_queue_key,
            CommandPipeline(self._connect_to_reply_queue),
            self._decoder,
            metrics,
            _METRICS_PREFIX,
            self._pulled,
        )
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
        return bool(self._pulled.arrived)

    @property
    def pop_kind(self) -> str:
        """How responses are taken off the reply queue (learnt from Redis on the first wait)."""
        return self._receiver.pop_kind

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
        with self.metrics.timer(_SEND_TIMER, resolution=_MICROSECONDS):
            frames, redis_expiry, expires_at = self._encoder.encode(request_id, meta, body, message_expiry_in_seconds)
            if self._listening:
                self._receiver.receive()
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
        with self.metrics.timer(_SEND_TIMER, resolution=_MICROSECONDS):
            frames, redis_expiry, expires_at = self._encoder.encode(request_id, meta, body, message_expiry_in_seconds)
            command = self._enqueue_command.pack(redis_expiry, frames)

            def accepted_or_retried(reply: Any) -> None:
                if isinstance(reply, BaseException):
                    self._retry(reply, command, expires_at, sent)
                else:
                    sent(None)

            # With one master and no wait on the reply queue: the request, then the wait, in one write.
            if not (self._listening and self._receiver.receive_after(command, accepted_or_retried)):
                pipeline.execute_then(command, accepted_or_retried)
                if self._listening:
                    self._receiver.receive()
        return True

    def _retry(
        self,
        error: BaseException,
        command: bytes,
        expires_at: float,
        sent: Callable[[Optional[BaseException]], None],
    ) -> None:
        if self._closed:
            sent(MessageSendError(f'The transport for service {self.service_name} was closed'))
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
                    await self._load_script(pipeline)
                    await pipeline.execute(command)
                return
            except CannotGetConnectionError as e:
                self._counter('send.error.connection').increment()
                raise MessageSendError(f'Cannot get connection: {e.args[0] if e.args else repr(e)}') from e
            except redis.ResponseError as e:
                if 'queue full' not in str(e):
                    raise self._send_error_for_response(e) from e
                retries = attempt
                delay = retry_delay(attempt, self._queue_full_retries, expires_at)
                if delay is None:
                    break
                self._counter('send.queue_full_retry').increment()
                self._counter(f'send.queue_full_retry.retry_{attempt + 1}').increment()
                await asyncio.sleep(delay)
            except (redis.RedisError, OSError) as e:
                self._counter('send.error.unknown').increment()
                _logger.warning('Error sending message for service %s: %s: %s', self.service_name, type(e).__name__, e)
                raise MessageSendError(
                    f'Unknown error sending message for service {self.service_name}',
                    type(e).__name__,
                    *e.args,
                ) from e

        self._counter('send.error.redis_queue_full').increment()
        raise full_queue_error(make_redis_queue_name(self.service_name), retries, self._queue_full_retries)

    async def _load_script(self, pipeline: CommandPipeline) -> None:
        """Load the enqueue script (once, however many requests found it missing at once)."""
        loading = self._loading_script.get(id(pipeline))
        if loading is None or loading.done():
            loading = self._loading_script[id(pipeline)] = pipeline.execute(_LOAD_ENQUEUE)
        await asyncio.shield(loading)

    async def _pipeline_for(self, queue_key: str) -> CommandPipeline:
        """The pipeline to the master of this queue (with one master, kept as ``_only_pipeline``)."""
        index = await self._backend.connection_index(queue_key)
        pipeline = self._pipelines.get(index)
        if pipeline is None:
            if self._closed:
                raise MessageSendError(f'The transport for service {self.service_name} was closed')
            backend = self._backend
            pipeline = self._pipelines[index] = CommandPipeline(lambda: backend.connect(index))
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

    async def _connect_to_reply_queue(self) -> AbstractConnection:
        if self._closed:
            raise MessageReceiveError(f'The transport for service {self.service_name} was closed')
        return await self._backend.connect(await self._backend.connection_index(self._reply_queue_key))

    def listen(self, listener: ResponseListener) -> bool:
        """Hand every response to ``listener`` as it arrives; see :class:`ResponseReceiver`."""
        self._receiver.listener = listener
        self._listening = True
        return True

    async def receive_response_message(self, receive_timeout_in_seconds: Optional[float] = None) -> ReceivedMessage:
        """
        The next response on the reply queue, waiting up to ``receive_timeout_in_seconds`` (by default the
        ``receive_timeout_in_seconds`` setting). A message that cannot be read is dropped with a warning on the logger
        ``pysoa.common.transport.redis_gateway.client`` and the metric
        ``client.transport.redis_gateway.receive.error.invalid_message``, and the wait goes on. Responses that arrive
        after a wait timed out are kept for the next.

        :raises MessageReceiveTimeout: If none arrived in time, or the one that arrived had expired (an
                                       ``ExpiredMessageReceived``, with its ``request_id``).
        :raises MessageReceiveError: If Redis cannot be reached or fails.
        """
        if self._listening:
            raise RuntimeError(f'The transport for service {self.service_name} hands responses to its listener')
        try:
            timeout = receive_timeout_in_seconds or self._receive_timeout
            received = await self._pulled.pull(timeout, self._receiver.receive)
        except asyncio.TimeoutError:
            self._counter('receive.error.timeout').increment()
            raise MessageReceiveTimeout(f'No message received for service {self.service_name}') from None
        if isinstance(received, BaseException):
            raise received
        return received

    # Closing --------------------------------------------------------------------------------------------------------

    async def close(self) -> None:
        """
        Close every connection of this transport; it cannot be used afterwards. A ``receive_response_message`` still
        waiting raises a ``MessageReceiveError``.
        """
        self._closed = True
        pipelines, self._pipelines, self._only_pipeline = self._pipelines, {}, None
        for each in (*pipelines.values(), self._receiver.pipeline):
            await each.close()
        await self._backend.close()
        if self._pulled.waiting:
            closed = MessageReceiveError(f'The transport for service {self.service_name} was closed')
            self._pulled.receive_failed(closed)
