import logging
import os
import socket
import tempfile
from typing import (
    Any,
    Iterator,
    List,
    Tuple,
)

import pytest

from pysoa.common.logging import SyslogHandler


PRIORITY_USER_INFO = b'<14>'  # facility LOG_USER (1) * 8 + severity INFO (6)
CONTINUED = b"... (cont'd)\x00"
FORMAT = '%(levelname)s %(name)s: %(message)s'
PREAMBLE = 'INFO tests.syslog: '


def _record(message: str, level: int = logging.INFO, name: str = 'tests.syslog') -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, message, None, None)


def _receive_datagrams_until_last(receiver: socket.socket) -> List[bytes]:
    """Receives fragments until one that does not announce a continuation."""
    packets = [receiver.recv(70000)]
    while packets[-1].endswith(CONTINUED):
        packets.append(receiver.recv(70000))
    return packets


def _receive_stream_packet(connection: socket.socket) -> bytes:
    data = b''
    while not data.endswith(b'\x00'):
        chunk = connection.recv(65536)
        assert chunk, 'The connection was closed before the packet was complete'
        data += chunk
    return data


@pytest.fixture
def udp_receiver() -> Iterator[socket.socket]:
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(('127.0.0.1', 0))
    receiver.settimeout(5)
    yield receiver
    receiver.close()


@pytest.fixture
def udp_handler(udp_receiver: socket.socket) -> Iterator[SyslogHandler]:
    handler = SyslogHandler(address=udp_receiver.getsockname())
    handler.setFormatter(logging.Formatter(FORMAT))
    yield handler
    handler.close()


@pytest.fixture
def unix_socket_path() -> Iterator[str]:
    # A short directory: Unix socket paths are limited to about 100 bytes.
    with tempfile.TemporaryDirectory() as directory:
        yield os.path.join(directory, 'syslog.sock')


@pytest.fixture
def unix_receiver(unix_socket_path: str) -> Iterator[socket.socket]:
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    receiver.bind(unix_socket_path)
    receiver.settimeout(5)
    yield receiver
    receiver.close()


@pytest.fixture
def tcp_listener() -> Iterator[socket.socket]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(('127.0.0.1', 0))
    listener.listen(1)
    listener.settimeout(5)
    yield listener
    listener.close()


@pytest.fixture
def empty_mtu_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SyslogHandler, '_mtu_cache', {})


def test_udp_emit_sends_priority_and_formatted_message_and_nul(
    udp_handler: SyslogHandler,
    udp_receiver: socket.socket,
) -> None:
    udp_handler.emit(_record('Hello, wörld'))

    assert udp_receiver.recv(70000) == PRIORITY_USER_INFO + 'INFO tests.syslog: Hello, wörld\x00'.encode()


def test_udp_emit_uses_facility_and_level_for_priority(udp_receiver: socket.socket) -> None:
    handler = SyslogHandler(address=udp_receiver.getsockname(), facility=SyslogHandler.LOG_LOCAL3)
    try:
        handler.emit(_record('Oops', level=logging.ERROR))
    finally:
        handler.close()

    assert udp_receiver.recv(70000) == b'<155>Oops\x00'  # LOG_LOCAL3 (19) * 8 + LOG_ERR (3)


def test_udp_emit_puts_ident_before_message(udp_handler: SyslogHandler, udp_receiver: socket.socket) -> None:
    udp_handler.ident = 'my-app: '

    udp_handler.emit(_record('Hello'))

    assert udp_receiver.recv(70000) == PRIORITY_USER_INFO + b'my-app: INFO tests.syslog: Hello\x00'


def test_udp_emit_without_append_nul_has_no_nul(udp_handler: SyslogHandler, udp_receiver: socket.socket) -> None:
    udp_handler.append_nul = False

    udp_handler.emit(_record('Hello'))

    assert udp_receiver.recv(70000) == PRIORITY_USER_INFO + b'INFO tests.syslog: Hello'


def test_udp_maximum_length_is_path_mtu_minus_28(
    monkeypatch: pytest.MonkeyPatch,
    udp_receiver: socket.socket,
) -> None:
    monkeypatch.setattr(SyslogHandler, '_mtu_cache', {'127.0.0.1': 1500})
    handler = SyslogHandler(address=udp_receiver.getsockname())
    handler.close()

    assert handler.maximum_length == 1472
    assert handler.overflow == SyslogHandler.OVERFLOW_BEHAVIOR_FRAGMENT


def test_udp_mtu_is_discovered_once_per_host(
    monkeypatch: pytest.MonkeyPatch,
    empty_mtu_cache: None,
    udp_receiver: socket.socket,
) -> None:
    discovered: List[str] = []

    def discover(host: str) -> int:
        discovered.append(host)
        return 1280

    monkeypatch.setattr(SyslogHandler, '_discover_path_mtu', staticmethod(discover))
    handlers = [SyslogHandler(address=udp_receiver.getsockname()) for _ in range(3)]
    for handler in handlers:
        handler.close()

    assert discovered == ['127.0.0.1']
    assert [handler.maximum_length for handler in handlers] == [1252, 1252, 1252]


def test_udp_mtu_is_the_first_probe_size_that_can_be_sent(
    monkeypatch: pytest.MonkeyPatch,
    empty_mtu_cache: None,
    udp_receiver: socket.socket,
) -> None:
    attempted: List[Tuple[int, Any]] = []
    real_sendto = socket.socket.sendto

    def sendto(self: socket.socket, data: bytes, address: Any) -> int:
        attempted.append((len(data), address))
        if len(data) > 1500:
            raise OSError(90, 'Message too long')
        return real_sendto(self, data, address)

    with monkeypatch.context() as patch:
        patch.setattr(socket.socket, 'sendto', sendto)
        handler = SyslogHandler(address=udp_receiver.getsockname())
    handler.close()

    assert handler.maximum_length == 1472
    assert attempted == [(65535, ('127.0.0.1', 9999)), (2000, ('127.0.0.1', 9999)), (1500, ('127.0.0.1', 9999))]


def test_udp_mtu_probe_forbids_fragmentation(
    monkeypatch: pytest.MonkeyPatch,
    empty_mtu_cache: None,
    udp_receiver: socket.socket,
) -> None:
    options: List[Tuple[int, int, int]] = []
    real_setsockopt = socket.socket.setsockopt

    def setsockopt(self: socket.socket, level: int, option: int, value: Any, *args: Any) -> None:
        options.append((level, option, value))
        real_setsockopt(self, level, option, value, *args)

    with monkeypatch.context() as patch:
        patch.setattr(socket.socket, 'setsockopt', setsockopt)
        SyslogHandler(address=udp_receiver.getsockname()).close()

    ip_mtu_discover = getattr(socket, 'IP_MTU_DISCOVER', 10)
    ip_pmtudisc_do = getattr(socket, 'IP_PMTUDISC_DO', 2)
    assert (socket.IPPROTO_IP, ip_mtu_discover, ip_pmtudisc_do) in options


def test_udp_mtu_falls_back_to_576_when_no_probe_can_be_sent(
    monkeypatch: pytest.MonkeyPatch,
    empty_mtu_cache: None,
    udp_receiver: socket.socket,
) -> None:
    def sendto(self: socket.socket, data: bytes, address: Any) -> int:
        raise OSError(90, 'Message too long')

    with monkeypatch.context() as patch:
        patch.setattr(socket.socket, 'sendto', sendto)
        handler = SyslogHandler(address=udp_receiver.getsockname())
    handler.close()

    assert handler.maximum_length == 576 - 28


def test_udp_message_of_exactly_the_maximum_length_is_sent_whole(
    udp_handler: SyslogHandler,
    udp_receiver: socket.socket,
) -> None:
    message = 'x' * 50
    expected = PRIORITY_USER_INFO + f'{PREAMBLE}{message}\x00'.encode()
    udp_handler.maximum_length = len(expected)

    udp_handler.emit(_record(message))

    assert udp_receiver.recv(70000) == expected


def test_udp_truncate_cuts_at_a_utf8_character_boundary(udp_receiver: socket.socket) -> None:
    handler = SyslogHandler(address=udp_receiver.getsockname(), overflow=SyslogHandler.OVERFLOW_BEHAVIOR_TRUNCATE)
    handler.maximum_length = 60  # 4 bytes of priority and 1 NUL leave 55 bytes: 18 three-byte characters
    try:
        handler.emit(_record('€' * 100))
    finally:
        handler.close()

    packet = udp_receiver.recv(70000)
    assert packet == PRIORITY_USER_INFO + ('€' * 18 + '\x00').encode('utf-8')


def test_udp_truncate_mode_sends_a_single_packet_within_the_limit(udp_receiver: socket.socket) -> None:
    handler = SyslogHandler(address=udp_receiver.getsockname(), overflow=SyslogHandler.OVERFLOW_BEHAVIOR_TRUNCATE)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.maximum_length = 100
    message = 'ab€ü' * 100
    try:
        handler.emit(_record(message))
        handler.emit(_record('next'))
    finally:
        handler.close()

    packet = udp_receiver.recv(70000)
    assert len(packet) <= 100
    text = packet[len(PRIORITY_USER_INFO) : -1].decode('utf-8')
    assert (PREAMBLE + message).startswith(text)
    assert udp_receiver.recv(70000) == PRIORITY_USER_INFO + f'{PREAMBLE}next\x00'.encode()


def test_udp_fragment_splits_message_into_packets_that_reassemble_in_order(
    udp_handler: SyslogHandler,
    udp_receiver: socket.socket,
) -> None:
    udp_handler.maximum_length = 120
    message = ''.join(f'{i}:ab€ü𝄞 ' for i in range(100))

    udp_handler.emit(_record(message))

    packets = _receive_datagrams_until_last(udp_receiver)
    assert len(packets) > 2
    header = PRIORITY_USER_INFO + PREAMBLE.encode()
    chunks = []
    for number, packet in enumerate(packets, start=1):
        assert len(packet) <= 120
        assert packet.startswith(header)
        assert packet.endswith(b'\x00')
        chunk = packet[len(header) : -1].decode('utf-8')  # strict: every cut is at a character boundary
        if number > 1:
            assert chunk.startswith(f"(cont'd #{number}) ...")
            chunk = chunk[len(f"(cont'd #{number}) ...") :]
        else:
            assert not chunk.startswith("(cont'd")
        if number < len(packets):
            assert chunk.endswith("... (cont'd)")
            chunk = chunk[: -len("... (cont'd)")]
        else:
            assert not chunk.endswith("(cont'd)")
        chunks.append(chunk)
    assert ''.join(chunks) == message


def test_udp_fragment_repeats_ident_in_every_packet(udp_handler: SyslogHandler, udp_receiver: socket.socket) -> None:
    udp_handler.ident = 'app: '
    udp_handler.maximum_length = 80

    udp_handler.emit(_record('z' * 200))

    packets = _receive_datagrams_until_last(udp_receiver)
    assert len(packets) > 1
    assert all(packet.startswith(PRIORITY_USER_INFO + b'app: ' + PREAMBLE.encode()) for packet in packets)
    assert all(len(packet) <= 80 for packet in packets)


def test_udp_fragment_preamble_is_first_30_characters_when_message_is_not_found(
    udp_handler: SyslogHandler,
    udp_receiver: socket.socket,
) -> None:
    class _ShoutingFormatter(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            return super().format(record).upper()

    udp_handler.setFormatter(_ShoutingFormatter(FORMAT))
    udp_handler.maximum_length = 90
    message = 'lower case text ' * 20

    udp_handler.emit(_record(message))

    packets = _receive_datagrams_until_last(udp_receiver)
    formatted = (PREAMBLE + message).upper()
    header = PRIORITY_USER_INFO + formatted[:30].encode()
    assert len(packets) > 1
    assert all(packet.startswith(header) and len(packet) <= 90 for packet in packets)
    assert packets[1][len(header) :].startswith(b"(cont'd #2) ...")


def test_udp_fragment_truncates_when_preamble_leaves_no_room(udp_receiver: socket.socket) -> None:
    handler = SyslogHandler(address=udp_receiver.getsockname())
    handler.setFormatter(logging.Formatter('%(name)s %(message)s'))
    handler.maximum_length = 40
    try:
        handler.emit(_record('message', name='a.very.long.logger.name.that.fills.the.packet'))
    finally:
        handler.close()

    assert udp_receiver.recv(70000) == PRIORITY_USER_INFO + b'a.very.long.logger.name.that.fills.\x00'


def test_unix_socket_emit_sends_packet(unix_socket_path: str, unix_receiver: socket.socket) -> None:
    handler = SyslogHandler(address=unix_socket_path)
    try:
        handler.emit(_record('Hello, Unix'))
    finally:
        handler.close()

    assert unix_receiver.recv(70000) == PRIORITY_USER_INFO + b'Hello, Unix\x00'


def test_unix_socket_limit_is_one_megabyte_and_overflow_truncates(
    unix_socket_path: str,
    unix_receiver: socket.socket,
) -> None:
    handler = SyslogHandler(address=unix_socket_path, overflow=SyslogHandler.OVERFLOW_BEHAVIOR_FRAGMENT)
    handler.close()

    assert handler.maximum_length == 1048576
    assert handler.overflow == SyslogHandler.OVERFLOW_BEHAVIOR_TRUNCATE


def test_unix_socket_long_message_is_truncated(unix_socket_path: str, unix_receiver: socket.socket) -> None:
    handler = SyslogHandler(address=unix_socket_path)
    handler.maximum_length = 30
    try:
        handler.emit(_record('ü' * 50))
    finally:
        handler.close()

    assert unix_receiver.recv(70000) == PRIORITY_USER_INFO + ('ü' * 12 + '\x00').encode('utf-8')


def test_unix_socket_reconnects_once_after_a_send_failure(unix_socket_path: str, unix_receiver: socket.socket) -> None:
    handler = SyslogHandler(address=unix_socket_path)
    try:
        # The syslog daemon restarts: its socket is replaced by a new one at the same path.
        unix_receiver.close()
        os.unlink(unix_socket_path)
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as new_receiver:
            new_receiver.bind(unix_socket_path)
            new_receiver.settimeout(5)

            handler.emit(_record('After restart'))

            assert new_receiver.recv(70000) == PRIORITY_USER_INFO + b'After restart\x00'
    finally:
        handler.close()


def test_tcp_emit_sends_packet(tcp_listener: socket.socket) -> None:
    handler = SyslogHandler(address=tcp_listener.getsockname(), socket_type=socket.SOCK_STREAM)
    try:
        connection, _ = tcp_listener.accept()
        with connection:
            connection.settimeout(5)
            handler.emit(_record('Hello, TCP'))

            assert _receive_stream_packet(connection) == PRIORITY_USER_INFO + b'Hello, TCP\x00'
    finally:
        handler.close()


def test_tcp_limit_is_one_megabyte_and_overflow_truncates(tcp_listener: socket.socket) -> None:
    handler = SyslogHandler(address=tcp_listener.getsockname(), socket_type=socket.SOCK_STREAM)
    handler.close()

    assert handler.maximum_length == 1048576
    assert handler.overflow == SyslogHandler.OVERFLOW_BEHAVIOR_TRUNCATE


def test_tcp_long_message_is_truncated(tcp_listener: socket.socket) -> None:
    handler = SyslogHandler(address=tcp_listener.getsockname(), socket_type=socket.SOCK_STREAM)
    handler.maximum_length = 20
    try:
        connection, _ = tcp_listener.accept()
        with connection:
            connection.settimeout(5)
            handler.emit(_record('0123456789' * 10))

            assert _receive_stream_packet(connection) == PRIORITY_USER_INFO + b'012345678901234\x00'
    finally:
        handler.close()


def test_send_failure_during_emit_calls_handle_error(
    monkeypatch: pytest.MonkeyPatch,
    udp_handler: SyslogHandler,
) -> None:
    handled: List[logging.LogRecord] = []
    monkeypatch.setattr(udp_handler, 'handleError', handled.append)
    udp_handler.socket.close()  # type: ignore[union-attr]
    record = _record('Lost')

    udp_handler.emit(record)

    assert handled == [record]


def test_format_failure_during_emit_calls_handle_error(
    monkeypatch: pytest.MonkeyPatch,
    udp_handler: SyslogHandler,
) -> None:
    handled: List[logging.LogRecord] = []
    monkeypatch.setattr(udp_handler, 'handleError', handled.append)
    record = _record('Not enough arguments: %s %s')
    record.args = ('one',)

    udp_handler.emit(record)

    assert handled == [record]
