"""The client side of the Redis gateway transport."""

import logging
import math
import threading
import time
import uuid
from typing import (
    Any,
    Dict,
    Optional,
)

from conformity import fields
from pymetrics.instruments import TimerResolution
from pymetrics.recorders.base import MetricsRecorder

from pysoa.common.transport.base import (
    ClientTransport,
    ReceivedMessage,
    get_hex_thread_id,
)
from pysoa.common.transport.errors import (
    InvalidMessageError,
    MessageReceiveTimeout,
    TransientPySOATransportError,
)
from pysoa.common.transport.redis_gateway._description import describe_redis
from pysoa.common.transport.redis_gateway._messages import QUEUE_PREFIX
from pysoa.common.transport.redis_gateway.constants import DEFAULT_MAXIMUM_MESSAGE_BYTES_CLIENT
from pysoa.common.transport.redis_gateway.core import (
    ExpiredMessageReceived,
    RedisTransportClientCore,
)
from pysoa.common.transport.redis_gateway.settings import RedisClientTransportSchema
from pysoa.common.transport.redis_gateway.utils import make_redis_queue_name


__all__ = ('RedisClientTransport',)

_logger = logging.getLogger('pysoa.common.transport.redis_gateway.client')
_MICROSECONDS = TimerResolution.MICROSECONDS


class _ThreadState(threading.local):
    def __init__(self) -> None:
        # The ids of the requests awaiting a response, oldest first (a dict is an ordered set).
        self.outstanding: Dict[int, None] = {}
        self.previous_error_was_transport_problem = False


@fields.ClassConfigurationSchema.provider(RedisClientTransportSchema)
class RedisClientTransport(ClientTransport):
    """
    Sends requests to ``pysoa:service.<service_name>`` and receives responses on a reply queue of its own per
    thread (``pysoa:service.<service_name>.<client id>!<thread id>``).

    Each thread keeps the ids of its requests awaiting a response. Anything else that arrives on its reply queue
    (a message that cannot be read, or a response to a request it never sent, already received or stopped waiting
    for, expired or not) is dropped with a warning on the logger ``pysoa.common.transport.redis_gateway.client`` and
    counted in the metric ``client.transport.redis_gateway.receive.error.invalid_message`` or
    ``...receive.error.unsolicited_message``; the receive then goes on waiting, within its timeout.

    :param service_name: The service to call.
    :param metrics: The metrics recorder.
    :param kwargs: The transport settings (``RedisClientTransportSchema`` in ``redis_gateway.settings``);
                   ``backend_type`` is required.
    """

    maximum_outstanding_requests: int = 100000
    """
    How many requests awaiting a response one thread keeps track of. Past this (only a thread that sends request
    after request whose responses never come gets there), it stops waiting for the oldest, with a warning and the
    metric ``client.transport.redis_gateway.outstanding_request_forgotten``.
    """

    pipelined_receive: bool = True
    """
    Whether sending a request also starts the wait for its response, in the same round trip to Redis (it saves a
    round trip per call when the service's queue and the reply queue live on the same Redis, as with one host).
    Switch it off only to leave responses on the reply queue until :meth:`receive_response_message` is called, for
    instance to look at them in Redis.
    """

    def __init__(self, service_name: str, metrics: MetricsRecorder, **kwargs: Any) -> None:
        super().__init__(service_name, metrics)
        kwargs.setdefault('maximum_message_size_in_bytes', DEFAULT_MAXIMUM_MESSAGE_BYTES_CLIENT)
        kwargs.setdefault('log_messages_larger_than_bytes', DEFAULT_MAXIMUM_MESSAGE_BYTES_CLIENT)
        self.client_id = uuid.uuid4().hex
        self._send_queue_name = make_redis_queue_name(service_name)
        self._reply_queue_name_prefix = f'{self._send_queue_name}.{self.client_id}!'
        self.core = RedisTransportClientCore(
            service_name=service_name,
            metrics=metrics,
            metrics_prefix='client.transport.redis_gateway.',
            **kwargs,
        )
        self._state = _ThreadState()

    @property
    def requests_outstanding(self) -> int:
        """
        How many requests this thread has sent whose responses it has not received. While it is below 1,
        :meth:`receive_response_message` returns ``(None, None, None)`` at once instead of waiting.
        """
        return len(self._state.outstanding)

    def send_request_message(
        self,
        request_id: int,
        meta: Dict[str, Any],
        body: Dict[str, Any],
        message_expiry_in_seconds: Optional[int] = None,
    ) -> None:
        """
        Send a request. The request expires ``message_expiry_in_seconds`` from now (by default after the
        ``message_expiry_in_seconds`` setting); while the service's queue is full, sending is retried up to
        ``queue_full_retries`` times, but never past that expiry.
        """
        state = self._state
        meta['reply_to'] = reply_to = self._reply_queue_name_prefix + get_hex_thread_id()
        control = body.get('control')
        suppress_response = isinstance(control, dict) and control.get('suppress_response')
        with self.metrics.timer('client.transport.redis_gateway.send', resolution=_MICROSECONDS):
            try:
                # The wait for the response starts in the same round trip as the request.
                self.core.send_message(
                    self._send_queue_name,
                    request_id,
                    meta,
                    body,
                    message_expiry_in_seconds,
                    then_receive_from=reply_to if self.pipelined_receive and not suppress_response else None,
                    receive_timeout_in_seconds=message_expiry_in_seconds,
                )
            except TransientPySOATransportError:
                state.previous_error_was_transport_problem = True
                self.metrics.counter('client.transport.redis_gateway.send.error.transient').increment()
                raise
        if suppress_response:
            return  # no response will come
        outstanding = state.outstanding
        outstanding[request_id] = None
        if len(outstanding) > self.maximum_outstanding_requests:
            forgotten = next(iter(outstanding))
            del outstanding[forgotten]
            self.metrics.counter('client.transport.redis_gateway.outstanding_request_forgotten').increment()
            _logger.warning(
                'Stopped waiting for the response to request %s to service %s: this thread has more than %s requests '
                'awaiting a response. Are responses getting lost, or calls abandoned?',
                forgotten,
                self.service_name,
                self.maximum_outstanding_requests,
            )

    def receive_response_message(self, receive_timeout_in_seconds: Optional[int] = None) -> ReceivedMessage:
        """
        Receive the response to one of this thread's outstanding requests, dropping anything else that arrives,
        waiting up to ``receive_timeout_in_seconds`` in all (by default the ``receive_timeout_in_seconds`` setting).

        :raises MessageReceiveTimeout: If no response arrived in time, or the one that arrived had expired (an
                                       :class:`ExpiredMessageReceived`: that request is no longer outstanding).
        """
        state = self._state
        outstanding = state.outstanding
        if not outstanding:
            state.previous_error_was_transport_problem = False
            return ReceivedMessage(None, None, None)

        reply_queue_name = self._reply_queue_name_prefix + get_hex_thread_id()
        timeout = total_timeout = receive_timeout_in_seconds or self.core.receive_timeout_in_seconds
        deadline = time.monotonic() + timeout
        while True:
            try:
                with self.metrics.timer('client.transport.redis_gateway.receive', resolution=_MICROSECONDS):
                    message = self.core.receive_message(reply_queue_name, timeout)
            except ExpiredMessageReceived as e:
                if _claim(outstanding, e.request_id):
                    self.metrics.counter('client.transport.redis_gateway.receive.error.timeout').increment()
                    raise
                self._drop_unsolicited('an expired response', e.request_id)
            except MessageReceiveTimeout:
                if state.previous_error_was_transport_problem:
                    # After a failover, responses to earlier requests may never come: stop waiting for them.
                    outstanding.clear()
                    state.previous_error_was_transport_problem = False
                self.metrics.counter('client.transport.redis_gateway.receive.error.timeout').increment()
                raise self._no_response(total_timeout, reply_queue_name) from None
            except InvalidMessageError as e:
                self.metrics.counter('client.transport.redis_gateway.receive.error.invalid_message').increment()
                _logger.warning(
                    'Dropped an unreadable message from the reply queue of service %s: %s', self.service_name, e
                )
            except TransientPySOATransportError:
                state.previous_error_was_transport_problem = True
                self.metrics.counter('client.transport.redis_gateway.receive.error.transient').increment()
                raise
            else:
                if _claim(outstanding, message.request_id):
                    return message
                self._drop_unsolicited('a response', message.request_id)

            # Whole seconds (before Redis 6, a fraction of a second is not a valid BLPOP timeout), rounded up.
            timeout = math.ceil(deadline - time.monotonic())
            if timeout <= 0:
                self.metrics.counter('client.transport.redis_gateway.receive.error.timeout').increment()
                raise self._no_response(total_timeout, reply_queue_name)

    def _no_response(self, timeout: float, reply_queue_name: str) -> MessageReceiveTimeout:
        """The error for a wait of ``timeout`` seconds that no response ended: where to look, and the likely cause."""
        redis = describe_redis(self.core.backend_type, self.core.backend_layer_kwargs)
        return MessageReceiveTimeout(
            f'No response from service {self.service_name} arrived within {timeout} seconds (on reply queue '
            f'{QUEUE_PREFIX}{reply_queue_name}). The request went to queue {QUEUE_PREFIX}{self._send_queue_name} on '
            f'{redis}: if no server of service {self.service_name} is consuming that queue (none is running, or they '
            f'use another Redis or database), or all are busy, requests wait there until they expire.',
        )

    def _drop_unsolicited(self, what: str, request_id: Any) -> None:
        self.metrics.counter('client.transport.redis_gateway.receive.error.unsolicited_message').increment()
        _logger.warning(
            'Dropped %s to request %r from service %s, which this thread is not waiting for (it never sent that '
            'request, already received its response, or stopped waiting for it)',
            what,
            request_id,
            self.service_name,
        )


def _claim(outstanding: Dict[int, None], request_id: Any) -> bool:
    """Stop waiting for ``request_id`` and return ``True``, or return ``False`` if it was not outstanding."""
    try:
        del outstanding[request_id]
    except (KeyError, TypeError):  # a TypeError if a stray message's "request id" is not even hashable
        return False
    return True
