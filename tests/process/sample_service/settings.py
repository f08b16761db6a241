"""Settings read from the environment, so each test can point the service at its own Redis and files."""

import json
import os


_PORT = int(os.environ.get('SAMPLE_REDIS_PORT', '0'))

SOA_SERVER_SETTINGS = {
    'transport': {
        'path': 'pysoa.common.transport.redis_gateway.server:RedisServerTransport',
        'kwargs': {
            'backend_type': 'redis.standard',
            'backend_layer_kwargs': {'hosts': [('127.0.0.1', _PORT)]},
            'receive_timeout_in_seconds': 1,
        },
    },
    'heartbeat_file': os.environ.get('SAMPLE_HEARTBEAT_FILE') or None,
    'harakiri': json.loads(os.environ.get('SAMPLE_HARAKIRI', '{"timeout": 300, "shutdown_grace": 30}')),
}
