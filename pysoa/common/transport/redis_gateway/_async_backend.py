"""
The Redis masters of the asynchronous client transport, on ``redis.asyncio``: a fixed list (``redis.standard``) or the
masters Redis Sentinel names (``redis.sentinel``). Same settings, same connection defaults (timeouts, retries, TLS)
and same choice of master for each queue as the synchronous backends, so that both clients and every server agree on
where a reply queue lives.

The transport takes connections of its own (:meth:`AsyncRedisBackend.connect`) and keeps them: one to write requests
to each master, one to wait on its reply queue.
"""

import abc
import asyncio
import itertools
import logging
import random
from typing import (
    Any,
    Callable,
    Dict,
    Iterable,
    Iterator,
    List,
    Optional,
    Tuple,
    Union,
)

import redis
import redis.asyncio
import redis.asyncio.retry
import redis.asyncio.sentinel
from pymetrics.instruments import Counter
from redis.asyncio.connection import AbstractConnection
from redis.backoff import NoBackoff

from pysoa.common.transport.redis_gateway.backend._common import (
    discovery_failure_message,
    master_not_found_error,
    readable_sentinel_error,
    sentinel_address,
    sentinel_hosts,
    standard_hosts,
)
from pysoa.common.transport.redis_gateway.backend.base import (
    CannotGetConnectionError,
    connection_settings,
    hashed_ring_position,
)
from pysoa.common.transport.redis_gateway.constants import REDIS_BACKEND_TYPE_SENTINEL


__all__ = (
    'AsyncRedisBackend',
    'AsyncSentinelRedisBackend',
    'AsyncStandardRedisBackend',
    'async_connection_settings',
    'make_async_backend',
)

_logger = logging.getLogger('pysoa.common.transport.redis_gateway.backend.sentinel')

CounterFactory = Callable[[str], Counter]


def _async_retry(retry: Any) -> redis.asyncio.retry.Retry:
    """The ``redis.asyncio`` retry policy equal to a synchronous one (the connection settings may hold either)."""
    if isinstance(retry, redis.asyncio.retry.Retry):
        return retry
    if isinstance(retry, redis.retry.Retry):
        # The policy's parts have no public getters; they are plain attributes of redis-py's AbstractRetry.
        is_retryable = getattr(retry, 'is_retryable', None)  # redis-py 8 and later
        if is_retryable is None:
            return redis.asyncio.retry.Retry(retry._backoff, retry.get_retries(), retry._supported_errors)
        return redis.asyncio.retry.Retry(retry._backoff, retry.get_retries(), retry._supported_errors, is_retryable)
    raise ValueError(f'connection_kwargs["retry"] must be a redis.retry.Retry, not {retry!r}')


def async_connection_settings(
    connection_kwargs: Optional[Dict[str, Any]],
    socket_timeout: Optional[float],
    retry: Optional[redis.retry.Retry] = None,
) -> Dict[str, Any]:
    """
    :func:`pysoa.common.transport.redis_gateway.backend.base.connection_settings` (the user's settings over PySOA's
    defaults), with the retry policy made a ``redis.asyncio`` one.
    """
    settings = (
        connection_settings(connection_kwargs, socket_timeout)
        if retry is None
        else connection_settings(connection_kwargs, socket_timeout, retry)
    )
    settings['retry'] = _async_retry(settings['retry'])
    return settings


def _no_counter(name: str) -> Counter:
    return Counter(name)


class AsyncRedisBackend(abc.ABC):
    """
    A ring of Redis masters. A reply queue (its name contains ``!``) lives on the master its name hashes to, as for
    the synchronous backends and every server; requests are spread over the ring in a random cycle.
    """

    def __init__(self) -> None:
        self._ring_cycle: Optional[Iterator[int]] = None
        self.counter_factory: CounterFactory = _no_counter
        """Makes the transport's counters (``backend.sentinel.*``)."""

    @abc.abstractmethod
    async def ring_size(self) -> int:
        """The number of masters."""

    async def connection_index(self, queue_key: str) -> int:
        """The position in the ring of the master holding (or receiving) the queue with this key."""
        size = await self.ring_size()
        if '!' in queue_key:
            return hashed_ring_position(queue_key, size)
        if self._ring_cycle is None:
            order = list(range(size))
            random.shuffle(order)
            self._ring_cycle = itertools.cycle(order)
        return next(self._ring_cycle)

    @abc.abstractmethod
    async def connect(self, index: int) -> AbstractConnection:
        """
        A new connection to the master at ``index`` in the ring, connected, for the caller alone.

        :raises CannotGetConnectionError: If no master can be found (Sentinel).
        :raises redis.RedisError: If connecting failed.
        """

    @abc.abstractmethod
    async def close(self) -> None:
        """Close what the backend holds (not the connections handed out)."""


class AsyncStandardRedisBackend(AsyncRedisBackend):
    """
    The masters in ``hosts`` (by default ``localhost:6379``), with the arguments of
    :class:`pysoa.common.transport.redis_gateway.backend.standard.StandardRedisClient`.
    """

    def __init__(
        self,
        hosts: Optional[Iterable[Union[str, Tuple[str, int]]]] = None,
        connection_kwargs: Optional[Dict[str, Any]] = None,
    ) -> None:
        super().__init__()
        masters = standard_hosts(hosts)
        settings = async_connection_settings(connection_kwargs, socket_timeout=None)
        self._clients: List[redis.asyncio.Redis] = [
            redis.asyncio.Redis.from_url(master, **settings)
            if isinstance(master, str)
            else redis.asyncio.Redis(host=master[0], port=master[1], **settings)
            for master in masters
        ]

    async def ring_size(self) -> int:
        return len(self._clients)

    async def connect(self, index: int) -> AbstractConnection:
        connection: AbstractConnection = self._clients[index].connection_pool.make_connection()  # type: ignore[no-untyped-call]
        await connection.connect()  # type: ignore[no-untyped-call]
        return connection

    async def close(self) -> None:
        for client in self._clients:
            await client.aclose()


class AsyncSentinelRedisBackend(AsyncRedisBackend):
    """
    The masters Redis Sentinel names for each of ``sentinel_services`` (by default, every master the first Sentinel
    that answers monitors), with the arguments of
    :class:`pysoa.common.transport.redis_gateway.backend.sentinel.SentinelRedisClient`. Each connection asks the
    Sentinels for the current master when it connects, so a connection made after a failover reaches the new one.
    """

    def __init__(
        self,
        hosts: Optional[Iterable[Union[str, Tuple[str, int]]]] = None,
        connection_kwargs: Optional[Dict[str, Any]] = None,
        sentinel_services: Optional[List[str]] = None,
        sentinel_failover_retries: int = 0,
        sentinel_kwargs: Optional[Dict[str, Any]] = None,
    ) -> None:
        super().__init__()
        self._sentinel = redis.asyncio.sentinel.Sentinel(
            sentinel_hosts(hosts, sentinel_services, sentinel_failover_retries),
            # No retries: redis-py asks the next Sentinel instead, and an unreachable one costs a connect timeout.
            sentinel_kwargs=async_connection_settings(
                sentinel_kwargs,
                socket_timeout=5.0,
                retry=redis.retry.Retry(NoBackoff(), 0),
            ),
            **async_connection_settings(connection_kwargs, socket_timeout=None),
        )
        self._services: Optional[List[str]] = list(sentinel_services) if sentinel_services else None
        self._failover_retries = sentinel_failover_retries
        # Never dropped: connections refer to their pool, and the pool finds the current master for each new one.
        self._masters: Dict[str, redis.asyncio.Redis] = {}

    async def services(self) -> List[str]:
        """The Sentinel service names, in ring order (discovered on first use if not configured)."""
        if self._services is None:
            self._services = await self._discover_services()
        return self._services

    async def ring_size(self) -> int:
        return len(await self.services())

    async def _discover_services(self) -> List[str]:
        failures = []
        for sentinel in self._sentinel.sentinels:
            try:
                masters = await sentinel.sentinel_masters()
            except redis.RedisError as e:
                failures.append(f'{sentinel_address(sentinel)}: {e}')
                continue
            if not masters:
                raise CannotGetConnectionError(
                    'Cannot create the Redis backend: Redis Sentinel monitors no masters, and no sentinel_services '
                    'were given',
                )
            return [str(name) for name in masters]
        raise CannotGetConnectionError(f'Cannot create the Redis backend: {discovery_failure_message(failures)}')

    def _master(self, service: str) -> redis.asyncio.Redis:
        client = self._masters.get(service)
        if client is None:
            client = self._masters[service] = self._sentinel.master_for(service)
            self.counter_factory('backend.sentinel.populate_master_client').increment()
        return client

    async def connect(self, index: int) -> AbstractConnection:
        services = await self.services()
        service = services[index]
        reason = ''
        for attempt in range(self._failover_retries + 1):
            connection: AbstractConnection = self._master(service).connection_pool.make_connection()  # type: ignore[no-untyped-call]
            try:
                await connection.connect()  # type: ignore[no-untyped-call]
                return connection
            except redis.asyncio.sentinel.MasterNotFoundError as e:
                reason = readable_sentinel_error(e, self._sentinel.sentinels)
                _logger.warning('Redis Sentinel cannot name a master for service %s: %s', service, reason)
                if attempt < self._failover_retries:
                    self.counter_factory('backend.sentinel.master_not_found_retry').increment()
                    await asyncio.sleep((2**attempt + random.random()) / 4.0)
        raise master_not_found_error(service, reason)

    async def close(self) -> None:
        for client in self._masters.values():
            await client.aclose()
        for sentinel in self._sentinel.sentinels:
            await sentinel.aclose()


def make_async_backend(backend_type: str, backend_layer_kwargs: Dict[str, Any]) -> AsyncRedisBackend:
    """The backend for a transport's (normalized) ``backend_type`` and ``backend_layer_kwargs``."""
    if backend_type == REDIS_BACKEND_TYPE_SENTINEL:
        return AsyncSentinelRedisBackend(**backend_layer_kwargs)
    return AsyncStandardRedisBackend(**backend_layer_kwargs)
