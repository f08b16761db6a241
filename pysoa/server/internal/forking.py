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
    Deque,
    Dict,
    Optional,
    Type,
)


if TYPE_CHECKING:
    from pysoa.server.server import Server


__all__ = (
    'MAXIMUM_RESPAWNS',
    'run_forked_workers',
)

# (restarts, within seconds): a worker restarted this often is not restarted again.
MAXIMUM_RESPAWNS = ((3, 15), (8, 60))


def _print(message: str) -> None:
    print(message, flush=True)


class _Supervisor:
    def __init__(self, server_class: Type['Server'], worker_count: int, respawn: bool) -> None:
        self.server_class = server_class
        self.worker_count = worker_count
        self.respawn = respawn
        self.stopping = threading.Event()
        self.processes: Dict[int, multiprocessing.process.BaseProcess] = {}
        self.lock = threading.Lock()
        self.context = multiprocessing.get_context('fork')

    def start_worker(self, index: int) -> Optional[multiprocessing.process.BaseProcess]:
        with self.lock:
            if self.stopping.is_set():
                return None
            process = self.context.Process(target=self.server_class.main, name=f'pysoa-worker-{index}', args=(index,))
            process.start()
            self.processes[index] = process
            return process

    def monitor(self, index: int) -> None:
        restarts: Deque[float] = collections.deque()
        process = self.start_worker(index)
        while process is not None:
            process.join()
            if self.stopping.is_set() or not self.respawn:
                return
            now = time.monotonic()
            for limit, window in MAXIMUM_RESPAWNS:
                if sum(1 for t in restarts if now - t < window) >= limit:
                    _print(
                        f'Server process #{index} has crashed too many times ({limit} times in {window} seconds); '
                        f'not respawning.',
                    )
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


def run_forked_workers(server_class: Type['Server'], worker_count: int, respawn: bool = True) -> None:
    """
    Run ``worker_count`` forked processes of ``server_class.main`` (worker ids 1 to N), restarting a worker that
    exits unless it was restarted 3 times in 15 seconds or 8 times in 60 seconds (or ``respawn`` is false).
    SIGINT, SIGTERM and SIGHUP stop every worker (with SIGTERM, so each finishes its job in progress) and return.
    The count is capped at 5 workers per CPU. ``server_class.pre_fork()`` runs once before any worker starts.
    """
    cap = 5 * (os.cpu_count() or 1)
    if worker_count > cap:
        _print(f'WARNING: Capping the number of forked server processes at {cap} (5 per CPU).')
        worker_count = cap

    supervisor = _Supervisor(server_class, worker_count, respawn)
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
    sys.stdout.flush()
