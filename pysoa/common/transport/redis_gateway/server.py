"""The server side of the Redis gateway transport."""

from typing import (
    Any,
    Dict,
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
from pysoa.common.transport.redis_gateway.constants import DEFAULT_MAXIMUM_MESSAGE_BYTES_SERVER
from pysoa.common.transport.redis_gateway.core import RedisTransportServerCore
from pysoa.common.transport.redis_gateway.settings import RedisServerTransportSchema
from pysoa.common.transport.redis_gateway.utils import make_redis_queue_name


__all__ = ('RedisServerTransport',)

_MICROSECONDS = TimerResolution.MICROSECONDS


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
        reply_to = meta.get('reply_to')
        if not reply_to or not isinstance(reply_to, str):
            self.metrics.counter('server.transport.redis_gateway.send.error.missing_reply_queue').increment()
            raise InvalidMessageError('Missing reply queue name')
        with self.metrics.timer('server.transport.redis_gateway.send', resolution=_MICROSECONDS):
            self.core.send_message(reply_to, request_id, meta, body)


