"""
Commands run on a connection each thread keeps, instead of through redis-py's per-command machinery, and the one
pipelined pair a transport uses: a send followed by the ``BLPOP`` that waits for what comes next.

A transport sends two commands per message direction (the enqueue script, and ``BLPOP``), always on the same Redis
client, from the same thread. ``redis.Redis.execute_command`` checks a connection out of the pool and back in around
every command; keeping one connection per thread and client skips that work. The commands, keys and bytes on the
wire are the same (packed by hiredis, several times faster than redis-py's packer).

:meth:`HeldConnections.execute_then_pop` writes a command and a ``BLPOP`` in one go and returns the command's reply
at once; the ``BLPOP`` stays pending on that connection, which is *parked* until :meth:`HeldConnections.pop` reads
it. Meanwhile other commands of the thread use another connection. A client that sends a request and then waits for
its response, or a server that sends a response and then waits for the next request, saves a round trip each time.
"""

import math
import os
import threading
import time
from typing import (
    Any,
    Dict,
    NamedTuple,
    Tuple,
)

import redis
from redis.connection import Connection

from pysoa.common.transport.redis_gateway.backend._packing import pack_command


__all__ = ('HeldConnections',)

#: Errors after which a connection is not trusted again (the command may be tried once more on a new one).
_CONNECTION_ERRORS = (redis.ConnectionError, redis.TimeoutError, OSError)


_TIMED_OUT = object()
_UNUSABLE = object()


class _Held(NamedTuple):
    client: redis.Redis
    connection: Connection
    generation: int
    pid: int


class _Parked(NamedTuple):
    """A connection with a ``BLPOP`` pending on it: its reply is the next thing the connection reads."""

    held: _Held
    timeout: int
    deadline: float  # time.monotonic() by which Redis answers the BLPOP (with nil at worst)


class _ThreadConnections:
    """One thread's connections, given back to their pools when the thread ends (and its local data goes)."""

    def __init__(self) -> None:
        self.held: Dict[int, _Held] = {}  # by id(client): a held client stays alive, so no other has its id
        self.parked: Dict[Tuple[int, str], _Parked] = {}  # by (id(client), queue key)

    def __del__(self) -> None:
        pid = os.getpid()
        for held in [*self.held.values(), *(parked.held for parked in self.parked.values())]:
            if held.pid == pid:
                try:
                    _release(held, disconnect=True)
                except Exception:  # nothing to report to at thread or interpreter teardown
                    pass


class _PerThread(threading.local):
    def __init__(self) -> None:
        self.connections = _ThreadConnections()


class HeldConnections:
    """
    The connections this backend's threads keep, one per thread and Redis client (two while a ``BLPOP`` is pending
    on one of them). :meth:`forget_all` (after a failover, for instance) makes every thread take new ones on its next
    command.
    """

    def __init__(self) -> None:
        self._threads = _PerThread()
        self._generation = 0

    def forget_all(self) -> None:
        """Let every thread drop its connections before its next command."""
        self._generation += 1

    def execute(self, client: redis.Redis, *command: Any) -> Any:
        """
        Run one command on this thread's connection to ``client``'s server and return Redis's raw reply (no
        redis-py response callback). If the connection fails, it is dropped and the command tried once more on a new
        one (connecting itself follows the client's retry policy).

        :raises redis.RedisError: Redis's error reply (``ResponseError`` and its subclasses), or the connection error
                                  of the second attempt.
        """
        try:
            return self._run(client, command)
        except _CONNECTION_ERRORS:
            return self._run(client, command)

    def execute_then_pop(self, client: redis.Redis, command: Tuple[Any, ...], queue_key: str, timeout: int) -> Any:
        """
        Like :meth:`execute`, but write ``BLPOP queue_key timeout`` right behind the command, in the same write, and
        leave its reply pending for :meth:`pop`. Without a pipelined pop (one is already pending for ``client`` on
        this thread, or the connection failed and the command is tried again), it is plain :meth:`execute`.
        """
        connections = self._threads.connections
        if (id(client), queue_key) in connections.parked:
            return self.execute(client, *command)
        held = self._hold(client)
        connection = held.connection
        try:
            connection.send_packed_command(  # type: ignore[no-untyped-call]
                [pack_command(command) + pack_command(('BLPOP', queue_key, timeout))],
            )
            deadline = time.monotonic() + timeout
            try:
                reply = connection.read_response()
            finally:
                # From here on the BLPOP's reply is the next thing to read on this connection, whatever came first.
                del connections.held[id(client)]
                connections.parked[id(client), queue_key] = _Parked(held, timeout, deadline)
        except _CONNECTION_ERRORS:
            connections.parked.pop((id(client), queue_key), None)
            self._drop(client, held)
            return self.execute(client, *command)
        return reply

    def pop(self, client: redis.Redis, queue_key: str, timeout: int) -> Any:
        """
        ``BLPOP queue_key timeout``: Redis's raw reply (``None`` if nothing came in time). A ``BLPOP`` of the same
        queue that :meth:`execute_then_pop` left pending is read first: if it answers ``None`` before ``timeout``
        has passed, a new ``BLPOP`` waits for the rest (in whole seconds); if ``timeout`` is shorter than what it has
        left and nothing came in time, its connection is closed (Redis then drops the pending ``BLPOP``).
        """
        parked = self._threads.connections.parked.pop((id(client), queue_key), None)
        if parked is not None:
            started = time.monotonic()
            reply = self._read_parked(client, parked, timeout)
            if reply is _TIMED_OUT:
                return None
            if reply is not _UNUSABLE:
                if reply is not None:
                    return reply
                timeout = math.ceil(timeout - (time.monotonic() - started))
                if timeout <= 0:
                    return None
        return self.execute(client, 'BLPOP', queue_key, timeout)

    def take_back_pending_pop(self, client: redis.Redis, queue_key: str) -> Any:
        """
        Wait for the ``BLPOP`` of ``queue_key`` pending for ``client`` on this thread, if any, and return its raw
        reply: what it took off its queue (which nobody else will now receive), or ``None``.
        """
        parked = self._threads.connections.parked.pop((id(client), queue_key), None)
        if parked is None:
            return None
        reply = self._read_parked(client, parked, parked.timeout)
        return None if reply is _UNUSABLE or reply is _TIMED_OUT else reply

    def _read_parked(self, client: redis.Redis, parked: _Parked, timeout: int) -> Any:
        """
        The pending ``BLPOP``'s reply; :data:`_TIMED_OUT` if ``timeout`` ran out first, :data:`_UNUSABLE` if the
        connection failed (or Redis cancelled the ``BLPOP``, as a master does when it becomes a replica), or was
        taken in another process. A connection from before :meth:`forget_all` is still read (it may hold what the
        ``BLPOP`` took), then closed.
        """
        held = parked.held
        if held.pid != os.getpid():
            return _UNUSABLE
        try:
            if parked.deadline - time.monotonic() > timeout and not held.connection.can_read(timeout):
                _release(held, disconnect=True)
                return _TIMED_OUT
            reply = held.connection.read_response()
        except (*_CONNECTION_ERRORS, redis.ResponseError):
            _release(held, disconnect=True)
            return _UNUSABLE
        connections = self._threads.connections
        if held.generation != self._generation:
            _release(held, disconnect=True)
        elif id(client) in connections.held:
            _release(held, disconnect=False)
        else:
            connections.held[id(client)] = held
        return reply

    def _run(self, client: redis.Redis, command: Tuple[Any, ...]) -> Any:
        held = self._hold(client)
        try:
            held.connection.send_packed_command([pack_command(command)])  # type: ignore[no-untyped-call]
            return held.connection.read_response()
        except _CONNECTION_ERRORS:
            self._drop(client, held)
            raise

    def _hold(self, client: redis.Redis) -> _Held:
        connections = self._threads.connections
        held = connections.held.get(id(client))
        if held is not None and held.generation == self._generation and held.pid == os.getpid():
            return held
        self._drop_stale(connections.held)
        held = _Held(client, client.connection_pool.get_connection(), self._generation, os.getpid())
        connections.held[id(client)] = held
        return held

    def _drop_stale(self, held_by_client: Dict[int, _Held]) -> None:
        """Drop the connections taken before :meth:`forget_all` or in another process (before a fork)."""
        for key, held in list(held_by_client.items()):
            if held.pid != os.getpid():
                del held_by_client[key]  # the parent process's: not ours to release
            elif held.generation != self._generation:
                del held_by_client[key]
                _release(held, disconnect=True)

    def _drop(self, client: redis.Redis, held: _Held) -> None:
        connections = self._threads.connections
        if connections.held.get(id(client)) is held:
            del connections.held[id(client)]
        _release(held, disconnect=True)


def _release(held: _Held, disconnect: bool) -> None:
    if disconnect:
        held.connection.disconnect()  # type: ignore[no-untyped-call]
    held.client.connection_pool.release(held.connection)
