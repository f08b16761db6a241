"""The settings a :class:`pysoa.client.client.Client` uses for each service it calls."""

from conformity import fields

from pysoa.client.middleware import ClientMiddleware
from pysoa.common.settings import SOASettings
from pysoa.common.transport.base import ClientTransport


__all__ = ('ClientSettings',)


class ClientSettings(SOASettings):
    """
    The settings for calling one service: transport (by default the Redis gateway client transport, which needs at
    least ``kwargs.backend_type``), client middleware, and metrics. A client's configuration is a dict of these,
    keyed by service name.
    """

    schema = {
        'transport': fields.ClassConfigurationSchema(base_class=ClientTransport),
        'middleware': fields.List(
            fields.ClassConfigurationSchema(base_class=ClientMiddleware),
            description='The list of all `ClientMiddleware` objects that should be applied to requests made from this '
                        'client to the associated service',
        ),
    }

    defaults = {
        'transport': {'path': 'pysoa.common.transport.redis_gateway.client:RedisClientTransport'},
    }
