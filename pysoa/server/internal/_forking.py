"""
Running a service as several forked worker processes: restarting the ones that crash, killing and replacing the ones
that hang (and answering their callers for them), and stopping them all.
"""

import collections
import inspect
import multiprocessing
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from types import FrameType
from typing import (
    TYPE_CHECKING,
    Any,
    Deque,
    Dict,
    List,
    Optional,
    Type,
)

from pysoa.common.errors import Error
from pysoa.server.exit_codes import WORKERS_FAILED_EXIT_CODE
from pysoa.server.internal._metrics_endpoint import worker_exited as metrics_worker_exited
from pysoa.server.internal._watchdog import (
    DEFAULT_SHUTDOWN_TIMEOUT,
    DEFAULT_STARTUP_TIMEOUT,
    Kill,
    UnavailableSettingsError,
    WatchdogLimits,
    default_hung_worker_timeout,
    exited_error,
    judge_worker,
    load_server_settings,
    shutdown_kill,
)
from pysoa.server.internal._worker_replies import (
    WorkerReplier,
    WorkerReplyError,
)
from pysoa.server.internal._worker_state import (
    BusyRequest,
    WorkerPhase,
    WorkerStateTable,
    WorkerStatus,
)


if TYPE_CHECKING:
    from pysoa.server.server import Server


__all__ = (
    'MAXIMUM_RESPAWNS',
    'run_forked_workers',
)

# (restarts, within seconds): a worker restarted this often is not restarted again.
MAXIMUM_RESPAWNS = ((3, 15), (8, 60))

# The signals the supervisor handles itself; workers must not inherit its handling of them.
_SUPERVISOR_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

# How often the supervisor reads its workers' states: a few bytes per worker each time.
_WATCH_INTERVAL = 0.25

# How long the supervisor, its workers gone, waits for the answers it is still sending (each takes at most the
# transport's receive timeout, 5 seconds by default).
_ANSWER_WAIT = 15.0


def _print(message: str) -> None:
    print(message, flush=True)


def _accepts_request_hook(server_class: Type['Server']) -> bool:
    """Whether the class's ``main`` takes ``request_hook`` (one overridden with the 1.x signature does not)."""
    try:
        parameters = inspect.signature(server_class.main).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == 'request_hook' or p.kind == inspect.Parameter.VAR_KEYWORD for p in parameters)


def _run_worker(
    server_class: Type['Server'],
    index: int,
    signal_handlers: Dict[int, Any],
    states: WorkerStateTable,
) -> None:
    # A worker starts with the signal handling the process had before it began forking (not the supervisor's, nor
    # the ignoring while spawning), so a stop signal arriving before the server installs its own handlers stops it.
    # The monitor thread that forked it blocked these signals, so none was handled in between; unblock them now.
    for signal_number, handler in signal_handlers.items():
        signal.signal(signal_number, handler)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _SUPERVISOR_SIGNALS)
    state_writer = states.writer(index)
    if _accepts_request_hook(server_class):
        server_class.main(index, request_hook=state_writer)
    else:
        state_writer.mark_unsupervised()
        server_class.main(index)


@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    pid: int
    started_at: float
    kill: Optional[Kill] = None
    last_status: Optional[WorkerStatus] = None

    def name(self, index: int) -> str:
        return f'Server process #{index} (pid {self.pid})'


class _Supervisor:
    def __init__(
        self,
        server_class: Type['Server'],
        worker_count: int,
        respawn: bool,
        worker_signal_handlers: Dict[int, Any],
        limits: WatchdogLimits,
        replier: WorkerReplier,
    ) -> None:
        self.server_class = server_class
        self.worker_count = worker_count
        self.respawn = respawn
        self.worker_signal_handlers = worker_signal_handlers
        self.limits = limits
        self.replier = replier
        self.stopping = threading.Event()
        self.stop_requested_at: Optional[float] = None
        self.finished = threading.Event()
        # Set when a worker failed and was not restarted (respawn limit reached, or no respawning).
        self.abandoned_worker = threading.Event()
        # The running (not yet reaped) worker of each index.
        self.workers: Dict[int, _Worker] = {}
        self.lock = threading.Lock()
        self.context = multiprocessing.get_context('fork')
        self.states = WorkerStateTable(worker_count)
        # The threads answering for workers that died handling a request.
        self.answering: List[threading.Thread] = []

    def start_worker(self, index: int) -> Optional[_Worker]:
        with self.lock:
            if self.stopping.is_set():
                return None
            self.states.reset(index)
            process = self.context.Process(
                target=_run_worker,
                name=f'pysoa-worker-{index}',
                args=(self.server_class, index, self.worker_signal_handlers, self.states),
            )
            process.start()
            assert process.pid is not None
            worker = self.workers[index] = _Worker(process, process.pid, time.monotonic())
            return worker

    def monitor(self, index: int) -> None:
        # The main thread handles the supervisor's signals. Blocked here, they also stay blocked in the workers this
        # thread forks until _run_worker has restored the workers' own signal handling.
        signal.pthread_sigmask(signal.SIG_BLOCK, _SUPERVISOR_SIGNALS)
        restarts: Deque[float] = collections.deque()
        worker = self.start_worker(index)
        while worker is not None:
            worker.process.join()
            self.worker_exited(index, worker)
            if self.stopping.is_set():
                return
            if not self.respawn:
                if worker.process.exitcode != 0:
                    self.abandoned_worker.set()
                return
            now = time.monotonic()
            for limit, window in MAXIMUM_RESPAWNS:
                if sum(1 for t in restarts if now - t < window) >= limit:
                    _print(
                        f'Server process #{index} has crashed too many times ({limit} times in {window} seconds); '
                        f'not respawning.',
                    )
                    self.abandoned_worker.set()
                    return
            _print(f'Re-spawning failed server process #{index}')
            restarts.append(now)
            worker = self.start_worker(index)

    def worker_exited(self, index: int, worker: _Worker) -> None:
        """Forget the worker; if it died handling a request, answer that request's caller for it (in a thread)."""
        with self.lock:
            self.workers.pop(index, None)
        metrics_worker_exited(worker.pid)
        status = self.states.status(index)
        if status is None or status.phase != WorkerPhase.BUSY:
            return
        request = self.states.busy_request(index)
        if request is None:
            _print(
                f'{worker.name(index)} exited while handling a request that it could not record; it cannot be answered.'
            )
            return
        if not request.wants_response:
            return
        error = worker.kill.error if worker.kill is not None and worker.kill.error is not None else None
        if error is None:
            error = exited_error(worker.process.exitcode)
        answering = threading.Thread(
            target=self.answer,
            args=(worker.name(index), request, error),
            name=f'pysoa-answer-{index}',
            daemon=True,
        )
        answering.start()
        with self.lock:
            self.answering = [thread for thread in self.answering if thread.is_alive()]
            self.answering.append(answering)

    def answer(self, worker_name: str, request: BusyRequest, error: Error) -> None:
        signal.pthread_sigmask(signal.SIG_BLOCK, _SUPERVISOR_SIGNALS)
        try:
            self.replier.answer(request, error, fork_lock=self.lock)
        except WorkerReplyError as e:
            _print(f'Could not answer {request.describe()} of {worker_name}: {e}')
            self.replier.count('server.supervisor.worker_reply_failed')
            return
        _print(f'Answered {request.describe()} of {worker_name} with {error.code}.')
        self.replier.count('server.supervisor.worker_replied', code=error.code)

    def wait_for_answers(self, timeout: float) -> None:
        """Wait, at most ``timeout`` seconds, until every answer being sent is sent."""
        deadline = time.monotonic() + timeout
        with self.lock:
            answering = list(self.answering)
        for thread in answering:
            thread.join(max(0.0, deadline - time.monotonic()))

    def watch(self) -> None:
        """Read each worker's state a few times a second, and kill those that outlived a limit."""
        signal.pthread_sigmask(signal.SIG_BLOCK, _SUPERVISOR_SIGNALS)
        while not self.finished.wait(_WATCH_INTERVAL):
            now = time.monotonic()
            stop_requested_at = self.stop_requested_at
            shutdown_overdue = (
                stop_requested_at is not None
                and bool(self.limits.shutdown_timeout)
                and now - stop_requested_at > self.limits.shutdown_timeout
            )
            with self.lock:
                workers = [(index, worker) for index, worker in self.workers.items() if worker.kill is None]
            for index, worker in workers:
                if shutdown_overdue:
                    kill: Optional[Kill] = shutdown_kill(self.limits)
                else:
                    status = self.states.status(index)
                    kill = judge_worker(status, worker.last_status, worker.started_at, now, self.limits)
                    worker.last_status = status
                if kill is not None:
                    self.kill(index, worker, kill)

    def kill(self, index: int, worker: _Worker, kill: Kill) -> None:
        request = self.states.busy_request(index)
        with self.lock:
            if self.workers.get(index) is not worker:
                return  # it exited meanwhile
            worker.kill = kill
            try:
                os.kill(worker.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        handling = f' while handling {request.describe()}' if request is not None else ''
        _print(f'{worker.name(index)} {kill.description}{handling}: killed it with SIGKILL.')
        self.replier.count('server.supervisor.worker_killed', reason=kill.reason)

    def stop(self, signal_number: int, _frame: Optional[FrameType]) -> None:
        if self.stop_requested_at is None:
            self.stop_requested_at = time.monotonic()
        self.stopping.set()
        with self.lock:
            pids = [worker.pid for worker in self.workers.values()]
        for pid in pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass


def run_forked_workers(
    server_class: Type['Server'],
    worker_count: int,
    respawn: bool = True,
    hung_worker_timeout: Optional[float] = None,
    startup_timeout: float = DEFAULT_STARTUP_TIMEOUT,
    shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT,
) -> int:
    """
    Run ``worker_count`` forked processes of ``server_class.main`` (worker ids 1 to N), restarting a worker that
    exits unless it was restarted 3 times in 15 seconds or 8 times in 60 seconds (or ``respawn`` is false).
    SIGINT, SIGTERM and SIGHUP stop every worker (with SIGTERM, so each finishes its job in progress) and return.
    The count is capped at 5 workers per CPU. ``server_class.pre_fork()`` runs once before any worker starts.

    Each worker tells the supervisor, through memory they share, when it is ready and which request it handles. A
    worker is killed with SIGKILL (and, like any worker that exits, restarted) when it handles one request for more
    than ``hung_worker_timeout`` seconds (by default ``harakiri.timeout + harakiri.shutdown_grace + 10``, or no limit
    if harakiri is off), when it is not ready ``startup_timeout`` seconds after it was started, or when it is still
    running ``shutdown_timeout`` seconds after a stop signal; 0 turns a limit off. When a worker dies handling a
    request, the supervisor sends its caller a job error through the server's transport: ``JOB_TIMEOUT`` if it was
    killed for a limit, ``SERVER_ERROR`` if it died on its own. Kills and answers are printed and counted in the
    server's metrics (``server.supervisor.*``).

    :return: The status for the process to exit with once every worker is gone: 0 if they were stopped by a signal
             (or, without respawning, all stopped cleanly), else
             :data:`~pysoa.server.exit_codes.WORKERS_FAILED_EXIT_CODE`.
    """
    cap = 5 * (os.cpu_count() or 1)
    if worker_count > cap:
        _print(f'WARNING: Capping the number of forked server processes at {cap} (5 per CPU).')
        worker_count = cap

    try:
        settings = load_server_settings(server_class)
    except UnavailableSettingsError as e:
        settings = None
        _print(
            f'WARNING: The supervisor could not load the server settings ({e}); it cannot answer for workers '
            f'that hang or die.'
        )
    limits = WatchdogLimits(
        hung_worker_timeout=default_hung_worker_timeout(settings)
        if hung_worker_timeout is None
        else hung_worker_timeout,
        startup_timeout=startup_timeout,
        shutdown_timeout=shutdown_timeout,
    )
    replier = WorkerReplier(server_class.service_name or server_class.__name__, settings)

    original_handlers = {s: signal.getsignal(s) for s in _SUPERVISOR_SIGNALS}
    worker_signal_handlers: Dict[int, Any] = {
        s: signal.SIG_DFL if h is None else h for s, h in original_handlers.items()
    }
    supervisor = _Supervisor(server_class, worker_count, respawn, worker_signal_handlers, limits, replier)
    ignored = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)}
    monitors: List[threading.Thread] = []
    try:
        server_class.pre_fork()
        monitors = [
            threading.Thread(target=supervisor.monitor, args=(index,), name=f'pysoa-monitor-{index}', daemon=True)
            for index in range(1, worker_count + 1)
        ]
        for monitor in monitors:
            monitor.start()
        threading.Thread(target=supervisor.watch, name='pysoa-watchdog', daemon=True).start()
    finally:
        for signal_number in ignored:
            signal.signal(signal_number, supervisor.stop)
        signal.signal(signal.SIGHUP, supervisor.stop)

    # Join with a timeout so the main thread keeps handling signals.
    for monitor in monitors:
        while monitor.is_alive():
            monitor.join(0.5)
    supervisor.finished.set()
    supervisor.wait_for_answers(_ANSWER_WAIT)
    if supervisor.abandoned_worker.is_set() and not supervisor.stopping.is_set():
        _print(f'No server process is left running; exiting with status {WORKERS_FAILED_EXIT_CODE}.')
        return WORKERS_FAILED_EXIT_CODE
    sys.stdout.flush()
    return 0
