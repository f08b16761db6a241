"""The standard Redis backend: a fixed list of Redis masters."""

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

from pysoa.common.transport.redis_gateway.backend._common import standard_hosts
from pysoa.common.transport.redis_gateway.backend.base import (
    BaseRedisClient,
    connection_settings,
)


__all__ = ('StandardRedisClient',)


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
        masters = standard_hosts(hosts)
        # No socket read timeout (redis-py 6+ defaults to 5 s): a BLPOP waits as long as its own timeout says.
        settings = connection_settings(connection_kwargs, socket_timeout=None)
        self._clients: List[redis.Redis] = [
            redis.Redis.from_url(master, **settings)
            if isinstance(master, str)
            else redis.Redis(host=master[0], port=master[1], **settings)
            for master in masters
        ]
        super().__init__(len(self._clients))

    def _get_connection(self, index: int) -> redis.Redis:
        if not 0 <= index < len(self._clients):
            raise ValueError(f'There are only {len(self._clients)} hosts, but you asked for connection {index}.')
        return self._clients[index]
