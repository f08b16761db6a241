"""
Redis commands from any number of coroutines on one connection, pipelined, for the asynchronous client transport.

redis-py makes each connection (TLS, ``AUTH``, ``SELECT``: the whole handshake, with the user's settings); then a
:class:`RespProtocol` takes over its socket and parses replies as they arrive, with hiredis, in the event loop's own
callback: each reply goes straight to whoever waits for it, with no task in between to read and hand it on.
"""

import asyncio
import collections
import logging
from typing import (
    Any,
    Awaitable,
    Callable,
    Deque,
    List,
    Optional,
    Sequence,
    Set,
)

import hiredis
import redis
from redis._parsers import BaseParser
from redis.asyncio.connection import AbstractConnection


__all__ = (
    'CommandPipeline',
    'ReplyTarget',
    'RespProtocol',
    'settle',
)

_logger = logging.getLogger('pysoa.common.transport.redis_gateway.client')

ReplyTarget = Callable[[Any], None]
"""
Where the reply to a command goes: called with the reply, or with an exception (the error Redis replied, or why the
connection failed before the reply came).
"""


def settle(future: 'asyncio.Future[Any]', outcome: Any) -> None:
    """Settle ``future`` with a command's reply, or its error; nothing if its awaiter stopped waiting."""
    if future.done():
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


#: How long closing a connection waits for the event loop to close it (over TLS, the closing handshake), at most.
CLOSE_SECONDS = 1.0

#: The bytes read from a connection at most at once, into a buffer the connection keeps: asyncio's default for a
#: plain protocol allocates 256 KiB for every read.
READ_BUFFER_BYTES = 65536


class RespProtocol(asyncio.BufferedProtocol):
    """
    The replies of one connection, parsed as they arrive and handed, in order, to the targets of the commands written.
    When the connection is lost, every command still owed a reply gets a ``redis.ConnectionError``.

    Made by :meth:`adopt`, from a connection redis-py has made. The event loop reads into the protocol's own buffer
    (:meth:`get_buffer`, :meth:`buffer_updated`); a loop that hands it bytes instead calls :meth:`data_received`.
    """

    def __init__(self, connection: AbstractConnection, transport: asyncio.Transport) -> None:
        self._connection = connection
        self._transport = transport
        self._reader = hiredis.Reader(protocolError=redis.InvalidResponse, replyError=BaseParser.parse_error)
        self._buffer = bytearray(READ_BUFFER_BYTES)
        # A view, not the bytearray: the TLS layer fills the rest of the buffer through slices of it.
        self._buffer_view = memoryview(self._buffer)
        self._targets: Deque[ReplyTarget] = collections.deque()
        self._transport_gone = False
        self._gone: Optional[asyncio.Future[None]] = None
        self.lost: Optional[BaseException] = None
        """Why the connection is gone (``None`` while it is usable)."""

    @classmethod
    def adopt(cls, connection: AbstractConnection) -> 'RespProtocol':
        """
        Take over a connection that redis-py has just made (and on which nothing waits for a reply): from now on only
        this protocol writes to it and reads from it.

        :raises redis.ConnectionError: If the connection is not open.
        """
        writer = connection._writer
        if writer is None or writer.transport.is_closing():
            raise redis.ConnectionError('The connection to Redis closed')
        transport: asyncio.Transport = writer.transport  # type: ignore[assignment]
        protocol = cls(connection, transport)
        transport.set_protocol(protocol)
        return protocol

    @property
    def usable(self) -> bool:
        """Whether commands can still be written."""
        return self.lost is None and not self._transport.is_closing()

    @property
    def owes_replies(self) -> bool:
        """Whether replies to commands written are still to come."""
        return bool(self._targets)

    def write(self, commands: Sequence[bytes], targets: Sequence[ReplyTarget]) -> None:
        """Write packed commands at once; the reply to each goes to the target at the same position."""
        if not self.usable:
            error = redis.ConnectionError('The connection to Redis closed')
            for target in targets:
                target(error)
            return
        self._transport.writelines(commands)
        self._targets.extend(targets)

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._buffer_view

    def buffer_updated(self, nbytes: int) -> None:
        self._reader.feed(self._buffer, 0, nbytes)  # type: ignore[arg-type]  # any buffer; its stub says bytes
        self._hand_out_replies()

    def data_received(self, data: bytes) -> None:
        self._reader.feed(data)
        self._hand_out_replies()

    def _hand_out_replies(self) -> None:
        reader = self._reader
        targets = self._targets
        while True:
            try:
                reply = reader.gets()
            except redis.InvalidResponse as e:
                self._abandon(e)
                return
            if reply is False:
                return
            if not targets:
                self._abandon(redis.InvalidResponse(f'Redis sent a reply no command asked for: {reply!r:.100}'))
                return
            target = targets.popleft()
            try:
                target(reply)
            except Exception:  # a bug in a target: the replies after it still go where they belong
                _logger.exception('Handling a reply from Redis failed')

    def connection_lost(self, exc: Optional[Exception]) -> None:
        self._transport_gone = True
        gone = self._gone
        if gone is not None and not gone.done():
            gone.set_result(None)
        self._fail_owed(exc)

    def _fail_owed(self, exc: Optional[Exception]) -> None:
        if self.lost is None:
            self.lost = exc or redis.ConnectionError('Redis closed the connection')
        targets, self._targets = self._targets, collections.deque()
        error = redis.ConnectionError(f'The connection to Redis failed: {type(self.lost).__name__}: {self.lost}')
        for target in targets:
            try:
                target(error)
            except Exception:
                _logger.exception('Handling a lost reply from Redis failed')
        if self._connection.is_connected:  # lost, not closed by close(): redis-py's side of it still to release
            _disconnect_soon(self._connection)

    def abort(self, error: Exception) -> None:
        """Close the connection at once: the commands still owed a reply fail (soon, not in this call)."""
        if self.lost is None:
            self.lost = error
        self._transport.abort()

    def _abandon(self, error: Exception) -> None:
        """The replies cannot be matched to their commands any more: close, failing those still owed one."""
        _logger.warning('Closing a connection to Redis: %s', error)
        self.abort(error)

    async def close(self) -> None:
        """
        Close the connection, and wait until the event loop has closed it (over TLS, the closing handshake; at most
        :data:`CLOSE_SECONDS`, then it is cut); the commands still owed a reply fail.
        """
        if not self._transport_gone:
            self._gone = gone = asyncio.get_running_loop().create_future()
            await _disconnect(self._connection)
            try:
                await asyncio.wait_for(gone, CLOSE_SECONDS)
            except asyncio.TimeoutError:
                self._transport.abort()
                await asyncio.sleep(0)  # the loop's last step of closing it
        self._fail_owed(None)


async def _disconnect(connection: AbstractConnection) -> None:
    try:
        await connection.disconnect(nowait=True)
    except Exception:  # closing a connection that already failed: nothing left to do with it
        pass


_disconnecting: Set['asyncio.Task[None]'] = set()


def _disconnect_soon(connection: AbstractConnection) -> None:
    """Release redis-py's side of a connection lost in a callback (where nothing can be awaited)."""
    task = asyncio.get_running_loop().create_task(_disconnect(connection))
    _disconnecting.add(task)
    task.add_done_callback(_disconnecting.discard)


class CommandPipeline:
    """
    Commands from any number of coroutines on one connection: each is written as soon as it is given (while replies
    are owed, the others given in the same turn of the event loop go together, at its end), and its reply settles
    its future or goes to its target. A connection that fails fails the commands whose replies it owes; the next
    command connects again.

    :param connect: Makes a new connection (redis-py's, connected).
    """

    def __init__(self, connect: Callable[[], Awaitable[AbstractConnection]]) -> None:
        self._connect = connect
        self._protocol: Optional[RespProtocol] = None
        self._unsent_commands: List[bytes] = []
        self._unsent_targets: List[ReplyTarget] = []
        self._flush_scheduled = False
        self._connecting: Optional[asyncio.Task[None]] = None
        self._closed = False

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called: every command given since fails."""
        return self._closed

    @property
    def connected(self) -> bool:
        """Whether a command given now is written now (rather than once a connection is made)."""
        protocol = self._protocol
        return protocol is not None and protocol.usable

    def execute(self, command: bytes) -> 'asyncio.Future[Any]':
        """Send a packed command (``pack_command``); the future settles with its reply, or its error."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.execute_all((command,), (lambda outcome: settle(future, outcome),))
        return future

    def execute_then(self, command: bytes, target: ReplyTarget) -> None:
        """Send a packed command; its reply, or its error, goes to ``target``."""
        self.execute_all((command,), (target,))

    def execute_all(self, commands: Sequence[bytes], targets: Sequence[ReplyTarget]) -> None:
        """Send packed commands in one write, in order; the reply to each goes to the target at the same position."""
        if self._closed:
            error = redis.ConnectionError('The transport was closed')
            for target in targets:
                target(error)
            return
        protocol = self._protocol
        if protocol is None or not protocol.usable or self._flush_scheduled:
            self._unsent_commands.extend(commands)
            self._unsent_targets.extend(targets)
            if protocol is None or not protocol.usable:
                self._connect_soon()
            return
        if protocol.owes_replies:
            # Others are at work: what they send in this turn of the event loop leaves with the next write.
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._write_unsent)
        protocol.write(commands, targets)

    def _connect_soon(self) -> None:
        self._protocol = None
        if self._connecting is None:
            self._connecting = asyncio.get_running_loop().create_task(self._connect_then_write())

    def _write_unsent(self) -> None:
        self._flush_scheduled = False
        if not self._unsent_commands:
            return
        protocol = self._protocol
        if protocol is None or not protocol.usable:
            self._connect_soon()
            return
        commands, targets = self._unsent_commands, self._unsent_targets
        self._unsent_commands, self._unsent_targets = [], []
        protocol.write(commands, targets)

    async def _connect_then_write(self) -> None:
        try:
            if self._closed:
                raise redis.ConnectionError('The transport was closed')
            connection = await self._connect()
            protocol = RespProtocol.adopt(connection)
        except BaseException as e:
            self._connecting = None
            targets = self._unsent_targets
            self._unsent_commands, self._unsent_targets = [], []
            error = e if isinstance(e, Exception) else redis.ConnectionError('The transport was closed')
            for target in targets:
                target(error)
            if not isinstance(e, Exception):
                raise
            return
        self._connecting = None
        if self._closed:
            await protocol.close()
            return
        self._protocol = protocol
        self._write_unsent()

    async def close(self) -> None:
        """Close the connection; commands still owed a reply, or not sent yet, fail."""
        self._closed = True
        connecting = self._connecting
        if connecting is not None:
            connecting.cancel()
            await asyncio.wait([connecting])
        protocol, self._protocol = self._protocol, None
        if protocol is not None:
            await protocol.close()
        targets = self._unsent_targets
        self._unsent_commands, self._unsent_targets = [], []
        error = redis.ConnectionError('The transport was closed')
        for target in targets:
            target(error)

    def drop_connection(self, reason: Exception) -> None:
        """Close the current connection (commands owed a reply fail, soon); the next command connects again."""
        protocol, self._protocol = self._protocol, None
        if protocol is not None:
            protocol.abort(reason)
