"""Running a service as several forked worker processes, restarting the ones that crash."""

import collections
import multiprocessing
import os
import signal
import sys
import threading
import time
from types import FrameType
from typing import (
    TYPE_CHECKING,
    Any,
    Deque,
    Dict,
    Optional,
    Type,
)

from pysoa.server.exit_codes import WORKERS_FAILED_EXIT_CODE


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


def _print(message: str) -> None:
    print(message, flush=True)


def _run_worker(server_class: Type['Server'], index: int, signal_handlers: Dict[int, Any]) -> None:
    # A worker starts with the signal handling the process had before it began forking (not the supervisor's, nor
    # the ignoring while spawning), so a stop signal arriving before the server installs its own handlers stops it.
    # The monitor thread that forked it blocked these signals, so none was handled in between; unblock them now.
    for signal_number, handler in signal_handlers.items():
        signal.signal(signal_number, handler)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _SUPERVISOR_SIGNALS)
    server_class.main(index)


class _Supervisor:
    def __init__(
        self, server_class: Type['Server'], worker_count: int, respawn: bool, worker_signal_handlers: Dict[int, Any],
    ) -> None:
        self.server_class = server_class
        self.worker_count = worker_count
        self.respawn = respawn
        self.worker_signal_handlers = worker_signal_handlers
        self.stopping = threading.Event()
        # Set when a worker failed and was not restarted (respawn limit reached, or no respawning).
        self.abandoned_worker = threading.Event()
        self.processes: Dict[int, multiprocessing.process.BaseProcess] = {}
        self.lock = threading.Lock()
        self.context = multiprocessing.get_context('fork')

    def start_worker(self, index: int) -> Optional[multiprocessing.process.BaseProcess]:
        with self.lock:
            if self.stopping.is_set():
                return None
            process = self.context.Process(
                target=_run_worker,
                name=f'pysoa-worker-{index}',
                args=(self.server_class, index, self.worker_signal_handlers),
            )
            process.start()
            self.processes[index] = process
            return process

    def monitor(self, index: int) -> None:
        # The main thread handles the supervisor's signals. Blocked here, they also stay blocked in the workers this
        # thread forks until _run_worker has restored the workers' own signal handling.
        signal.pthread_sigmask(signal.SIG_BLOCK, _SUPERVISOR_SIGNALS)
        restarts: Deque[float] = collections.deque()
        process = self.start_worker(index)
        while process is not None:
            process.join()
            if self.stopping.is_set():
                return
            if not self.respawn:
                if process.exitcode != 0:
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
            process = self.start_worker(index)

    def stop(self, signal_number: int, _frame: Optional[FrameType]) -> None:
        self.stopping.set()
        with self.lock:
            processes = list(self.processes.values())
        for process in processes:
            if process.is_alive() and process.pid is not None:
                try:
                    os.kill(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass


def run_forked_workers(server_class: Type['Server'], worker_count: int, respawn: bool = True) -> int:
    """
    Run ``worker_count`` forked processes of ``server_class.main`` (worker ids 1 to N), restarting a worker that
    exits unless it was restarted 3 times in 15 seconds or 8 times in 60 seconds (or ``respawn`` is false).
    SIGINT, SIGTERM and SIGHUP stop every worker (with SIGTERM, so each finishes its job in progress) and return.
    The count is capped at 5 workers per CPU. ``server_class.pre_fork()`` runs once before any worker starts.

    :return: The status for the process to exit with once every worker is gone: 0 if they were stopped by a signal
             (or, without respawning, all stopped cleanly), else
             :data:`~pysoa.server.exit_codes.WORKERS_FAILED_EXIT_CODE`.
    """
    cap = 5 * (os.cpu_count() or 1)
    if worker_count > cap:
        _print(f'WARNING: Capping the number of forked server processes at {cap} (5 per CPU).')
        worker_count = cap

    original_handlers = {s: signal.getsignal(s) for s in _SUPERVISOR_SIGNALS}
    worker_signal_handlers: Dict[int, Any] = {
        s: signal.SIG_DFL if h is None else h for s, h in original_handlers.items()
    }
    supervisor = _Supervisor(server_class, worker_count, respawn, worker_signal_handlers)
    ignored = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        server_class.pre_fork()
        monitors = [
            threading.Thread(target=supervisor.monitor, args=(index,), name=f'pysoa-monitor-{index}', daemon=True)
            for index in range(1, worker_count + 1)
        ]
        for monitor in monitors:
            monitor.start()
    finally:
        for signal_number in ignored:
            signal.signal(signal_number, supervisor.stop)
        signal.signal(signal.SIGHUP, supervisor.stop)

    # Join with a timeout so the main thread keeps handling signals.
    for monitor in monitors:
        while monitor.is_alive():
            monitor.join(0.5)
    if supervisor.abandoned_worker.is_set() and not supervisor.stopping.is_set():
        _print(f'No server process is left running; exiting with status {WORKERS_FAILED_EXIT_CODE}.')
        return WORKERS_FAILED_EXIT_CODE
    sys.stdout.flush()
    return 0
