"""
A soak test (not run in CI): the example service under steady load for minutes, to see failures, latency drift and
memory growth that short tests miss.

Run from the repository root::

    .venv/bin/python benchmarks/soak.py [--minutes M] [--clients C] [--fork N] [--warmup-seconds S]
        [--report-seconds S]

It starts a throwaway ``redis-server`` on a free loopback port (never 6379), the example service
(``python -m example_service -s example_service.settings --fork N``) against it, and C client threads, each with its
own ``Client``, calling the service back to back (mostly ``square``, some ``greet`` and ``sum_of_squares``, every
answer checked). After a warm-up that is not counted, every report interval (a minute by default) it prints the
calls, the failures by exception type, p50/p99/max latency, and the resident memory of the service's processes, of
this client process and of Redis; at the end, a summary with the memory growth of each process since the warm-up. It
stops everything it started, also on Ctrl-C or SIGTERM, and exits with status 1 if a call failed or the service died.
"""

import argparse
import collections
import contextlib
import dataclasses
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import threading
import time
from typing import (
    Any,
    Callable,
    Counter,
    Dict,
    Iterator,
    List,
    Optional,
    Tuple,
)

from pysoa.client.client import Client
from pysoa.client.errors import (
    CallActionError,
    CallJobError,
)


REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
SERVICE = 'example'
CALL_TIMEOUT_SECONDS = 10
FAILURE_PAUSE_SECONDS = 0.1
"""A client thread pauses this long after a failed call, so a dead service or Redis does not turn it into a busy
loop."""


# The load ------------------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Call:
    """One call the client threads make, and how to check its answer."""

    action: str
    body: Dict[str, Any]
    answer_is_right: Callable[[Dict[str, Any]], bool]


SQUARE = Call('square', {'number': 12}, lambda body: body == {'square': 144})
WORKLOAD: Tuple[Call, ...] = (
    *[SQUARE] * 8,
    Call('greet', {'name': 'Soak', 'language': 'fr'}, lambda body: body == {'greeting': 'Bonjour, Soak!'}),
    Call('sum_of_squares', {'numbers': [1, 2, 3]}, lambda body: body.get('sum') == 14),
)
"""What each client thread calls, in a loop: eight squares, a greeting, and a call that makes nested calls."""


class WrongAnswer(Exception):
    """A call returned, but not what the action answers."""


def failure_name(error: Exception) -> str:
    """How a failed call is counted: its exception type, with the error codes of a job or action error."""
    codes: List[str] = []
    if isinstance(error, CallActionError):
        codes = [e.code for action in error.actions for e in action.errors]
    elif isinstance(error, CallJobError):
        codes = [e.code for e in error.errors]
    return f'{type(error).__name__}[{",".join(codes)}]' if codes else type(error).__name__


# Figures ------------------------------------------------------------------------------------------------------------


class LatencyHistogram:
    """Latencies counted in 10-microsecond buckets: its memory stays bounded however long the soak runs."""

    BUCKET_NS = 10_000

    def __init__(self) -> None:
        self.buckets: Counter[int] = collections.Counter()
        self.count = 0
        self.max_ns = 0

    def add(self, nanoseconds: int) -> None:
        self.buckets[nanoseconds // self.BUCKET_NS] += 1
        self.count += 1
        self.max_ns = max(self.max_ns, nanoseconds)

    def merge(self, other: 'LatencyHistogram') -> None:
        self.buckets.update(other.buckets)
        self.count += other.count
        self.max_ns = max(self.max_ns, other.max_ns)

    def percentile_ms(self, fraction: float) -> float:
        """The latency (upper edge of its bucket) that ``fraction`` of the calls did not exceed, in milliseconds."""
        if not self.count:
            return float('nan')
        rank = fraction * self.count
        seen = 0
        for bucket in sorted(self.buckets):
            seen += self.buckets[bucket]
            if seen >= rank:
                return (bucket + 1) * self.BUCKET_NS / 1e6
        return self.max_ns / 1e6


@dataclasses.dataclass
class Window:
    """What the client threads did in one reporting interval."""

    latencies: LatencyHistogram = dataclasses.field(default_factory=LatencyHistogram)
    failures: Counter[str] = dataclasses.field(default_factory=collections.Counter)

    def merge(self, other: 'Window') -> None:
        self.latencies.merge(other.latencies)
        self.failures.update(other.failures)

    def describe(self, seconds: float) -> str:
        latencies = self.latencies
        failures = sum(self.failures.values())
        by_type = ', '.join(f'{name} {count:,}' for name, count in self.failures.most_common())
        return (
            f'calls {latencies.count:,} ({latencies.count / seconds:,.1f}/s)  failures {failures:,}'
            f'{f" ({by_type})" if by_type else ""}  p50 {latencies.percentile_ms(0.5):.2f} ms  '
            f'p99 {latencies.percentile_ms(0.99):.2f} ms  max {latencies.max_ns / 1e6:.1f} ms'
        )


class SharedWindow:
    """The current window, filled by every client thread and handed over (and replaced) at each report."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._window = Window()

    def call_succeeded(self, nanoseconds: int) -> None:
        with self._lock:
            self._window.latencies.add(nanoseconds)

    def call_failed(self, name: str) -> None:
        with self._lock:
            self._window.failures[name] += 1

    def take(self) -> Window:
        with self._lock:
            window, self._window = self._window, Window()
        return window


def rss_mb(pid: int) -> Optional[float]:
    """The resident memory of a process in MiB, or ``None`` if it is gone."""
    try:
        with open(f'/proc/{pid}/status') as status:
            for line in status:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def descendants(pid: int) -> List[int]:
    """The processes below ``pid`` (children, their children, ...), from ``/proc``."""
    children: Dict[int, List[int]] = collections.defaultdict(list)
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open(f'/proc/{entry}/stat') as stat:
                parent = int(stat.read().rsplit(')', 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children[parent].append(int(entry))
    found: List[int] = []
    pending = [pid]
    while pending:
        kids = sorted(children.get(pending.pop(), []))
        found += kids
        pending += kids
    return found


class MemoryLog:
    """The resident memory of each watched process when first and last sampled, for the growth summary."""

    def __init__(self) -> None:
        self.first: Dict[Tuple[str, int], float] = {}
        self.last: Dict[Tuple[str, int], float] = {}

    def sample(self, role: str, pid: int) -> str:
        rss = rss_mb(pid)
        if rss is None:
            return f'{role} {pid} gone'
        self.first.setdefault((role, pid), rss)
        self.last[(role, pid)] = rss
        return f'{role} {rss:.1f}'

    def sample_all(self, service_pid: int, redis_pid: int) -> str:
        """Sample the service with its workers, this client process and Redis, for a report line."""
        workers = ', '.join(self.sample('worker', pid) for pid in descendants(service_pid))
        return (
            f'RSS MiB: {self.sample("service", service_pid)}{f" ({workers})" if workers else ""}, '
            f'{self.sample("client", os.getpid())}, {self.sample("redis", redis_pid)}'
        )

    def growth(self) -> List[str]:
        """One line per process: its memory when first and last sampled, and whether it has exited since."""
        lines = []
        for (role, pid), rss in self.last.items():
            first = self.first[(role, pid)]
            exited = ', exited since' if rss_mb(pid) is None else ''
            lines.append(f'{role} (pid {pid}): {first:.1f} -> {rss:.1f} MiB ({rss - first:+.1f}{exited})')
        return lines


# Processes ----------------------------------------------------------------------------------------------------------


class Interrupted(BaseException):
    """
    SIGTERM arrived: stop the soak and clean up. Like ``KeyboardInterrupt`` (Ctrl-C), it is no ``Exception``, so that
    code retrying on any error (waiting for a process to start, say) does not swallow it.
    """


def _interrupt(signal_number: int, _frame: Any) -> None:
    raise Interrupted(signal.Signals(signal_number).name)


_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM back while a process starts, so that no process goes unrecorded (and unstopped)."""
    signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)


def _unblock_stop_signals() -> None:
    # Runs in the child between fork and exec: it inherited the mask signals_held() set, which would make it deaf
    # to the SIGTERM that stops it.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)


def start_service(port: int, fork: int, log_file: pathlib.Path) -> 'subprocess.Popen[bytes]':
    """Start the example service in its own session (so a terminal's Ctrl-C reaches only this script)."""
    command = [sys.executable, '-m', 'example_service', '-s', 'example_service.settings']
    if fork > 1:
        command += ['--fork', str(fork)]
    environment = {**os.environ, 'EXAMPLE_REDIS_HOST': '127.0.0.1', 'EXAMPLE_REDIS_PORT': str(port)}
    with signals_held(), open(log_file, 'wb') as log:
        return subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_unblock_stop_signals,
        )


def stop_service(process: 'subprocess.Popen[bytes]') -> None:
    """SIGTERM, then SIGKILL to its whole process group if it does not stop within 20 seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            print('The service did not stop within 20 s after SIGTERM; killing its process group', flush=True)
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def client_settings(port: int) -> Dict[str, Any]:
    """The example service's own client settings, pointed at the soak's Redis."""
    os.environ['EXAMPLE_REDIS_PORT'] = str(port)
    from example_service.settings import CLIENT_SETTINGS

    return CLIENT_SETTINGS


def client_loop(settings: Dict[str, Any], window: SharedWindow, stop: threading.Event) -> None:
    """Call the service back to back until ``stop`` is set, counting each call in ``window``."""
    client = Client(settings)
    index = 0
    while not stop.is_set():
        call = WORKLOAD[index % len(WORKLOAD)]
        index += 1
        started = time.perf_counter_ns()
        try:
            body = client.call_action(SERVICE, call.action, call.body, timeout=CALL_TIMEOUT_SECONDS).body
            if not call.answer_is_right(body):
                raise WrongAnswer(f'{call.action} answered {body!r}')
        except Exception as e:
            window.call_failed(failure_name(e))
            stop.wait(FAILURE_PAUSE_SECONDS)
        else:
            window.call_succeeded(time.perf_counter_ns() - started)


# The soak -----------------------------------------------------------------------------------------------------------


def soak(arguments: argparse.Namespace, port: int, service: 'subprocess.Popen[bytes]', redis_pid: int) -> int:
    """Load the running service for the given minutes, reporting as it goes; return the exit status."""
    from tests.support.redis_processes import wait_for

    settings = client_settings(port)
    probe = Client(settings)
    wait_for(lambda: probe.call_action(SERVICE, 'status', {'verbose': False}, timeout=2), 60, 'the service to answer')

    window, stop, total, memory = SharedWindow(), threading.Event(), Window(), MemoryLog()
    threads = [
        threading.Thread(target=client_loop, args=(settings, window, stop), name=f'soak-client-{i}', daemon=True)
        for i in range(arguments.clients)
    ]
    print(
        f'Soaking the example service (--fork {arguments.fork}) with {arguments.clients} client threads for '
        f'{arguments.minutes:g} min; Ctrl-C stops early',
        flush=True,
    )
    started = time.monotonic()
    window_start, service_died, interrupted = started, False, False
    try:
        for thread in threads:
            thread.start()
        time.sleep(arguments.warmup_seconds)
        warmup = window.take()
        print(
            f'[  0.0 min] after {arguments.warmup_seconds:g} s of warm-up ({warmup.latencies.count:,} calls, '
            f'{sum(warmup.failures.values()):,} failures, not counted): {memory.sample_all(service.pid, redis_pid)}',
            flush=True,
        )
        started = window_start = time.monotonic()
        deadline = started + arguments.minutes * 60
        while window_start < deadline and not service_died:
            time.sleep(max(0.0, min(window_start + arguments.report_seconds, deadline) - time.monotonic()))
            now = time.monotonic()
            current = window.take()
            total.merge(current)
            service_died = service.poll() is not None
            print(
                f'[{(now - started) / 60:5.1f} min] {current.describe(now - window_start)}  '
                f'{memory.sample_all(service.pid, redis_pid)}',
                flush=True,
            )
            window_start = now
    except (KeyboardInterrupt, Interrupted) as e:
        interrupted = True
        print(f'\nInterrupted ({str(e) or "Ctrl-C"}); stopping the clients', flush=True)
    finally:
        stop.set()
        for thread in threads:
            if thread.is_alive():
                thread.join(CALL_TIMEOUT_SECONDS + 5)
    total.merge(window.take())
    print_summary(total, memory, time.monotonic() - started, arguments)
    if service_died:
        print(f'THE SERVICE DIED (exit status {service.returncode})')
    if interrupted:
        return 130
    return 1 if service_died or total.failures else 0


def print_summary(total: Window, memory: MemoryLog, seconds: float, arguments: argparse.Namespace) -> None:
    """Every counted call, and how the memory of each process changed."""
    print(f'\n== Summary: {seconds / 60:.1f} min, {arguments.clients} clients, --fork {arguments.fork}')
    print(total.describe(seconds))
    print(f'p90 {total.latencies.percentile_ms(0.9):.2f} ms, p99.9 {total.latencies.percentile_ms(0.999):.2f} ms')
    print('Resident memory, after the warm-up -> at the end:')
    for line in memory.growth():
        print(f'  {line}')


def print_log_tail(log_file: pathlib.Path, lines: int = 15) -> None:
    """Say how much the service logged, and show the last ``lines`` lines."""
    text = log_file.read_text(errors='replace').splitlines() if log_file.exists() else []
    print(f'\nThe service logged {len(text)} lines' + (f'; the last {min(lines, len(text))}:' if text else '.'))
    for line in text[-lines:]:
        print(f'  | {line}')


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--minutes', type=float, default=10.0, help='how long to soak (default 10)')
    parser.add_argument('--clients', type=int, default=4, help='client threads (default 4)')
    parser.add_argument('--fork', type=int, default=2, help='worker processes of the service (default 2; 1: none)')
    parser.add_argument(
        '--warmup-seconds',
        type=float,
        default=10.0,
        help='load before the soak starts, not counted; memory growth is measured from its end (default 10)',
    )
    parser.add_argument('--report-seconds', type=float, default=60.0, help='seconds between reports (default 60)')
    arguments = parser.parse_args(argv)

    sys.path.insert(0, str(REPO_ROOT))  # example_service and tests.support live in the checkout
    from tests.support.redis_processes import (
        RedisServer,
        free_port,
    )

    signal.signal(signal.SIGTERM, _interrupt)
    with tempfile.TemporaryDirectory(prefix='pysoa-soak-') as directory:
        redis_server = RedisServer(pathlib.Path(directory) / 'redis', free_port())
        log_file = pathlib.Path(directory) / 'service.log'
        service: Optional[subprocess.Popen[bytes]] = None
        try:
            redis_server.start()
            assert redis_server.process is not None
            print(f'redis-server started on 127.0.0.1:{redis_server.port} (pid {redis_server.process.pid})', flush=True)
            service = start_service(redis_server.port, arguments.fork, log_file)
            return soak(arguments, redis_server.port, service, redis_server.process.pid)
        except (KeyboardInterrupt, Interrupted) as e:
            print(f'\nInterrupted ({str(e) or "Ctrl-C"}); stopping', flush=True)
            return 130
        finally:
            for stopping_signal in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C must not cut the clean-up short
                signal.signal(stopping_signal, signal.SIG_IGN)
            if service is not None:
                stop_service(service)
                print(f'Service stopped (exit status {service.returncode})')
                print_log_tail(log_file)
            redis_server.stop()
            print('redis-server stopped', flush=True)


if __name__ == '__main__':
    sys.exit(main())
