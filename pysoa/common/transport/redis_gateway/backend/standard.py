"""The standard Redis backend: a fixed list of Redis masters."""

import re
import warnings
from typing import (
    Any,
    Dict,
    Iterable,
    List,
    Optional,
    Tuple,
    Union,
)

import redis

from pysoa.common.transport.redis_gateway.backend.base import (
    BaseRedisClient,
    connection_settings,
)


__all__ = ('StandardRedisClient',)

_URL_HOST = re.compile(r'^(unix|rediss?)://')


class StandardRedisClient(BaseRedisClient):
    """
    Connects directly to each Redis master in ``hosts``, by default ``localhost:6379``.

    :param hosts: ``("host", port)`` tuples, plain host names (port 6379), or (deprecated) ``redis://``,
                  ``rediss://`` or ``unix://`` URLs.
    :param connection_kwargs: Arguments for every ``redis.Redis`` connection (``username``, ``password``, ``db``,
                              ``ssl``, ...); ``socket_connect_timeout`` defaults to 5 seconds and
                              ``socket_keepalive`` to true. A certificate or CA file (``ssl_certfile``,
                              ``ssl_ca_certs``, ...) switches TLS on; host names are checked only with
                              ``ssl_check_hostname: True``.
    """

    def __init__(
        self,
        hosts: Optional[Iterable[Union[str, Tuple[str, int]]]] = None,
        connection_kwargs: Optional[Dict[str, Any]] = None,
    ) -> None:
        if isinstance(hosts, (str, bytes)):
            raise ValueError('Redis hosts must be specified as an iterable list of hosts.')
        # No socket read timeout (redis-py 6+ defaults to 5 s): a BLPOP waits as long as its own timeout says.
        connection_kwargs = connection_settings(connection_kwargs, socket_timeout=None)

        self._clients: List[redis.Redis] = []
        for host in hosts or [('localhost', 6379)]:
            if isinstance(host, str) and _URL_HOST.match(host):
                warnings.warn(
                    'Redis URL hosts are deprecated; use (host, port) tuples and connection_kwargs instead',
                    DeprecationWarning,
                    stacklevel=2,
                )
                self._clients.append(redis.Redis.from_url(host, **connection_kwargs))
            elif isinstance(host, str):
                self._clients.append(redis.Redis(host=host, port=6379, **connection_kwargs))
            elif isinstance(host, tuple) and len(host) == 2 and isinstance(host[0], str) and isinstance(host[1], int):
                self._clients.append(redis.Redis(host=host[0], port=host[1], **connection_kwargs))
            else:
                raise ValueError(f'Redis host {host!r} must be a ("host", port) tuple or a host name string')
        super().__init__(len(self._clients))

    def _get_connection(self, index: int) -> redis.Redis:
        if not 0 <= index < len(self._clients):
            raise ValueError(f'There are only {len(self._clients)} hosts, but you asked for connection {index}.')
        return self._clients[index]
