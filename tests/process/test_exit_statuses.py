"""
A server that stops because it cannot go on exits with a non-zero status (see ``pysoa.server.exit_codes``), so that
``Restart=on-failure`` and the like restart it; one stopped by a signal exits with 0 (see ``test_signals.py``).
"""

from pysoa.server.exit_codes import (
    TRANSPORT_FAILURE_EXIT_CODE,
    UNHANDLED_ERROR_EXIT_CODE,
)
from tests.process.helpers import (
    StartService,
    unreachable_redis,
)


def test_server_giving_up_after_too_many_transport_errors_exits_with_the_transport_failure_status(
    start_sample_service: StartService,
) -> None:
    # Nothing listens on the port: every receive fails, and the server backs off 16 seconds in all before giving up.
    service = start_sample_service(env=unreachable_redis())

    assert service.wait(30) == TRANSPORT_FAILURE_EXIT_CODE
    output = service.output()
    assert 'Too many errors receiving message from transport; shutting down!' in output
    assert 'Server shutdown complete' in output


def test_unhandled_error_escaping_the_server_loop_exits_with_the_unhandled_error_status(
    start_sample_service: StartService,
) -> None:
    service = start_sample_service(env={'SAMPLE_FAIL_WHEN_IDLE': '1'})

    assert service.wait(15) == UNHANDLED_ERROR_EXIT_CODE
    output = service.output()
    assert 'Unhandled server error; shutting down' in output
    assert 'RuntimeError: The sample idle hook failed' in output
    assert 'Server shutdown complete' in output
