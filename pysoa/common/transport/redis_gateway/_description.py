"""Which Redis a transport uses, in words, for logs and error messages: never its connection settings or passwords."""

import re
from typing import (
    Any,
    Iterable,
    Mapping,
    Optional,
    Tuple,
)

from pysoa.common.transport.redis_gateway.constants import REDIS_BACKEND_TYPE_SENTINEL


__all__ = ('describe_redis',)


def describe_redis(backend_type: str, backend_layer_kwargs: Mapping[str, Any]) -> str:
    """
    ``Redis host:port, ...``, ``Redis Sentinel services a, b (Sentinels host:port, ...)``, or ``the masters the Redis
    Sentinels host:port, ... monitor``, from normalized backend layer settings.
    """
    if backend_type == REDIS_BACKEND_TYPE_SENTINEL:
        sentinels = _addresses(backend_layer_kwargs.get('hosts'), default_port=26379)
        services = backend_layer_kwargs.get('sentinel_services')
        if services:
            return f'Redis Sentinel services {", ".join(services)} (Sentinels {sentinels})'
        return f'the masters the Redis Sentinels {sentinels} monitor'
    return f'Redis {_addresses(backend_layer_kwargs.get("hosts"), default_port=6379)}'


def _addresses(hosts: Optional[Iterable[Tuple[str, int]]], default_port: int) -> str:
    # A (deprecated) URL host may carry credentials: 'redis://user:password@host'.
    return ', '.join(
        f'{re.sub(r"//[^/@]*@", "//", host)}:{port}' for host, port in hosts or [('localhost', default_port)]
    )
