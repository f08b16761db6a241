"""
A syslog handler that keeps every packet within what the transport can carry, fragmenting or truncating long messages.
"""

import logging
import logging.handlers
import socket
import threading
from socket import SocketKind
from socket import socket as Socket
from typing import (
    TYPE_CHECKING,
    ClassVar,
    Dict,
    List,
    Optional,
    Tuple,
    Union,
)


__all__ = ('SyslogHandler',)


# Linux values, for platforms whose socket module lacks the names.
_IP_MTU_DISCOVER: int = getattr(socket, 'IP_MTU_DISCOVER', 10)
_IP_PMTUDISC_DO: int = getattr(socket, 'IP_PMTUDISC_DO', 2)
_IPV6_MTU_DISCOVER: int = getattr(socket, 'IPV6_MTU_DISCOVER', 23)
_IPV6_PMTUDISC_DO: int = getattr(socket, 'IPV6_PMTUDISC_DO', 2)

_CONTINUED_SUFFIX = b"... (cont'd)"
_CONTINUATION_PREFIX = "(cont'd #{}) ..."


def _utf8_boundary(data: bytes, index: int) -> int:
    """Returns the largest index ``<= index`` at which ``data`` can be cut without splitting a UTF-8 character."""
    index = max(0, min(index, len(data)))
    while 0 < index < len(data) and data[index] & 0xC0 == 0x80:  # a continuation byte: 0b10xxxxxx
        index -= 1
    return index


class SyslogHandler(logging.handlers.SysLogHandler):
    """
    A :class:`logging.handlers.SysLogHandler` that never sends a packet longer than the transport can carry.

    Packets have the standard library's layout: ``<priority>``, then :attr:`ident`, then the UTF-8 encoded formatted
    message, then a NUL byte if :attr:`append_nul` is set. Their maximum length, :attr:`maximum_length`, is:

    - for UDP, the path MTU to the syslog host minus 28 (the IP and UDP headers). The MTU is discovered once per host
      and process, by sending datagrams of 65535, 2000, 1500 and 1280 bytes, with fragmentation forbidden, to port
      9999 of the host; the first that the operating system accepts gives the MTU, and 576 is assumed if none is.
    - for TCP and Unix sockets, 1048576 bytes; these always truncate.

    A record whose packet would be longer is handled according to ``overflow``:

    - :attr:`OVERFLOW_BEHAVIOR_TRUNCATE` cuts the message (at a UTF-8 character boundary) so the packet fits.
    - :attr:`OVERFLOW_BEHAVIOR_FRAGMENT` (the default) sends it as several packets. The formatted text preceding the
      record's message (timestamp, level, logger name, ...; found by looking for the first 40 characters of the
      message, else taken to be the first 30 characters) is repeated in each packet, and the rest is split into
      chunks: every chunk but the last ends with ``... (cont'd)`` and every chunk but the first starts with
      ``(cont'd #N) ...``, ``N`` being the chunk's 1-based number. If the preamble leaves no room for the message,
      the record is truncated instead.

    As with the standard handler, any error while emitting is passed to :meth:`handleError`.
    """

    OVERFLOW_BEHAVIOR_FRAGMENT: ClassVar[int] = 0
    OVERFLOW_BEHAVIOR_TRUNCATE: ClassVar[int] = 1

    MAXIMUM_LENGTH_TCP_AND_UNIX: ClassVar[int] = 1048576
    MTU_PROBE_SIZES: ClassVar[Tuple[int, ...]] = (65535, 2000, 1500, 1280)
    MTU_PROBE_PORT: ClassVar[int] = 9999
    MTU_FALLBACK: ClassVar[int] = 576
    UDP_OVERHEAD: ClassVar[int] = 28  # the IPv4 header (20 bytes) and the UDP header (8 bytes)

    if TYPE_CHECKING:
        # Set by the standard library's handler, which does not declare them to type checkers.
        socket: Optional[Socket]

        def _connect_unixsocket(self, address: Union[Tuple[str, int], str]) -> None: ...

    # Discovered path MTUs by host, shared by all handlers in the process.
    _mtu_cache: ClassVar[Dict[str, int]] = {}
    _mtu_cache_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self,
        address: Union[Tuple[str, int], str] = ('localhost', logging.handlers.SYSLOG_UDP_PORT),
        facility: int = logging.handlers.SysLogHandler.LOG_USER,
        socket_type: Optional[SocketKind] = None,
        overflow: int = OVERFLOW_BEHAVIOR_FRAGMENT,
    ) -> None:
        """
        :param address: A ``(host, port)`` tuple for a network syslog server, or the path of a Unix socket.
        :param facility: The syslog facility.
        :param socket_type: ``socket.SOCK_DGRAM`` or ``socket.SOCK_STREAM``; by default UDP for network addresses and
                            datagram, else stream, for Unix sockets.
        :param overflow: :attr:`OVERFLOW_BEHAVIOR_FRAGMENT` or :attr:`OVERFLOW_BEHAVIOR_TRUNCATE`; only applies to UDP.
        """
        super().__init__(address, facility, socket_type)

        self.overflow: int
        #: The maximum length of a packet, in bytes. May be lowered after construction.
        self.maximum_length: int
        if not self.unixsocket and self.socktype == socket.SOCK_DGRAM and not isinstance(address, str):
            self.maximum_length = self._get_path_mtu(address[0]) - self.UDP_OVERHEAD
            self.overflow = overflow
        else:
            self.maximum_length = self.MAXIMUM_LENGTH_TCP_AND_UNIX
            self.overflow = self.OVERFLOW_BEHAVIOR_TRUNCATE

    @classmethod
    def _get_path_mtu(cls, host: str) -> int:
        with cls._mtu_cache_lock:
            mtu = cls._mtu_cache.get(host)
            if mtu is None:
                mtu = cls._mtu_cache[host] = cls._discover_path_mtu(host)
        return mtu

    @classmethod
    def _discover_path_mtu(cls, host: str) -> int:
        try:
            address_infos = socket.getaddrinfo(host, cls.MTU_PROBE_PORT, 0, socket.SOCK_DGRAM)
        except OSError:
            return cls.MTU_FALLBACK
        if not address_infos:
            return cls.MTU_FALLBACK

        family, socket_type, protocol, _, socket_address = address_infos[0]
        try:
            with socket.socket(family, socket_type, protocol) as probe:
                try:
                    if family == socket.AF_INET6:
                        probe.setsockopt(socket.IPPROTO_IPV6, _IPV6_MTU_DISCOVER, _IPV6_PMTUDISC_DO)
                    else:
                        probe.setsockopt(socket.IPPROTO_IP, _IP_MTU_DISCOVER, _IP_PMTUDISC_DO)
                except OSError:
                    pass  # the platform cannot forbid fragmentation; the probe still finds the largest datagram
                for size in cls.MTU_PROBE_SIZES:
                    try:
                        probe.sendto(b'\0' * size, socket_address)
                    except OSError:
                        continue
                    return size
        except OSError:
            pass
        return cls.MTU_FALLBACK

    def emit(self, record: logging.LogRecord) -> None:
        """Formats the record and sends it as one or more packets, each at most :attr:`maximum_length` bytes long."""
        try:
            message = self.format(record)
            priority = self.encodePriority(self.facility, self.mapPriority(record.levelname))
            header = f'<{priority:d}>{self.ident or ""}'.encode()
            suffix = b'\0' if self.append_nul else b''
            message_bytes = message.encode('utf-8')

            if len(header) + len(message_bytes) + len(suffix) <= self.maximum_length:
                packets = [header + message_bytes + suffix]
            elif self.overflow == self.OVERFLOW_BEHAVIOR_TRUNCATE:
                packets = [self._truncate(header, message_bytes, suffix)]
            else:
                packets = self._fragment(record, message, header, suffix) or [
                    self._truncate(header, message_bytes, suffix),
                ]

            for packet in packets:
                self._send_packet(packet)
        except Exception:
            self.handleError(record)

    def _truncate(self, header: bytes, message: bytes, suffix: bytes) -> bytes:
        room = self.maximum_length - len(header) - len(suffix)
        return header + message[: _utf8_boundary(message, room)] + suffix

    def _fragment(self, record: logging.LogRecord, message: str, header: bytes, suffix: bytes) -> List[bytes]:
        """Returns the packets carrying ``message`` in chunks, or an empty list if it cannot be fragmented."""
        position = message.find(record.getMessage()[:40])
        if position < 0:
            position = 30
        packet_header = header + message[:position].encode('utf-8')
        rest = message[position:].encode('utf-8')
        room = self.maximum_length - len(packet_header) - len(suffix)

        packets: List[bytes] = []
        offset = 0
        while True:
            prefix = _CONTINUATION_PREFIX.format(len(packets) + 1).encode('utf-8') if packets else b''
            if len(prefix) + len(rest) - offset <= room:
                packets.append(packet_header + prefix + rest[offset:] + suffix)
                return packets
            end = _utf8_boundary(rest, offset + room - len(prefix) - len(_CONTINUED_SUFFIX))
            if end <= offset:
                return []  # the preamble leaves no room for even one character
            packets.append(packet_header + prefix + rest[offset:end] + _CONTINUED_SUFFIX + suffix)
            offset = end

    def _send_packet(self, packet: bytes) -> None:
        """Sends one packet the way the standard library's handler does."""
        if not self.socket:
            # Python 3.11+ creates the socket lazily, and again after a failure at construction.
            create_socket = getattr(self, 'createSocket', None)
            if create_socket is not None:
                create_socket()
            if not self.socket:
                raise OSError('The syslog socket is not connected')

        if self.unixsocket:
            try:
                self.socket.send(packet)
            except OSError:
                self.socket.close()
                self._connect_unixsocket(self.address)
                self.socket.send(packet)
        elif self.socktype == socket.SOCK_DGRAM:
            self.socket.sendto(packet, self.address)
        else:
            self.socket.sendall(packet)
