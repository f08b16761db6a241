"""Settings read from the environment, so each test can point the service at its own Redis and files."""

import json
import os
from typing import (
    Any,
    Dict,
)

from redis.backoff import NoBackoff
from redis.retry import Retry


_PORT = int(os.environ.get('SAMPLE_REDIS_PORT', '0'))
_CONNECTION_KWARGS: Dict[str, Any] = {}
if os.environ.get('SAMPLE_REDIS_PASSWORD'):
    _CONNECTION_KWARGS['password'] = os.environ['SAMPLE_REDIS_PASSWORD']
if os.environ.get('SAMPLE_REDIS_NO_RETRY'):
    # Fail at once when Redis cannot be reached, instead of after redis-py's own retries (seconds each time).
    _CONNECTION_KWARGS['retry'] = Retry(NoBackoff(), 0)

SOA_SERVER_SETTINGS = {
    'transport': {
        'path': 'pysoa.common.transport.redis_gateway.server:RedisServerTransport',
        'kwargs': {
            'backend_type': 'redis.standard',
            'backend_layer_kwargs': {
                'hosts': [('127.0.0.1', _PORT)],
                'connection_kwargs': _CONNECTION_KWARGS,
            },
            'receive_timeout_in_seconds': 1,
        },
    },
    'heartbeat_file': os.environ.get('SAMPLE_HEARTBEAT_FILE') or None,
    'harakiri': json.loads(os.environ.get('SAMPLE_HARAKIRI', '{"timeout": 300, "shutdown_grace": 30}')),
}
