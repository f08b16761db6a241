"""
Harakiri: a job that outlives ``harakiri.timeout`` is interrupted (the caller gets ``ACTION_TIMEOUT``) and the server
shuts down; if the shutdown outlives ``shutdown_grace`` too, the process is forced out (and ``--fork`` replaces it).
"""

import time
from typing import (
    Set,
)

from pysoa.client.client import Client
from pysoa.common.constants import ERROR_CODE_ACTION_TIMEOUT
from pysoa.server.exit_codes import (
    HARAKIRI_EXIT_CODE,
    HARAKIRI_FORCED_EXIT_CODE,
)
from tests.process.helpers import (
    StartService,
    call,
    make_client,
    wait_for,
)
from tests.support.redis_processes import RedisServer


# The smallest limits the settings allow that still leave an idle poll (1 second here) well within the timeout.
HARAKIRI = {'timeout': 2, 'shutdown_grace': 1}
FORCED_EXIT_LOGGED = 'Graceful shutdown failed 1 seconds after harakiri. Exiting now!'


def test_action_outliving_the_harakiri_timeout_answers_action_timeout(
    start_sample_service: StartService,
    client: Client,
) -> None:
    service = start_sample_service(harakiri=HARAKIRI)
    service.wait_until_serving()
    started = time.monotonic()

    response = call(client, 'sample', 'sleep', {'seconds': 30})

    assert [e.code for e in response.errors] == [ERROR_CODE_ACTION_TIMEOUT]
    assert response.errors[0].message == 'The action "sleep" ran for too long and had to be interrupted.'
    assert response.errors[0].is_caller_error is False
    assert time.monotonic() - started < 10
    assert 'triggering harakiri with grace period of 1 seconds' in service.output()


def test_server_shuts_down_gracefully_after_harakiri_and_exits_with_the_harakiri_status(
    start_sample_service: StartService,
    client: Client,
) -> None:
    service = start_sample_service(harakiri=HARAKIRI)
    service.wait_until_serving()
    call(client, 'sample', 'sleep', {'seconds': 30})

    assert service.wait(10) == HARAKIRI_EXIT_CODE
    assert 'Server shutdown complete' in service.output()
    assert FORCED_EXIT_LOGGED not in service.output()


def test_action_ignoring_harakiri_is_forced_out_after_the_shutdown_grace_with_the_forced_harakiri_status(
    start_sample_service: StartService,
    redis_server: RedisServer,
) -> None:
    service = start_sample_service(harakiri=HARAKIRI)
    service.wait_until_serving()
    started = time.monotonic()

    # Its own client: no response will ever come for this request.
    make_client(redis_server.port, 'sample').call_action_future('sample', 'stubborn_sleep', {'seconds': 60}, timeout=60)

    assert service.wait(15) == HARAKIRI_FORCED_EXIT_CODE
    assert 2 <= time.monotonic() - started < 10  # harakiri after 1 to 2 seconds, then 1 second of grace
    output = service.output()
    assert FORCED_EXIT_LOGGED in output
    assert 'Server shutdown complete' not in output


def test_forked_worker_forced_out_by_harakiri_is_replaced_and_later_calls_succeed(
    start_sample_service: StartService,
    client: Client,
    redis_server: RedisServer,
) -> None:
    service = start_sample_service('--fork', '2', harakiri=HARAKIRI)
    original_workers = set(service.wait_until_serving(workers=2))

    make_client(redis_server.port, 'sample').call_action_future('sample', 'stubborn_sleep', {'seconds': 60}, timeout=60)
    service.wait_for_output(FORCED_EXIT_LOGGED)
    service.wait_for_output('Re-spawning failed server process #')

    # Which processes are the workers is told by who answers: the supervisor also forks a short-lived child to answer
    # the forced-out worker's caller.
    answered: Set[int] = set()

    def two_workers_answered() -> bool:
        answered.add(call(client, 'sample', 'who_am_i').body['pid'])
        return len(answered) == 2

    wait_for(two_workers_answered, 15, 'the surviving worker and the replacement to answer', interval=0)
    assert len(answered & original_workers) == 1  # the surviving worker
    [replacement] = answered - original_workers
    assert replacement in service.children()
