import re
import threading
from typing import (
    Any,
    Dict,
    List,
    Optional,
)

import pytest
from pymetrics.recorders.default import DefaultMetricsRecorder
from pymetrics.recorders.noop import NonOperationalMetricsRecorder

from pysoa.common.transport.base import (
    ClientTransport,
    ReceivedMessage,
    ServerTransport,
    Transport,
    get_hex_thread_id,
)


class EchoTransport(ClientTransport, ServerTransport):
    """Both sides in one object, the way real transports share backend code."""

    def __init__(self, service_name: str) -> None:
        super().__init__(service_name)
        self.queue: List[ReceivedMessage] = []

    def send_request_message(
        self,
        request_id: int,
        meta: Dict[str, Any],
        body: Dict[str, Any],
        message_expiry_in_seconds: Optional[int] = None,
    ) -> None:
        self.queue.append(ReceivedMessage(request_id, meta, body))

    def receive_request_message(self) -> ReceivedMessage:
        return self.queue.pop(0)

    def send_response_message(self, request_id: int, meta: Dict[str, Any], body: Dict[str, Any]) -> None:
        self.queue.append(ReceivedMessage(request_id, meta, body))

    def receive_response_message(self, receive_timeout_in_seconds: Optional[int] = None) -> ReceivedMessage:
        return self.queue.pop(0) if self.queue else ReceivedMessage(None, None, None)


def test_transport_keeps_service_name_and_metrics() -> None:
    metrics = DefaultMetricsRecorder('prefix')
    transport = Transport('example', metrics)
    assert (transport.service_name, transport.metrics) == ('example', metrics)


def test_transport_metrics_default_to_noop() -> None:
    assert isinstance(Transport('example').metrics, NonOperationalMetricsRecorder)


def test_service_name_must_be_str() -> None:
    with pytest.raises(ValueError, match='service_name must be a unicode string'):
        Transport(b'example')  # type: ignore[arg-type]


def test_metrics_must_be_a_metrics_recorder() -> None:
    with pytest.raises(ValueError, match='metrics must be a MetricsRecorder'):
        Transport('example', object())  # type: ignore[arg-type]


def test_server_transport_instance_index_defaults_to_one() -> None:
    assert EchoTransport('example').instance_index == 1


def test_abstract_transports_cannot_be_instantiated() -> None:
    with pytest.raises(TypeError):
        ClientTransport('example')  # type: ignore[abstract]
    with pytest.raises(TypeError):
        ServerTransport('example')  # type: ignore[abstract]


def test_a_transport_implementing_both_sides_carries_a_message_round_trip() -> None:
    transport = EchoTransport('example')
    transport.send_request_message(1, {'m': 1}, {'b': 2})
    request = transport.receive_request_message()
    transport.send_response_message(request.request_id or 0, request.meta or {}, {'answer': 3})
    assert transport.receive_response_message() == ReceivedMessage(1, {'m': 1}, {'answer': 3})
    assert transport.receive_response_message() == ReceivedMessage(None, None, None)


def test_received_message_fields_are_named() -> None:
    message = ReceivedMessage(5, {'meta': 1}, {'body': 2})
    assert (message.request_id, message.meta, message.body) == (5, {'meta': 1}, {'body': 2})


def test_hex_thread_id_is_twelve_lowercase_hex_digits_of_the_thread_ident() -> None:
    thread_id = get_hex_thread_id()
    assert re.fullmatch('[0-9a-f]{12,}', thread_id)
    assert int(thread_id, 16) == threading.get_ident()


def test_hex_thread_id_differs_between_threads() -> None:
    seen: List[str] = []
    thread = threading.Thread(target=lambda: seen.append(get_hex_thread_id()))
    thread.start()
    thread.join()
    assert seen[0] != get_hex_thread_id()
