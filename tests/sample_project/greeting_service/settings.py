"""The greeting service's settings: ``python -m greeting_service -s greeting_service.settings``."""

import os


REDIS = {
    'backend_type': 'redis.standard',
    'backend_layer_kwargs': {'hosts': [(os.environ.get('REDIS_HOST', 'localhost'), 6379)]},
}

SOA_SERVER_SETTINGS = {
    'transport': {
        'path': 'pysoa.common.transport.redis_gateway.server:RedisServerTransport',
        'kwargs': REDIS,
    },
    'client_routing': {
        'user': {
            'transport': {
                'path': 'pysoa.common.transport.redis_gateway.client:RedisClientTransport',
                'kwargs': REDIS,
            },
        },
    },
}
