"""What both Redis backends share: a ring of Redis clients, and how a queue picks its client."""

import abc
import binascii
import hashlib
import itertools
import random
from typing import (
    Any,
    Callable,
    Dict,
    Iterator,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
)

import redis
from pymetrics.instruments import Counter
from redis.backoff import EqualJitterBackoff
from redis.commands.core import Script
from redis.exceptions import NoScriptError
from redis.retry import Retry

from pysoa.common.transport.redis_gateway.backend._held_connections import HeldConnections


__all__ = (
    'BaseRedisClient',
    'CannotGetConnectionError',
    'LuaRedisCommand',
    'SendMessageToQueueCommand',
    'connection_settings',
    'hashed_ring_position',
)


class CannotGetConnectionError(Exception):
    """Raised when a backend cannot provide a Redis connection (for example, no Sentinel master during failover)."""


class LuaRedisCommand:
    """
    A Lua script run atomically by Redis: loaded once per server and called by SHA, reloaded if Redis forgot it.

    :param script: The Lua source.
    """

    script: str = ''

    def __init__(self, script: Optional[str] = None) -> None:
        self._source = (script or self.script).encode('utf-8')
        self._script = Script(None, self._source)  # type: ignore[arg-type]
        self.sha = hashlib.sha1(self._source).hexdigest()

    def __call__(self, client: redis.Redis, keys: Sequence[Any], args: Sequence[Any]) -> Any:
        return self._script(keys=list(keys), args=list(args), client=client)

    def run(self, connections: HeldConnections, client: redis.Redis, keys: Sequence[Any], args: Sequence[Any]) -> Any:
        """Run the script on the thread's held connection to ``client`` (see :class:`HeldConnections`)."""
        return self.run_then_pop(connections, client, keys, args, None)

    def run_then_pop(
        self,
        connections: HeldConnections,
        client: redis.Redis,
        keys: Sequence[Any],
        args: Sequence[Any],
        then_pop: Optional[Tuple[str, int]],
    ) -> Any:
        """
        :meth:`run`, and with ``then_pop=(queue_key, timeout)``, a ``BLPOP`` pipelined right behind it, left pending
        for :meth:`HeldConnections.pop` (see :meth:`HeldConnections.execute_then_pop`).
        """
        command = ('EVALSHA', self.sha, len(keys), *keys, *args)
        try:
            if then_pop is None:
                return connections.execute(client, *command)
            return connections.execute_then_pop(client, command, *then_pop)
        except NoScriptError:
            connections.execute(client, 'SCRIPT', 'LOAD', self._source)
            return connections.execute(client, *command)


class SendMessageToQueueCommand(LuaRedisCommand):
    """
    Append frames to a queue unless it is full, and (re)set its time to live. Keys: the queue. Arguments: the time to
    live in seconds, the queue capacity, then the frames. Returns the error reply ``queue full`` if the queue holds
    ``capacity`` or more messages. All frames of a chunked response go in one call, so that concurrent responses to
    the same queue can never interleave their chunks.
    """

    script = """
if redis.call('llen', KEYS[1]) >= tonumber(ARGV[2]) then
    return redis.error_reply('queue full')
end
redis.call('rpush', KEYS[1], unpack(ARGV, 3))
redis.call('expire', KEYS[1], ARGV[1])
return true
"""


send_message_to_queue = SendMessageToQueueCommand()


def hashed_ring_position(queue_key: str, ring_size: int) -> int:
    """
    The position in a ring of ``ring_size`` Redis masters of the master a reply queue lives on: the low 12 bits of the
    CRC-32 of its key (``pysoa:<queue name>``), scaled to the ring. Every client and server computes it the same way,
    so that they agree on where each reply queue is.
    """
    return int((binascii.crc32(queue_key.encode('utf-8')) & 0xFFF) / (4096.0 / ring_size))


class BaseRedisClient(metaclass=abc.ABCMeta):
    """
    A ring of ``ring_size`` Redis masters. A response queue (its name contains ``!``) always lives on the master its
    name hashes to, so that the server and the client agree on it; request queues are spread over the ring in a
    random cycle.

    :param ring_size: The number of masters.
    """

    def __init__(self, ring_size: int) -> None:
        self._ring_size = ring_size
        order = list(range(ring_size))
        random.shuffle(order)
        self._ring_cycle: Iterator[int] = itertools.cycle(order)
        self.counter_factory: Callable[[str], Counter] = _no_counter
        self.held_connections = HeldConnections()

    def get_connection(self, queue_key: str) -> redis.Redis:
        """
        The Redis client for the queue with this key.

        :raises CannotGetConnectionError: If no connection can be had.
        """
        return self._get_connection(self.get_connection_index(queue_key))

    def get_connection_index(self, queue_key: str) -> int:
        """The position in the ring of the master holding (or receiving) the queue with this key."""
        if '!' in queue_key:
            return hashed_ring_position(queue_key, self._ring_size)
        return next(self._ring_cycle)

    def send_message_to_queue(
        self,
        connection: redis.Redis,
        queue_key: str,
        frames: List[bytes],
        expiry: int,
        capacity: int,
        then_pop: Optional[Tuple[str, int]] = None,
    ) -> None:
        """
        Atomically append ``frames`` to the queue unless it is full.

        :param then_pop: ``(queue_key, timeout)`` to start a :meth:`pop` of that queue (which must live on the same
                         Redis) in the same round trip; the next :meth:`pop` of it on this thread gets its result.
                         Ignored unless the ring has one master.

        :raises redis.exceptions.ResponseError: ``queue full`` if the queue is full, or any other Redis error.
        """
        send_message_to_queue.run_then_pop(
            self.held_connections,
            connection,
            [queue_key],
            [expiry, capacity, *frames],
            then_pop if self._ring_size == 1 else None,
        )

    def pop(self, connection: redis.Redis, queue_key: str, timeout: int) -> Optional[bytes]:
        """
        Take the first message off the queue, waiting up to ``timeout`` seconds (``BLPOP``); ``None`` if none came.

        :raises redis.exceptions.RedisError: If Redis cannot be reached or fails.
        """
        result = self.held_connections.pop(connection, queue_key, timeout)
        return None if result is None else result[1]

    def take_back_pending_pop(self, connection: redis.Redis, queue_key: str) -> Optional[bytes]:
        """
        Wait for the pop that :meth:`send_message_to_queue` started on this thread with ``then_pop``, if any, and
        return the message it took (which nobody else can now receive), or ``None``.
        """
        result = self.held_connections.take_back_pending_pop(connection, queue_key)
        return None if result is None else result[1]

    @abc.abstractmethod
    def _get_connection(self, index: int) -> redis.Redis:
        """The client of the master at ``index`` in the ring."""

    def reset_clients(self) -> None:
        """Forget cached connections after an error, so that the next use finds the current masters."""
        self.held_connections.forget_all()


#: ``connection_kwargs`` keys that ask for TLS on their own, as PySOA 1.4.9 services configure it.
_TLS_FILE_KEYS = ('ssl_certfile', 'ssl_keyfile', 'ssl_ca_certs', 'ssl_ca_path', 'ssl_ca_data')

#: How many times redis-py retries a command that failed to connect or lost its connection.
DEFAULT_CONNECTION_RETRIES = 2

#: redis-py's retry policy for PySOA's connections, unless ``connection_kwargs['retry']`` says otherwise:
#: :data:`DEFAULT_CONNECTION_RETRIES` retries after 25-50 then 50-100 milliseconds, enough to replace a connection
#: Redis closed, and short enough that an unreachable Redis fails a call well within its timeout. (redis-py's own
#: default retries for seconds.) redis-py copies it into each connection.
DEFAULT_CONNECTION_RETRY = Retry(EqualJitterBackoff(cap=0.1, base=0.025), DEFAULT_CONNECTION_RETRIES)


def connection_settings(
    connection_kwargs: Optional[Mapping[str, Any]],
    socket_timeout: Optional[float],
    retry: Retry = DEFAULT_CONNECTION_RETRY,
) -> Dict[str, Any]:
    """
    The keyword arguments for ``redis.Redis`` (or a Sentinel) connections: the user's ``connection_kwargs`` over
    PySOA's defaults, which include a retry policy (by default the quick :data:`DEFAULT_CONNECTION_RETRY`). Naming a
    certificate or CA file (``ssl_certfile``, ``ssl_ca_certs``, ...) switches TLS on, as it did in 1.4.9, unless
    ``ssl`` is set to false; with TLS, host names are only checked when ``ssl_check_hostname`` asks for it (redis-py 6
    and later check by default, the versions 1.4.9 ran on did not).

    :param connection_kwargs: What the settings say, or ``None``.
    :param socket_timeout: The default socket read timeout in seconds (``None``: wait as long as the command says).
    :param retry: The default retry policy.
    """
    settings = dict(connection_kwargs or {})
    settings.setdefault('socket_connect_timeout', 5.0)
    settings.setdefault('socket_keepalive', True)
    settings.setdefault('protocol', 2)  # RESP2 works with every Redis PySOA supports; RESP3 needs Redis 6+
    settings.setdefault('socket_timeout', socket_timeout)
    settings.setdefault('retry', retry)
    if 'ssl' not in settings and any(key in settings for key in _TLS_FILE_KEYS):
        settings['ssl'] = True
    if settings.get('ssl'):
        settings.setdefault('ssl_check_hostname', False)
    return settings


def _no_counter(name: str) -> Counter:
    return Counter(name)
