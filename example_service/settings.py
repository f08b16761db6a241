"""
The example service's settings. The Redis it uses is ``$EXAMPLE_REDIS_HOST``:``$EXAMPLE_REDIS_PORT`` (default
127.0.0.1:6379).
"""

import os


REDIS_HOST = os.environ.get('EXAMPLE_REDIS_HOST', '127.0.0.1')
REDIS_PORT = int(os.environ.get('EXAMPLE_REDIS_PORT', '6379'))

REDIS_TRANSPORT_KWARGS = {
    'backend_type': 'redis.standard',
    'backend_layer_kwargs': {'hosts': [(REDIS_HOST, REDIS_PORT)]},
}

SOA_SERVER_SETTINGS = {
    'transport': {
        'path': 'pysoa.common.transport.redis_gateway.server:RedisServerTransport',
        'kwargs': {**REDIS_TRANSPORT_KWARGS, 'receive_timeout_in_seconds': 1},
    },
    # How `request.client` reaches other services. `sum_of_squares` calls this same service; it runs those calls
    # in-process (local transport), since routing them through Redis back to this service could leave a single
    # worker waiting for itself. To call another service, route it through Redis like CLIENT_SETTINGS below does.
    'client_routing': {
        'example': {
            'transport': {
                'path': 'pysoa.common.transport.local:LocalClientTransport',
                'kwargs': {'server_class': 'example_service.server:ExampleServer', 'server_settings': {}},
            },
        },
    },
    'harakiri': {'timeout': 30, 'shutdown_grace': 5},
    'logging': {
        'version': 1,
        'formatters': {'console': {'format': '%(asctime)s %(levelname)7s %(correlation_id)s: %(message)s'}},
        'filters': {'pysoa_logging_context_filter': {'()': 'pysoa.common.logging.PySOALogContextFilter'}},
        'handlers': {
            'console': {
                'class': 'logging.StreamHandler',
                'formatter': 'console',
                'filters': ['pysoa_logging_context_filter'],
            },
        },
        'root': {'handlers': ['console'], 'level': os.environ.get('EXAMPLE_LOG_LEVEL', 'WARNING')},
        'disable_existing_loggers': False,
    },
}

CLIENT_SETTINGS = {
    'example': {
        'transport': {
            'path': 'pysoa.common.transport.redis_gateway.client:RedisClientTransport',
            'kwargs': REDIS_TRANSPORT_KWARGS,
        },
    },
}
