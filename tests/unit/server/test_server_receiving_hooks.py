"""
``Server.run()`` tells its transport when it starts serving requests one after the other and when it stops
(``start_receiving``/``stop_receiving``), so that a transport may start receiving the next request early; the response
to a request handled while shutting down is sent after ``stop_receiving``, so that it starts no such receive.
"""

import signal
from typing import (
    Any,
    Dict,
    List,
)

import pytest

from pysoa.common.transport.base import ReceivedMessage
from pysoa.server.server import Server
from tests.unit.server.services import (
    InMemoryServerTransport,
    action,
    make_server,
    transport_of,
)


@pytest.fixture(autouse=True)
def keep_pytest_signal_handlers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(signal, 'signal', lambda *_args: None)


class _CallLog:
    """Records the receiving hooks and the transport calls of a server, in order."""

    def __init__(self, server: Server) -> None:
        self.calls: List[str] = []
        transport = transport_of(server)
        receive, send = transport.receive_request_message, transport.send_response_message

        def receive_request_message() -> ReceivedMessage:
            self.calls.append('receive')
            return receive()

        def send_response_message(request_id: int, meta: Dict[str, Any], body: Dict[str, Any]) -> None:
            self.calls.append('send')
            send(request_id, meta, body)

        transport.receive_request_message = receive_request_message  # type: ignore[method-assign]
        transport.send_response_message = send_response_message  # type: ignore[method-assign]
        transport.start_receiving = lambda: self.calls.append('start')  # type: ignore[method-assign]
        transport.stop_receiving = lambda: self.calls.append('stop')  # type: ignore[method-assign]


def _shut_down_when_received(server: Server, transport: InMemoryServerTransport) -> None:
    receive = transport.receive_request_message

    def receive_then_shut_down() -> ReceivedMessage:
        message = receive()
        server.shutting_down = True
        return message

    transport.receive_request_message = receive_then_shut_down  # type: ignore[method-assign]


def test_the_transport_is_told_when_serving_starts_and_stops() -> None:
    server = make_server()
    transport_of(server).queue_request({'actions': [action('echo', said='hi')]})
    transport_of(server).fail_next_receive(RuntimeError('stop the server'))
    log = _CallLog(server)

    server.run()

    assert log.calls == ['start', 'receive', 'send', 'receive', 'stop']


def test_the_response_to_the_last_request_is_sent_after_the_transport_stops_receiving() -> None:
    server = make_server()
    transport_of(server).queue_request({'actions': [action('echo', said='last')]})
    _shut_down_when_received(server, transport_of(server))
    log = _CallLog(server)

    server.run()

    assert log.calls == ['start', 'receive', 'stop', 'send', 'stop']
    assert transport_of(server).responses[0].body is not None


def test_handling_requests_one_at_a_time_outside_run_never_tells_the_transport() -> None:
    server = make_server()
    transport_of(server).queue_request({'actions': [action('echo')]})
    log = _CallLog(server)

    server.handle_next_request()

    assert log.calls == ['receive', 'send']
