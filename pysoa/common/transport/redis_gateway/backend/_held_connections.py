"""
Commands run on a connection each thread keeps, instead of through redis-py's per-command machinery.

A transport sends two commands per message direction (the enqueue script, and ``BLPOP``), always on the same Redis
client, from the same thread. ``redis.Redis.execute_command`` checks a connection out of the pool and back in around
every command; keeping one connection per thread and client skips that work. The commands, keys and bytes on the
wire are the same.
"""

import os
import threading
from typing import (
    Any,
    Dict,
    Tuple,
)

import redis
from redis.connection import Connection


__all__ = ('HeldConnections',)

#: Errors after which a connection is not trusted again (the command may be tried once more on a new one).
_CONNECTION_ERRORS = (redis.ConnectionError, redis.TimeoutError, OSError)


_Held = Dict[int, Tuple[redis.Redis, Connection, int, int]]
"""id(client) -> (the client, its connection, the generation and the process the connection was taken in)."""


class _ThreadConnections:
    """One thread's connections, given back to their pools when the thread ends (and its local data goes)."""

    def __init__(self) -> None:
        self.held: _Held = {}

    def __del__(self) -> None:
        pid = os.getpid()
        for client, connection, _generation, owner_pid in self.held.values():
            if owner_pid == pid:
                try:
                    _release(client, connection, disconnect=True)
                except Exception:  # nothing to report to at thread or interpreter teardown
                    pass


class _PerThread(threading.local):
    def __init__(self) -> None:
        self.connections = _ThreadConnections()


class HeldConnections:
    """
    The connections this backend's threads keep, one per thread and Redis client. :meth:`forget_all` (after a
    failover, for instance) makes every thread take new ones on its next command.
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

    def _run(self, client: redis.Redis, command: Tuple[Any, ...]) -> Any:
        connection = self._connection(client)
        try:
            connection.send_command(*command)  # type: ignore[no-untyped-call]
            return connection.read_response()
        except _CONNECTION_ERRORS:
            self._drop(client, connection)
            raise

    def _connection(self, client: redis.Redis) -> Connection:
        held = self._threads.connections.held
        entry = held.get(id(client))  # a held client stays alive, so no other client can have its id
        if entry is not None and entry[2] == self._generation and entry[3] == os.getpid():
            return entry[1]
        self._drop_stale(held)
        connection: Connection = client.connection_pool.get_connection()
        held[id(client)] = (client, connection, self._generation, os.getpid())
        return connection

    def _drop_stale(self, held: _Held) -> None:
        """Drop the connections taken before :meth:`forget_all` or in another process (before a fork)."""
        pid = os.getpid()
        for key, (client, connection, generation, owner_pid) in list(held.items()):
            if owner_pid != pid:
                del held[key]  # the parent process's: not ours to release
            elif generation != self._generation:
                del held[key]
                _release(client, connection, disconnect=True)

    def _drop(self, client: redis.Redis, connection: Connection) -> None:
        self._threads.connections.held.pop(id(client), None)
        _release(client, connection, disconnect=True)


def _release(client: redis.Redis, connection: Connection, disconnect: bool) -> None:
    if disconnect:
        connection.disconnect()  # type: ignore[no-untyped-call]
    client.connection_pool.release(connection)
