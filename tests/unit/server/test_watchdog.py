"""
The ``--fork`` supervisor's judgement of a worker from its published state: when it is hung or too slow to start,
the default hung-worker timeout, and what the caller of a worker's request is told.
"""

from typing import Optional

from pysoa.common.constants import (
    ERROR_CODE_JOB_TIMEOUT,
    ERROR_CODE_SERVER_ERROR,
)
from pysoa.server.internal._watchdog import (
    Kill,
    WatchdogLimits,
    default_hung_worker_timeout,
    exited_error,
    judge_worker,
    shutdown_kill,
)
from pysoa.server.internal._worker_state import (
    WorkerPhase,
    WorkerStatus,
)
from tests.unit.server.services import make_settings


LIMITS = WatchdogLimits(hung_worker_timeout=10, startup_timeout=60, shutdown_timeout=30)
NOW = 1000.0
STARTED_LONG_AGO = 0.0


def busy_since(since: float, sequence: int = 4) -> WorkerStatus:
    return WorkerStatus(sequence, WorkerPhase.BUSY, since)


def judge(
    status: Optional[WorkerStatus],
    previous: Optional[WorkerStatus],
    limits: WatchdogLimits = LIMITS,
    started_at: float = STARTED_LONG_AGO,
) -> Optional[Kill]:
    return judge_worker(status, previous, started_at, NOW, limits)


def test_worker_busy_on_one_request_beyond_the_timeout_at_two_looks_is_killed_as_hung() -> None:
    kill = judge(busy_since(NOW - 11), previous=busy_since(NOW - 11))

    assert kill is not None
    assert kill.reason == 'hung'
    assert kill.error is not None
    assert kill.error.code == ERROR_CODE_JOB_TIMEOUT
    assert kill.error.is_caller_error is False


def test_worker_busy_beyond_the_timeout_at_the_first_look_is_not_killed_yet() -> None:
    assert judge(busy_since(NOW - 11), previous=None) is None


def test_worker_that_started_another_request_since_the_last_look_is_not_killed() -> None:
    assert judge(busy_since(NOW - 11, sequence=6), previous=busy_since(NOW - 11, sequence=4)) is None


def test_worker_busy_within_the_timeout_is_not_killed() -> None:
    assert judge(busy_since(NOW - 9), previous=busy_since(NOW - 9)) is None


def test_hung_worker_timeout_0_never_kills_a_busy_worker() -> None:
    limits = WatchdogLimits(hung_worker_timeout=0, startup_timeout=60, shutdown_timeout=30)

    assert judge(busy_since(0), previous=busy_since(0), limits=limits) is None


def test_idle_worker_is_never_killed() -> None:
    idle = WorkerStatus(2, WorkerPhase.IDLE, 0)

    assert judge(idle, previous=idle) is None


def test_unreadable_state_never_kills() -> None:
    assert judge(None, previous=busy_since(0)) is None


def test_worker_not_ready_after_the_startup_timeout_is_killed_and_has_no_caller_to_answer() -> None:
    starting = WorkerStatus(0, WorkerPhase.STARTING, NOW - 61)

    kill = judge(starting, previous=None, started_at=NOW - 61)

    assert kill is not None
    assert kill.reason == 'startup'
    assert kill.error is None


def test_worker_starting_within_the_startup_timeout_is_not_killed() -> None:
    starting = WorkerStatus(0, WorkerPhase.STARTING, NOW - 59)

    assert judge(starting, previous=starting, started_at=NOW - 59) is None


def test_unsupervised_worker_is_not_killed_for_not_reporting_ready() -> None:
    unsupervised = WorkerStatus(2, WorkerPhase.UNSUPERVISED, 0)

    assert judge(unsupervised, previous=unsupervised) is None


def test_default_hung_worker_timeout_is_harakiri_timeout_plus_shutdown_grace_plus_10_seconds() -> None:
    settings = make_settings(harakiri={'timeout': 120, 'shutdown_grace': 15})

    assert default_hung_worker_timeout(settings) == 145


def test_default_hung_worker_timeout_is_off_when_harakiri_is_off() -> None:
    settings = make_settings(harakiri={'timeout': 0, 'shutdown_grace': 15})

    assert default_hung_worker_timeout(settings) == 0


def test_default_hung_worker_timeout_without_settings_follows_the_default_harakiri_settings() -> None:
    assert default_hung_worker_timeout(None) == 300 + 30 + 10


def test_caller_of_a_worker_killed_by_a_signal_is_told_which() -> None:
    error = exited_error(-9)

    assert error.code == ERROR_CODE_SERVER_ERROR
    assert error.message.startswith('The server process handling this job was killed by SIGKILL before responding.')


def test_caller_of_a_worker_that_exited_is_told_its_status() -> None:
    assert exited_error(7).message.startswith('The server process handling this job exited with status 7 before')


def test_worker_still_running_after_the_shutdown_timeout_is_killed_and_its_caller_told_so() -> None:
    kill = shutdown_kill(LIMITS)

    assert kill.reason == 'shutdown'
    assert kill.error is not None
    assert kill.error.code == ERROR_CODE_JOB_TIMEOUT
    assert 'still busy 30 seconds after the service was told to stop' in kill.error.message
