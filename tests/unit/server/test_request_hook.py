"""
``Server.request_hook``: what a server tells the process supervising it (the ``--fork`` supervisor gives each worker
one): that it is ready, and when each request starts (with what answers it) and ends; and which server classes can
be given one.
"""

import signal
from typing import (
    Any,
    Dict,
    List,
    Optional,
    Tuple,
)

import pytest

from pysoa.server.internal._forking import _accepts_request_hook
from pysoa.server.server import Server
from tests.unit.server.services import (
    CURRENT_CLIENT_META,
    action,
    make_server,
    transport_of,
)


@pytest.fixture(autouse=True)
def keep_pytest_signal_handlers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(signal, 'signal', lambda *_args: None)


class RecordingHook:
    """Records each call, and how many responses the server had sent by then."""

    def __init__(self, responses_sent: List[Any]) -> None:
        self.responses_sent = responses_sent
        self.calls: List[Tuple[Any, ...]] = []

    def on_ready(self) -> None:
        self.calls.append(('ready',))

    def on_request_start(self, request_id: Any, meta: Dict[str, Any], job_request: Any) -> None:
        self.calls.append(('start', request_id, meta, job_request, len(self.responses_sent)))

    def on_request_end(self) -> None:
        self.calls.append(('end', len(self.responses_sent)))


def test_request_hook_hears_ready_then_each_request_start_with_what_answers_it_then_its_end() -> None:
    server = make_server()
    transport = transport_of(server)
    hook = server.request_hook = RecordingHook(transport.responses)
    job = {'control': {}, 'context': {}, 'actions': [action('echo', x=1)]}
    transport.queue_request(job, request_id=7)
    transport.fail_next_receive(RuntimeError('stop the server'))

    server.run()

    assert hook.calls == [
        ('ready',),
        ('start', 7, CURRENT_CLIENT_META, job, 0),
        ('end', 1),  # after the response was sent
    ]


def test_request_hook_is_not_told_of_idle_polls() -> None:
    server = make_server()
    transport = transport_of(server)
    hook = server.request_hook = RecordingHook(transport.responses)

    server.handle_next_request()  # nothing queued: an idle poll

    assert hook.calls == []


class ServerWithOldMain(Server):
    service_name = 'old_main'

    @classmethod
    def main(cls, forked_process_id: Optional[int] = None) -> None:  # type: ignore[override]
        super().main(forked_process_id)


class ServerWithPassThroughMain(Server):
    service_name = 'pass_through_main'

    @classmethod
    def main(cls, *args: Any, **kwargs: Any) -> None:
        super().main(*args, **kwargs)


def test_forked_workers_get_a_request_hook_through_main_when_it_takes_one() -> None:
    assert _accepts_request_hook(Server)
    assert _accepts_request_hook(ServerWithPassThroughMain)


def test_forked_workers_whose_main_takes_no_request_hook_run_without_one() -> None:
    assert not _accepts_request_hook(ServerWithOldMain)
