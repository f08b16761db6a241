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
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis.sentinel import (
    MasterNotFoundError,
    Sentinel,
)

from pysoa.common.transport.redis_gateway.backend._common import (
    discovery_failure_message,
    master_not_found_error,
    readable_sentinel_error,
    sentinel_address,
    sentinel_hosts,
)
from pysoa.common.transport.redis_gateway.backend.base import (
    BaseRedisClient,
    connection_settings,
)


__all__ = ('SentinelRedisClient',)

_logger = logging.getLogger('pysoa.common.transport.redis_gateway.backend.sentinel')

_NO_RETRY = Retry(NoBackoff(), 0)


class SentinelRedisClient(BaseRedisClient):
    """
    Asks Redis Sentinel for the master of each service in ``sentinel_services`` (or, if not given, of every master
    the first reachable Sentinel monitors) and connects to it. Each service is one member of the ring.

    :param hosts: The Sentinels, as ``("host", port)`` tuples or host names (port 26379); by default
                  ``localhost:26379``.
    :param connection_kwargs: Arguments for the connections to the masters (``username``, ``password``, ``ssl``, ...).
                              A certificate or CA file (``ssl_certfile``, ``ssl_ca_certs``, ...) switches TLS on;
                              host names are checked only with ``ssl_check_hostname: True``.
    :param sentinel_services: The Sentinel service (master) names, in the order every client and server must share.
    :param sentinel_failover_retries: How many more times to look for a master that Sentinel cannot name (as during
                                      a failover), waiting a little longer each time.
    :param sentinel_kwargs: Arguments for the connections to the Sentinels themselves (TLS as for the masters).
    """

    def __init__(
        self,
        hosts: Optional[Iterable[Union[str, Tuple[str, int]]]] = None,
        connection_kwargs: Optional[Dict[str, Any]] = None,
        sentinel_services: Optional[List[str]] = None,
        sentinel_failover_retries: int = 0,
        sentinel_kwargs: Optional[Dict[str, Any]] = None,
    ) -> None:
        self._sentinel = Sentinel(
            sentinel_hosts(hosts, sentinel_services, sentinel_failover_retries),
            # No retries: redis-py asks the next Sentinel instead, and an unreachable one costs a connect timeout.
            sentinel_kwargs=connection_settings(sentinel_kwargs, socket_timeout=5.0, retry=_NO_RETRY),
            # A BLPOP on a master waits as long as its own timeout says.
            **connection_settings(connection_kwargs, socket_timeout=None),
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
                failures.append(f'{sentinel_address(sentinel)}: {e}')
                continue
            return [str(name) for name in masters]
        raise redis.ConnectionError(discovery_failure_message(failures))

    @property
    def services(self) -> List[str]:
        """The Sentinel service names, in ring order."""
        return list(self._services)

    def _get_connection(self, index: int) -> redis.Redis:
        if not 0 <= index < len(self._services):
            raise ValueError(f'There are only {len(self._services)} hosts, but you asked for connection {index}.')
        service = self._services[index]
        reason = ''
        for attempt in range(self._failover_retries + 1):
            try:
                return self._get_master_client(service)
            except MasterNotFoundError as e:
                self.reset_clients()
                reason = readable_sentinel_error(e, self._sentinel.sentinels)
                _logger.warning('Redis Sentinel cannot name a master for service %s: %s', service, reason)
                if attempt < self._failover_retries:
                    self.counter_factory('backend.sentinel.master_not_found_retry').increment()
                    time.sleep((2**attempt + random.random()) / 4.0)
        raise master_not_found_error(service, reason)

    def _get_master_client(self, service: str) -> redis.Redis:
        client = self._master_clients.get(service)
        if client is None:
            with self._lock:
                client = self._master_clients.get(service)
                if client is None:
                    address = self._sentinel.discover_master(service)
                    client = self._sentinel.master_for(service)
                    self._master_clients[service] = client
                    self.counter_factory('backend.sentinel.populate_master_client').increment()
                    _logger.info('Sentinel master for service %s is %s:%s', service, address[0], address[1])
        return client

    def reset_clients(self) -> None:
        # Connections in use by other threads are left alone; the dropped clients close theirs when collected.
        with self._lock:
            self._master_clients = {}
        super().reset_clients()
