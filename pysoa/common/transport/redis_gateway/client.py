"""The client side of the Redis gateway transport."""

import threading
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
from pysoa.common.transport.redis_gateway.constants import DEFAULT_MAXIMUM_MESSAGE_BYTES_CLIENT
from pysoa.common.transport.redis_gateway.core import (
    ExpiredMessageReceived,
    RedisTransportClientCore,
)
from pysoa.common.transport.redis_gateway.settings import RedisClientTransportSchema
from pysoa.common.transport.redis_gateway.utils import make_redis_queue_name


__all__ = ('RedisClientTransport',)

_MICROSECONDS = TimerResolution.MICROSECONDS


class _ThreadState(threading.local):
    def __init__(self) -> None:
        self.requests_outstanding = 0
        self.previous_error_was_transport_problem = False


@fields.ClassConfigurationSchema.provider(RedisClientTransportSchema)
class RedisClientTransport(ClientTransport):
    """
    Sends requests to ``pysoa:service.<service_name>`` and receives responses on a reply queue of its own per
    thread (``pysoa:service.<service_name>.<client id>!<thread id>``).

    :param service_name: The service to call.
    :param metrics: The metrics recorder.
    :param kwargs: The transport settings (``RedisClientTransportSchema`` in ``redis_gateway.settings``);
                   ``backend_type`` is required.
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
        return self._state.requests_outstanding

    def send_request_message(
        self,
        request_id: int,
        meta: Dict[str, Any],
        body: Dict[str, Any],
        message_expiry_in_seconds: Optional[int] = None,
    ) -> None:
        state = self._state
        meta['reply_to'] = self._reply_queue_name_prefix + get_hex_thread_id()
        with self.metrics.timer('client.transport.redis_gateway.send', resolution=_MICROSECONDS):
            try:
                self.core.send_message(self._send_queue_name, request_id, meta, body, message_expiry_in_seconds)
            except TransientPySOATransportError:
                state.previous_error_was_transport_problem = True
                self.metrics.counter('client.transport.redis_gateway.send.error.transient').increment()
                raise
        control = body.get('control')
        if not (isinstance(control, dict) and control.get('suppress_response')):  # no response will come
            state.requests_outstanding += 1

    def receive_response_message(self, receive_timeout_in_seconds: Optional[int] = None) -> ReceivedMessage:
        state = self._state
        if state.requests_outstanding < 1:
            state.previous_error_was_transport_problem = False
            return ReceivedMessage(None, None, None)

        reply_queue_name = self._reply_queue_name_prefix + get_hex_thread_id()
        try:
            with self.metrics.timer('client.transport.redis_gateway.receive', resolution=_MICROSECONDS):
                message = self.core.receive_message(reply_queue_name, receive_timeout_in_seconds)
        except ExpiredMessageReceived:
            # The response was taken off the queue, too late to use: it is no longer outstanding.
            state.requests_outstanding -= 1
            self.metrics.counter('client.transport.redis_gateway.receive.error.timeout').increment()
            raise
        except MessageReceiveTimeout:
            if state.previous_error_was_transport_problem:
                # After a failover, responses to earlier requests may never come: stop waiting for them.
                state.requests_outstanding = 0
                state.previous_error_was_transport_problem = False
            self.metrics.counter('client.transport.redis_gateway.receive.error.timeout').increment()
            raise
        except InvalidMessageError:
            state.requests_outstanding = max(0, state.requests_outstanding - 1)
            raise
        except TransientPySOATransportError:
            state.previous_error_was_transport_problem = True
            self.metrics.counter('client.transport.redis_gateway.receive.error.transient').increment()
            raise

        state.requests_outstanding -= 1
        return message
