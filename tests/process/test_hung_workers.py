"""
Hung workers under ``--fork`` (real processes, real Redis): a worker blocked in C code with its signals masked, which
harakiri cannot interrupt, is killed and replaced, and the supervisor answers its caller; so is a worker hanging at
start-up, and one still running after ``--shutdown-timeout`` when the service is stopped.
"""

import os
import pathlib
import re
import signal
import threading
import time
from dataclasses import dataclass
from typing import (
    Dict,
    Iterator,
    List,
    Optional,
    Set,
    Tuple,
)

import pytest

from pysoa.client.client import Client
from pysoa.common.constants import (
    ERROR_CODE_JOB_TIMEOUT,
    ERROR_CODE_SERVER_ERROR,
)
from pysoa.common.errors import Error
from pysoa.common.types import JobResponse
from tests.process.helpers import (
    ServiceProcess,
    StartService,
    call,
    make_client,
    wait_for,
    wait_until_answered_by,
    wait_until_gone,
)
from tests.support.redis_processes import RedisServer


HANGING_MODULE = 'tests.process.hanging_service'
HANGING_SETTINGS = 'tests.process.hanging_service.settings'
# Logged by the worker once it has started handling the request (and told the supervisor so).
HANG_REQUEST_LOGGED = "'actions': [{'action': 'hang', 'body': {}}]"
HUNG_WORKER_TIMEOUT = 2
# The caller must have its answer within the hung-worker timeout plus 2 seconds: it waits no longer than that.
CALLER_TIMEOUT = HUNG_WORKER_TIMEOUT + 2


def hanging_service_command(*arguments: str) -> List[str]:
    """The arguments of ``python`` for the hanging service with two forked workers, plus ``arguments``."""
    return ['-m', HANGING_MODULE, '-s', HANGING_SETTINGS, '--fork', '2', *arguments]


def hanging_service_environment(redis_server: RedisServer, **variables: str) -> Dict[str, str]:
    return {'SAMPLE_REDIS_PORT': str(redis_server.port), **variables}


def start_hanging_service(redis_server: RedisServer, output_file: pathlib.Path, *arguments: str) -> ServiceProcess:
    """Start the hanging service with two forked workers (for module fixtures, which clean it up themselves)."""
    return ServiceProcess(
        hanging_service_command(*arguments),
        output_file,
        env=hanging_service_environment(redis_server),
    ).start()


@pytest.fixture
def start_hanging(start_service: StartService, redis_server: RedisServer) -> StartService:
    """``start_hanging(*arguments, **environment)`` starts the hanging service with two forked workers."""

    def start(*arguments: str, **environment: str) -> ServiceProcess:
        return start_service(
            *hanging_service_command(*arguments),
            env=hanging_service_environment(redis_server, **environment),
        )

    return start


def only_response(client: Client, timeout: int = CALLER_TIMEOUT) -> Tuple[int, JobResponse]:
    [(request_id, response)] = list(client.get_all_responses('sample', receive_timeout_in_seconds=timeout))
    return request_id, response


def replaced_workers(service: ServiceProcess, original: Set[int]) -> Set[int]:
    """Wait until one of the two original workers has been replaced; return the current two."""

    def one_replaced() -> Optional[Set[int]]:
        current = set(service.children())
        return current if len(current) == 2 and len(current - original) == 1 else None

    result: Set[int] = wait_for(one_replaced, 15, 'a worker to be replaced')
    return result


class CallStream:
    """Calls ``who_am_i`` over and over from a thread of its own, recording every failure."""

    def __init__(self, redis_port: int) -> None:
        self.client = make_client(redis_port, 'sample')
        self.answered = 0
        self.failures: List[BaseException] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                call(self.client, 'sample', 'who_am_i')
                self.answered += 1
            except Exception as e:
                self.failures.append(e)

    def __enter__(self) -> 'CallStream':
        self._thread.start()
        return self

    def __exit__(self, *_exc_info: object) -> None:
        self._stop.set()
        self._thread.join(10)


# A worker hung in a request ---------------------------------------------------------------------------------------


@dataclass
class HungRequestOutcome:
    request_id: int
    seconds_to_answer: float
    errors: List[Error]
    original_workers: Set[int]
    workers_after: Set[int]
    answered_after: Set[int]
    stream: CallStream
    output: str

    @property
    def hung_worker(self) -> int:
        return (self.original_workers - self.workers_after).pop()


@pytest.fixture(scope='module')
def hung_request(
    redis_session_server: RedisServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[HungRequestOutcome]:
    """
    One service with two workers and a stream of calls running throughout: one worker hangs in a request, gets
    killed and replaced, and the replacement serves. The tests below each check one part of what happened.
    """
    with redis_session_server.client() as redis_client:
        redis_client.flushall()
    service = start_hanging_service(
        redis_session_server,
        tmp_path_factory.mktemp('hung-request') / 'service.out',
        '--hung-worker-timeout',
        str(HUNG_WORKER_TIMEOUT),
    )
    try:
        original_workers = set(service.wait_until_serving(workers=2))
        client = make_client(redis_session_server.port, 'sample')
        with CallStream(redis_session_server.port) as stream:
            started = time.monotonic()
            client.send_request('sample', [{'action': 'hang'}])
            request_id, response = only_response(client)
            seconds_to_answer = time.monotonic() - started
            workers_after = replaced_workers(service, original_workers)
            answered_after = wait_until_answered_by(client, workers_after)
        # Printed once the answer's sender is done (it can send the answer before it is done).
        service.wait_for_output('counters.server.supervisor.worker_replied')
        outcome = HungRequestOutcome(
            request_id,
            seconds_to_answer,
            response.errors,
            original_workers,
            workers_after,
            answered_after,
            stream,
            service.output(),
        )
    finally:
        service.cleanup()  # before the other tests: its workers must not take their requests
    yield outcome


def test_caller_of_a_hung_worker_gets_job_timeout_within_the_timeout_plus_2_seconds(
    hung_request: HungRequestOutcome,
) -> None:
    assert [e.code for e in hung_request.errors] == [ERROR_CODE_JOB_TIMEOUT]
    assert hung_request.seconds_to_answer < HUNG_WORKER_TIMEOUT + 2


def test_error_for_a_hung_worker_says_it_hung_and_was_killed(hung_request: HungRequestOutcome) -> None:
    [error] = hung_request.errors

    assert error.message == (
        'The server process handling this job hung: it was still busy after 2 seconds and was killed. The job may '
        'have been partly carried out.'
    )
    assert error.is_caller_error is False


def test_hung_worker_is_killed_and_replaced_by_a_worker_that_serves(hung_request: HungRequestOutcome) -> None:
    assert len(hung_request.original_workers - hung_request.workers_after) == 1
    assert hung_request.answered_after == hung_request.workers_after
    assert 'Re-spawning failed server process #' in hung_request.output


def test_kill_of_a_hung_worker_is_logged_with_the_worker_the_request_and_the_action(
    hung_request: HungRequestOutcome,
) -> None:
    pattern = (
        rf'Server process #[12] \(pid {hung_request.hung_worker}\) has been handling one request for [0-9.]+ '
        rf'seconds, more than 2 seconds \(--hung-worker-timeout\) while handling request {hung_request.request_id} '
        rf'\(actions: hang; correlation id [^)]+\): killed it with SIGKILL\.'
    )
    assert re.search(pattern, hung_request.output), hung_request.output
    assert re.search(
        rf'Answered request {hung_request.request_id} \(actions: hang; correlation id [^)]+\) of Server process '
        rf'#[12] \(pid {hung_request.hung_worker}\) with JOB_TIMEOUT\.',
        hung_request.output,
    ), hung_request.output


def test_kill_of_a_hung_worker_and_the_answer_for_it_are_counted_in_the_metrics(
    hung_request: HungRequestOutcome,
) -> None:
    assert 'counters.server.supervisor.worker_killed{reason:hung} 1' in hung_request.output
    assert 'counters.server.supervisor.worker_replied{code:JOB_TIMEOUT} 1' in hung_request.output


def test_other_worker_keeps_serving_while_a_worker_hangs_and_is_replaced(hung_request: HungRequestOutcome) -> None:
    assert hung_request.stream.failures == []
    assert hung_request.stream.answered > 0


# A worker hung at start-up ---------------------------------------------------------------------------------------


def test_worker_hanging_at_startup_is_killed_and_replaced_by_a_worker_that_serves(
    start_hanging: StartService,
    client: Client,
    tmp_path: pathlib.Path,
) -> None:
    claim_file = tmp_path / 'hang-at-startup'
    claim_file.write_text('')
    service = start_hanging('--startup-timeout', '3', HANG_AT_STARTUP_FILE=str(claim_file))
    claimed = pathlib.Path(f'{claim_file}.claimed')
    hung_worker = int(wait_for(lambda: claimed.exists() and claimed.read_text(), 15, 'a worker to hang at start-up'))

    service.wait_for_output(
        f'(pid {hung_worker}) did not report ready within 3 seconds (--startup-timeout): killed it with SIGKILL.'
    )
    wait_until_gone([hung_worker], 10, 'the hung worker to be killed')
    workers = set(service.wait_until_serving(workers=2))

    assert hung_worker not in workers
    assert wait_until_answered_by(client, workers) == workers
    assert 'counters.server.supervisor.worker_killed{reason:startup} 1' in service.output()


# A worker that ignores SIGTERM -----------------------------------------------------------------------------------


@dataclass
class StopOutcome:
    exit_status: int
    errors: List[Error]
    output: str


@pytest.fixture(scope='module')
def stop_with_a_stubborn_worker(
    redis_session_server: RedisServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[StopOutcome]:
    """
    One service with two workers, stopped with SIGTERM while one of them is hung in a request with SIGTERM masked
    (and no hung-worker timeout): the supervisor kills it after ``--shutdown-timeout 1``.
    """
    with redis_session_server.client() as redis_client:
        redis_client.flushall()
    service = start_hanging_service(
        redis_session_server,
        tmp_path_factory.mktemp('stubborn-stop') / 'service.out',
        '--hung-worker-timeout',
        '0',
        '--shutdown-timeout',
        '1',
    )
    try:
        workers = service.wait_until_serving(workers=2)
        client = make_client(redis_session_server.port, 'sample')
        client.send_request('sample', [{'action': 'hang'}])
        service.wait_for_output(HANG_REQUEST_LOGGED)

        exit_status = service.stop(signal.SIGTERM, timeout=10)
        _request_id, response = only_response(client)
        wait_until_gone(workers, 10, 'the workers to exit')
        outcome = StopOutcome(exit_status, response.errors, service.output())
    finally:
        service.cleanup()
    yield outcome


def test_worker_ignoring_sigterm_is_killed_after_the_shutdown_timeout(
    stop_with_a_stubborn_worker: StopOutcome,
) -> None:
    assert re.search(
        r'Server process #[12] \(pid \d+\) was still running 1 second after the stop signal \(--shutdown-timeout\) '
        r'while handling request \d+ \(actions: hang; [^)]+\): killed it with SIGKILL\.',
        stop_with_a_stubborn_worker.output,
    ), stop_with_a_stubborn_worker.output
    assert stop_with_a_stubborn_worker.output.count('Server shutdown complete') == 1  # the other one stopped itself


def test_supervisor_that_killed_a_stubborn_worker_at_shutdown_exits_0(stop_with_a_stubborn_worker: StopOutcome) -> None:
    assert stop_with_a_stubborn_worker.exit_status == 0


def test_caller_of_a_worker_killed_at_shutdown_gets_job_timeout(stop_with_a_stubborn_worker: StopOutcome) -> None:
    [error] = stop_with_a_stubborn_worker.errors

    assert error.code == ERROR_CODE_JOB_TIMEOUT
    assert error.message == (
        'The server process handling this job was still busy 1 second after the service was told to stop, and was '
        'killed. The job may have been partly carried out.'
    )


# A worker that dies on its own ------------------------------------------------------------------------------------


def test_caller_of_a_worker_that_died_while_busy_gets_a_server_error(
    start_hanging: StartService,
    client: Client,
) -> None:
    service = start_hanging()
    workers = service.wait_until_serving(workers=2)
    client.send_request('sample', [{'action': 'sleep', 'body': {'seconds': 30}}])
    service.wait_for_output("'actions': [{'action': 'sleep', 'body': {'seconds': 30}}]")  # a worker is handling it

    for pid in workers:  # whichever took it
        os.kill(pid, signal.SIGKILL)
    _request_id, response = only_response(client)

    assert [(e.code, e.message) for e in response.errors] == [
        (
            ERROR_CODE_SERVER_ERROR,
            'The server process handling this job was killed by SIGKILL before responding. The job may have been '
            'partly carried out.',
        )
    ]


# The command line ---------------------------------------------------------------------------------------------------


def test_negative_hung_worker_timeout_is_a_usage_error(start_hanging: StartService) -> None:
    service = start_hanging('--hung-worker-timeout', '-1')

    assert service.wait(30) == 2
    assert "argument --hung-worker-timeout: expected a number of seconds (0 or more), got '-1'" in service.output()
