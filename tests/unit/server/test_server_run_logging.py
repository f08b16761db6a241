"""
What ``Server.run()`` logs about its transport: where it listens, and the transport errors it recovers from. (The
Redis start-up line and the warnings of a real unreachable Redis are checked in tests/process.)
"""

import logging
import signal

import pytest

from pysoa.common.transport.errors import MessageReceiveError
from pysoa.server.exit_codes import UNHANDLED_ERROR_EXIT_CODE
from pysoa.server.server import Server
from tests.unit.server.services import (
    make_server,
    transport_of,
)


@pytest.fixture(autouse=True)
def keep_pytest_signal_handlers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(signal, 'signal', lambda *_args: None)


class LocalOnlyServer(Server):
    service_name = 'local_only'


def test_server_on_the_local_transport_says_so_at_startup(caplog: pytest.LogCaptureFixture) -> None:
    server = LocalOnlyServer(
        LocalOnlyServer.settings_class(
            {
                'transport': {'path': 'pysoa.common.transport.local:LocalServerTransport'},
            }
        )
    )

    with caplog.at_level(logging.INFO, logger='pysoa.server'):
        server.run()  # the local server transport is a stub: its first receive fails, which stops the server

    assert (
        'Listening for requests on the local transport (requests come from clients in this process; there is no queue).'
    ) in caplog.messages
    assert server.exit_code == UNHANDLED_ERROR_EXIT_CODE


def test_transient_transport_error_is_one_warning_and_its_traceback_is_logged_at_debug(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = make_server()
    transport_of(server).fail_next_receive(MessageReceiveError('Redis went away', 'ConnectionError'))
    transport_of(server).fail_next_receive(RuntimeError('stop the server'))

    with caplog.at_level(logging.DEBUG, logger='pysoa.server'):
        server.run()

    transport_records = [
        r
        for r in caplog.records
        if (r.exc_info and r.exc_info[0] is MessageReceiveError) or r.getMessage().startswith('Transient')
    ]
    assert [(r.levelno, r.exc_info is not None) for r in transport_records] == [
        (logging.DEBUG, True),
        (logging.WARNING, False),
    ]
    assert (
        transport_records[1]
        .getMessage()
        .startswith(
            'Transient error receiving message from transport (MessageReceiveError: Redis went away - '
            'ConnectionError); retrying in ',
        )
    )
