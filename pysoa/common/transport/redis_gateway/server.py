"""The server side of the Redis gateway transport."""

import re
from typing import (
    Any,
    Dict,
    Optional,
)

from conformity import fields
from pymetrics.instruments import TimerResolution
from pymetrics.recorders.base import MetricsRecorder

from pysoa.common.transport.base import (
    ReceivedMessage,
    ServerTransport,
)
from pysoa.common.transport.errors import (
    InvalidMessageError,
)
from pysoa.common.transport.redis_gateway._description import describe_redis
from pysoa.common.transport.redis_gateway._messages import QUEUE_PREFIX
from pysoa.common.transport.redis_gateway.constants import DEFAULT_MAXIMUM_MESSAGE_BYTES_SERVER
from pysoa.common.transport.redis_gateway.core import RedisTransportServerCore
from pysoa.common.transport.redis_gateway.settings import RedisServerTransportSchema
from pysoa.common.transport.redis_gateway.utils import make_redis_queue_name


__all__ = ('RedisServerTransport',)

_MICROSECONDS = TimerResolution.MICROSECONDS

# How clients name their reply queues (see RedisClientTransport), the '!' marker only before the thread id, and no
# whitespace, control characters or lone surrogates. Request queues ('service.<name>') and other keys never match.
_REPLY_QUEUE_NAME = re.compile(r'service\.[^\s!\x00-\x1f\x7f\ud800-\udfff]+\.[0-9a-fA-F]+![0-9a-fA-F]+')


@fields.ClassConfigurationSchema.provider(RedisServerTransportSchema)
class RedisServerTransport(ServerTransport):
    """
    Receives requests from ``pysoa:service.<service_name>`` and sends each response to the reply queue its request
    names, in the protocol version and content type of the request.

    :param service_name: The service whose requests to receive.
    :param metrics: The metrics recorder.
    :param instance_index: The 1-based index of this process among its forked siblings.
    :param kwargs: The transport settings (``RedisServerTransportSchema`` in ``redis_gateway.settings``);
                   ``backend_type`` is required.
    """

    def __init__(self, service_name: str, metrics: MetricsRecorder, instance_index: int = 1, **kwargs: Any) -> None:
        super().__init__(service_name, metrics, instance_index)
        kwargs.setdefault('maximum_message_size_in_bytes', DEFAULT_MAXIMUM_MESSAGE_BYTES_SERVER)
        kwargs.setdefault('log_messages_larger_than_bytes', DEFAULT_MAXIMUM_MESSAGE_BYTES_SERVER)
        self._receive_queue_name = make_redis_queue_name(service_name)
        self._then_receive_from: Optional[str] = None
        self.core = RedisTransportServerCore(
            service_name=service_name,
            metrics=metrics,
            metrics_prefix='server.transport.redis_gateway.',
            **kwargs,
        )

    def receive_request_message(self) -> ReceivedMessage:
        timer = self.metrics.timer('server.transport.redis_gateway.receive', resolution=_MICROSECONDS)
        timer.start()
        message = self.core.receive_message(self._receive_queue_name)
        timer.stop()  # an idle poll (MessageReceiveTimeout) records no receive time
        return message

    def send_response_message(self, request_id: int, meta: Dict[str, Any], body: Dict[str, Any]) -> None:
        """
        Send a response to the reply queue named by ``meta['reply_to']``.

        :raises InvalidMessageError: If ``reply_to`` is missing or is not the name of a reply queue (so that a request
                                     cannot have the reply pushed onto a request queue or any other key), or if the
                                     request id or meta, which the response echoes, cannot be serialized. Also
                                     raised by Redis refusing the reply queue's key (it holds a value that is not a
                                     list): each is the request's problem, not the transport's.
        """
        reply_to = meta.get('reply_to')
        if not reply_to or not isinstance(reply_to, str):
            self.metrics.counter('server.transport.redis_gateway.send.error.missing_reply_queue').increment()
            raise InvalidMessageError('Missing reply queue name')
        if not _REPLY_QUEUE_NAME.fullmatch(reply_to):
            self.metrics.counter('server.transport.redis_gateway.send.error.invalid_reply_queue').increment()
            raise InvalidMessageError(
                f'Reply queue name {reply_to!r} is not a reply queue: clients name them '
                f"'service.<service name>.<hexadecimal client id>!<hexadecimal thread id>'",
            )
        with self.metrics.timer('server.transport.redis_gateway.send', resolution=_MICROSECONDS):
            # While the server serves one request after the other, the wait for the next request starts in the same
            # round trip as the response.
            self.core.send_message(reply_to, request_id, meta, body, then_receive_from=self._then_receive_from)

    def start_receiving(self) -> None:
        """From now on, the wait for the next request starts in the same round trip that sends a response."""
        self._then_receive_from = self._receive_queue_name

    def stop_receiving(self) -> None:
        """
        Stop starting the wait for the next request with each response, and put back the request that the last such
        wait took, if it took one, at the head of the queue, so that another server receives it next.
        """
        self._then_receive_from = None
        self.core.take_back_pending_receive(self._receive_queue_name)

    def describe(self) -> str:
        """
        Where this transport receives requests, for the server's start-up log: the queue and the Redis hosts (or the
        Sentinels and their services). Connection settings, passwords among them, are left out.
        """
        redis = describe_redis(self.core.backend_type, self.core.backend_layer_kwargs)
        return f'queue {QUEUE_PREFIX}{self._receive_queue_name} of {redis}'
