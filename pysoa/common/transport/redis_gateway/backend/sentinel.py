"""The Sentinel backend: Redis masters found, and re-found after failover, through Redis Sentinel."""

import logging
import random
import threading
import time
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
from redis.sentinel import (
    MasterNotFoundError,
    Sentinel,
)

from pysoa.common.transport.redis_gateway.backend.base import (
    BaseRedisClient,
    CannotGetConnectionError,
)


__all__ = ('SentinelRedisClient',)

_logger = logging.getLogger('pysoa.common.transport.redis_gateway.backend.sentinel')


class SentinelRedisClient(BaseRedisClient):
    """
    Asks Redis Sentinel for the master of each service in ``sentinel_services`` (or, if not given, of every master
    the first reachable Sentinel monitors) and connects to it. Each service is one member of the ring.

    :param hosts: The Sentinels, as ``("host", port)`` tuples or host names (port 26379); by default
                  ``localhost:26379``.
    :param connection_kwargs: Arguments for the connections to the masters (``username``, ``password``, ``ssl``, ...).
    :param sentinel_services: The Sentinel service (master) names, in the order every client and server must share.
    :param sentinel_failover_retries: How many more times to look for a master that Sentinel cannot name (as during
                                      a failover), waiting a little longer each time.
    :param sentinel_kwargs: Arguments for the connections to the Sentinels themselves.
    """

    def __init__(
        self,
        hosts: Optional[Iterable[Union[str, Tuple[str, int]]]] = None,
        connection_kwargs: Optional[Dict[str, Any]] = None,
        sentinel_services: Optional[List[str]] = None,
        sentinel_failover_retries: int = 0,
        sentinel_kwargs: Optional[Dict[str, Any]] = None,
    ) -> None:
        if sentinel_failover_retries < 0:
            raise ValueError('sentinel_failover_retries must be a non-negative integer')
        if sentinel_services is not None and (
            not isinstance(sentinel_services, list) or not all(isinstance(s, str) for s in sentinel_services)
        ):
            raise ValueError('sentinel_services must be a list of service name strings')

        sentinel_hosts = [
            (host, 26379) if isinstance(host, str) else (host[0], host[1]) for host in (hosts or [('localhost', 26379)])
        ]
        connection_kwargs = dict(connection_kwargs or {})
        connection_kwargs.setdefault('socket_connect_timeout', 5.0)
        connection_kwargs.setdefault('socket_keepalive', True)
        connection_kwargs.setdefault('protocol', 2)  # RESP3 needs Redis 6+
        connection_kwargs.setdefault('socket_timeout', None)  # BLPOP waits as long as its own timeout says
        sentinel_kwargs = dict(sentinel_kwargs or {})
        sentinel_kwargs.setdefault('socket_connect_timeout', 5.0)
        sentinel_kwargs.setdefault('socket_timeout', 5.0)
        sentinel_kwargs.setdefault('socket_keepalive', True)

        self._sentinel = Sentinel(  # type: ignore[no-untyped-call]
            sentinel_hosts, sentinel_kwargs=sentinel_kwargs, **connection_kwargs,
        )
        self._services: List[str] = list(sentinel_services) if sentinel_services else self._discover_services()
        if not self._services:
            raise ValueError('Redis Sentinel monitors no masters, and no sentinel_services were given')
        self._failover_retries = sentinel_failover_retries
        self._master_clients: Dict[str, redis.Redis] = {}
        self._lock = threading.Lock()
        super().__init__(len(self._services))

    def _discover_services(self) -> List[str]:
        failures = []
        for sentinel in self._sentinel.sentinels:
            try:
                masters = sentinel.sentinel_masters()
            except redis.RedisError as e:
                failures.append(f'{sentinel!r}: {e!r}')
                continue
            return [str(name) for name in masters]
        raise redis.ConnectionError('Could not discover Sentinel services from any Sentinel: ' + '; '.join(failures))

    @property
    def services(self) -> List[str]:
        """The Sentinel service names, in ring order."""
        return list(self._services)

    def _get_connection(self, index: int) -> redis.Redis:
        if not 0 <= index < len(self._services):
            raise ValueError(f'There are only {len(self._services)} hosts, but you asked for connection {index}.')
        service = self._services[index]
        for attempt in range(self._failover_retries + 1):
            try:
                return self._get_master_client(service)
            except MasterNotFoundError:
                self.reset_clients()
                _logger.warning('Redis Sentinel cannot name a master for service %s (failover in progress?)', service)
                if attempt < self._failover_retries:
                    self.counter_factory('backend.sentinel.master_not_found_retry').increment()
                    time.sleep((2 ** attempt + random.random()) / 4.0)
        raise CannotGetConnectionError('Master not found; gave up reloading master info after failover.')

    def _get_master_client(self, service: str) -> redis.Redis:
        client = self._master_clients.get(service)
        if client is None:
            with self._lock:
                client = self._master_clients.get(service)
                if client is None:
                    address = self._sentinel.discover_master(service)  # type: ignore[no-untyped-call]
                    client = self._sentinel.master_for(service)  # type: ignore[no-untyped-call]
                    self._master_clients[service] = client
                    self.counter_factory('backend.sentinel.populate_master_client').increment()
                    _logger.info('Sentinel master for service %s is %s:%s', service, address[0], address[1])
        return client

    def reset_clients(self) -> None:
        # Connections in use by other threads are left alone; the dropped clients close theirs when collected.
        with self._lock:
            self._master_clients = {}
