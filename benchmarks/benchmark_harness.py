"""
What the Redis benchmarks (``round_trip.py``, ``side_by_side.py``) share: the interpreters that run each PySOA
implementation, the worker processes they start (``round_trip_worker.py``), a throwaway ``redis-server``, CPU and
machine readings, tables, and a ``main`` that stops every process however the benchmark ends.
"""

import argparse
import dataclasses
import json
import os
import pathlib
import platform
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
from types import FrameType
from typing import (
    Any,
    Callable,
    Dict,
    List,
    Mapping,
    Optional,
    Sequence,
)

import redis


HERE = pathlib.Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
WORKER = HERE / 'round_trip_worker.py'

CLOCK_TICKS_PER_SECOND = os.sysconf('SC_CLK_TCK') if hasattr(os, 'sysconf') else 100


class BenchmarkError(Exception):
    """A process of the benchmark failed; the message says which and what it printed."""


# Interpreters -------------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Interpreter:
    """A Python interpreter that runs one PySOA implementation."""

    label: str
    python: str
    is_original: bool
    versions: Dict[str, Any] = dataclasses.field(hash=False, compare=False)

    @property
    def import_path(self) -> Optional[str]:
        """Ours is imported from this checkout; the original from its own virtualenv only."""
        return None if self.is_original else str(REPO_ROOT)

    @property
    def short(self) -> str:
        implementation = 'PySOA 1.4.9' if self.is_original else f'ours {self.versions.get("pysoa", "?")}'
        return f'{implementation} py{minor(self.versions["python"])}'

    def describe(self) -> str:
        """One line: the interpreter and the versions of the libraries that matter."""
        v = self.versions
        return (
            f'Python {v["python"]} ({v["executable"]}), pysoa {v.get("pysoa")}, redis-py {v.get("redis")}, '
            f'msgpack {v.get("msgpack")}, conformity {v.get("conformity")}'
        )


def minor(version: str) -> str:
    """``'3.11.7'`` -> ``'3.11'``."""
    return '.'.join(version.split('.')[:2])


def worker_command(interpreter: Interpreter, role: str, *arguments: str) -> List[str]:
    """The command that runs ``round_trip_worker.py`` in this role under this interpreter."""
    # -I: no environment variables, user site or current directory on sys.path; -B: no bytecode written anywhere.
    command = [interpreter.python, '-I', '-B', str(WORKER), role, *arguments]
    if interpreter.import_path and not role.startswith('raw-'):
        command += ['--import-path', interpreter.import_path]
    return command


def probe_interpreter(label: str, python: str, is_original: bool, work_dir: pathlib.Path) -> Interpreter:
    """Ask an interpreter which PySOA it imports, and refuse it if that is not the implementation expected."""
    if not os.path.exists(python):
        raise BenchmarkError(f'{label}: no interpreter at {python}')
    interpreter = Interpreter(label, python, is_original, {})
    completed = subprocess.run(
        worker_command(interpreter, 'versions'),
        cwd=work_dir,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if completed.returncode != 0:
        raise BenchmarkError(f'{label}: {python} cannot run the worker:\n{completed.stderr.strip()}')
    versions: Dict[str, Any] = json.loads(completed.stdout)
    pysoa_path = versions.get('pysoa_path') or ''
    # The original's virtualenv may live inside the checkout (.venv-interop/), so compare the package directory.
    from_checkout = bool(pysoa_path) and pathlib.Path(pysoa_path).resolve().parent == REPO_ROOT / 'pysoa'
    if is_original and (versions.get('pysoa') != '1.4.9' or from_checkout):
        raise BenchmarkError(
            f'{label}: {python} should import PySOA 1.4.9 from its own site-packages but imports '
            f'{versions.get("pysoa")} from {pysoa_path or "nowhere"} (pip install pysoa==1.4.9 into it)',
        )
    if not is_original and not from_checkout:
        raise BenchmarkError(
            f'{label}: {python} does not import PySOA from {REPO_ROOT} (got {pysoa_path or "nothing"}); it needs our '
            f'dependencies installed (pip install {REPO_ROOT})',
        )
    return Interpreter(label, python, is_original, versions)


def venv_python(venv: str) -> str:
    """The interpreter of a virtualenv."""
    return str(pathlib.Path(venv).expanduser().resolve() / 'bin' / 'python')


# Processes ----------------------------------------------------------------------------------------------------------


def free_port() -> int:
    """A free loopback port, never 6379."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(('127.0.0.1', 0))
            port: int = probe.getsockname()[1]
        if port != 6379:
            return port


def port_in_use(port: int) -> bool:
    """Whether something listens on this loopback port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(('127.0.0.1', port)) == 0


class ProcessGroup:
    """Every child process the benchmark starts, so that all are stopped however the benchmark ends."""

    def __init__(self) -> None:
        self.processes: List[subprocess.Popen[str]] = []

    def start(
        self,
        command: Sequence[str],
        cwd: pathlib.Path,
        log: pathlib.Path,
        read_stdout: bool = True,
        write_stdin: bool = False,
        env: Optional[Mapping[str, str]] = None,
    ) -> 'subprocess.Popen[str]':
        """
        Start a process, in a session of its own, whose stderr (and stdout, unless ``read_stdout``) goes to ``log``;
        with ``write_stdin``, its stdin is a pipe too.
        """
        with open(log, 'w') as log_file:
            process = subprocess.Popen(
                command,
                cwd=cwd,
                stdout=subprocess.PIPE if read_stdout else log_file,
                stderr=log_file,
                text=True,
                stdin=subprocess.PIPE if write_stdin else subprocess.DEVNULL,
                env=env,
                start_new_session=True,  # a Ctrl-C reaches only this script, which then stops its children in order
            )
        self.processes.append(process)
        return process

    @staticmethod
    def stop(process: 'subprocess.Popen[str]', timeout: float = 10) -> Optional[int]:
        """
        SIGTERM, then SIGKILL if it lingers; then SIGKILL to whatever is left of its session (the workers a
        supervisor forked). Returns the exit status.
        """
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout)
        try:
            os.killpg(process.pid, signal.SIGKILL)  # the session started with the process: its id is the group's
        except (ProcessLookupError, PermissionError):
            pass
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                try:
                    stream.close()
                except BrokenPipeError:
                    pass
        return process.returncode

    def stop_and_forget(self, process: 'subprocess.Popen[str]', timeout: float = 10) -> Optional[int]:
        """Stop one process (see ``stop``) and drop it from the group; returns its exit status."""
        try:
            return self.stop(process, timeout)
        finally:
            self.processes.remove(process)

    def stop_all(self) -> None:
        """Stop every process still running, the last started first."""
        for process in reversed(self.processes):
            self.stop(process)
        self.processes.clear()


def read_line(process: 'subprocess.Popen[str]', timeout: float) -> str:
    """The next line the process prints, or '' if it prints none within ``timeout`` seconds or exits."""
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    return process.stdout.readline() if ready else ''


def run_client(command: Sequence[str], work_dir: pathlib.Path, name: str, timeout: float) -> Dict[str, Any]:
    """Run a client worker to its end and return the JSON object it printed."""
    try:
        completed = subprocess.run(
            command,
            cwd=work_dir,
            capture_output=True,
            text=True,
            start_new_session=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as e:
        raise BenchmarkError(f'{name}: the client took longer than {e.timeout:.0f} s') from None
    return client_result(name, completed.returncode, completed.stdout, completed.stderr)


def client_result(name: str, status: Optional[int], stdout: str, stderr: str) -> Dict[str, Any]:
    """The JSON object a client worker printed, or a ``BenchmarkError`` with what it printed on stderr."""
    if status != 0:
        raise BenchmarkError(f'{name}: the client failed (status {status}):\n{stderr.strip()}')
    try:
        result: Dict[str, Any] = json.loads(stdout)
    except ValueError:
        raise BenchmarkError(f'{name}: the client printed no result:\n{stdout.strip()}') from None
    return result


def tail(path: pathlib.Path, lines: int = 30) -> str:
    """The last lines of a log file."""
    try:
        return '\n'.join(path.read_text(errors='replace').splitlines()[-lines:]) or '(nothing)'
    except OSError:
        return '(no log)'


class RedisServer:
    """A throwaway ``redis-server`` on loopback, with no persistence."""

    def __init__(self, binary: str, port: int, directory: pathlib.Path, processes: ProcessGroup) -> None:
        self.binary = binary
        self.port = port
        self.directory = directory
        self.processes = processes
        self.process: Optional[subprocess.Popen[str]] = None
        self.log = directory / 'redis-server.log'

    def start(self) -> 'RedisServer':
        """Start it and wait until it answers; refuses port 6379 and a port in use."""
        if self.port == 6379:
            raise BenchmarkError('Refusing to use port 6379: the benchmark runs its own redis-server')
        if port_in_use(self.port):
            raise BenchmarkError(f'Port {self.port} is already in use')
        command = [
            self.binary,
            '--port',
            str(self.port),
            '--bind',
            '127.0.0.1',
            '--save',
            '',
            '--appendonly',
            'no',
            '--dir',
            str(self.directory),
        ]
        self.process = self.processes.start(command, self.directory, self.log, read_stdout=False)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                # Make sure the Redis answering is the one started here, not another process on the same port.
                if int(self.client().info('server')['process_id']) == self.process.pid:
                    return self
            except redis.ConnectionError:
                pass
            time.sleep(0.05)
        raise BenchmarkError(f'redis-server did not start on port {self.port}:\n{tail(self.log)}')

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def client(self) -> redis.Redis:
        """An administrative connection (strings decoded)."""
        return redis.Redis(host='127.0.0.1', port=self.port, socket_timeout=10, decode_responses=True)

    def version(self) -> str:
        return str(self.client().info('server')['redis_version'])


def find_redis_server(name: str) -> str:
    """The path of the ``redis-server`` binary, or a ``BenchmarkError`` saying how to install it."""
    import shutil

    binary = shutil.which(name)
    if binary is None:
        raise BenchmarkError(f'{name} not found; install it (apt-get install -y redis-server)')
    return binary


# Readings -----------------------------------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> Optional[float]:
    """User + system CPU time a process has used so far (Linux only; ``None`` elsewhere)."""
    try:
        stat = pathlib.Path(f'/proc/{pid}/stat').read_text()
    except OSError:
        return None
    fields = stat.rsplit(')', 1)[1].split()  # the fields after the command name; utime and stime are 14 and 15
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS_PER_SECOND


def load_average() -> Optional[List[float]]:
    """The 1, 5 and 15 minute load averages, if the platform has them."""
    try:
        return [round(load, 2) for load in os.getloadavg()]
    except OSError:
        return None


def machine_description() -> Dict[str, Any]:
    """The platform, the CPU model and the number of CPUs."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in pathlib.Path('/proc/cpuinfo').read_text().splitlines():
            if line.startswith('model name'):
                cpu = line.split(':', 1)[1].strip()
                break
    except OSError:
        pass
    return {'platform': platform.platform(), 'cpu': cpu, 'cpu_count': os.cpu_count()}


def run_environment(redis_server: 'RedisServer', load_before: Optional[List[float]]) -> Dict[str, Any]:
    """The part of a run's header that every benchmark records: its Redis server, the machine and the load average
    before the run (``load_before``) and now, after it."""
    return {
        'redis_port': redis_server.port,
        'redis_version': redis_server.version(),
        'machine': machine_description(),
        'load_average_before': load_before,
        'load_average_after': load_average(),
    }


def format_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    right_from: int = 1,
    markdown: bool = False,
    align: Optional[str] = None,
) -> str:
    """
    A plain-text (or Markdown) table. The columns from ``right_from`` on are right-aligned, unless ``align`` gives
    every column's alignment (``'l'`` or ``'r'``, one letter per column).
    """
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]
    alignment = align or 'l' * right_from + 'r' * (len(widths) - right_from)

    def line(cells: Sequence[str]) -> str:
        padded = [
            str(cell).rjust(width) if alignment[index] == 'r' else str(cell).ljust(width)
            for index, (cell, width) in enumerate(zip(cells, widths))
        ]
        return f'| {" | ".join(padded)} |' if markdown else '  '.join(padded).rstrip()

    return '\n'.join([line(headers), line(['-' * width for width in widths]), *(line(r) for r in rows)])


@dataclasses.dataclass
class Progress:
    """Numbered progress lines on stderr."""

    total: int
    done: int = 0

    def step(self, text: str) -> None:
        self.done += 1
        print(f'[{self.done}/{self.total}] {text}', file=sys.stderr, flush=True)


# Main ---------------------------------------------------------------------------------------------------------------


def _interrupt_on_sigterm(_signum: int, _frame: Optional[FrameType]) -> None:
    raise KeyboardInterrupt()


def run_main(
    arguments: argparse.Namespace,
    run: Callable[[argparse.Namespace, ProcessGroup, pathlib.Path], Dict[str, Any]],
    report: Callable[[Dict[str, Any]], str],
    prefix: str,
) -> int:
    """
    Run a benchmark in a temporary directory outside the checkout (so that the original cannot import our pysoa),
    stop every process it started however it ends (also on Ctrl-C and SIGTERM), print its report and write the
    outcome to ``arguments.json`` if given. Returns the exit status.
    """
    signal.signal(signal.SIGTERM, _interrupt_on_sigterm)
    processes = ProcessGroup()
    try:
        with tempfile.TemporaryDirectory(prefix=prefix) as work_dir:
            try:
                outcome = run(arguments, processes, pathlib.Path(work_dir))
            finally:
                processes.stop_all()
    except BenchmarkError as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print('interrupted; every process started has been stopped', file=sys.stderr)
        return 130
    print(report(outcome))
    if arguments.json:
        with open(arguments.json, 'w') as output:
            json.dump(outcome, output, indent=2)
            output.write('\n')
    return 0


def add_redis_arguments(parser: argparse.ArgumentParser) -> None:
    """``--redis-port``, ``--redis-server`` and ``--json``, as the benchmarks that start their own Redis take them."""
    parser.add_argument('--redis-port', type=int, default=0, help='the throwaway redis-server port (default: free)')
    parser.add_argument('--redis-server', default='redis-server', help='the redis-server binary')
    parser.add_argument('--json', help='also write every figure to this file')


def script_worker_command(script: str, *arguments: str) -> List[str]:
    """The command that runs ``script`` in its worker role (``script worker ...``), with this interpreter."""
    # -E: no PYTHON* environment variables; -s: no user site; -B: no bytecode written into the checkout.
    return [sys.executable, '-E', '-s', '-B', script, 'worker', *arguments]


def worker_or_main(
    argv: Optional[Sequence[str]],
    run_worker: Callable[[Sequence[str]], None],
    parse_arguments: Callable[[Sequence[str]], argparse.Namespace],
    run: Callable[[argparse.Namespace, ProcessGroup, pathlib.Path], Dict[str, Any]],
    report: Callable[[Dict[str, Any]], str],
    prefix: str,
) -> int:
    """
    The ``main`` of a benchmark script whose workers are the script itself: ``script worker ...`` runs
    ``run_worker``; anything else runs the benchmark with :func:`run_main`.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == 'worker':
        run_worker(argv[1:])
        return 0
    return run_main(parse_arguments(argv), run, report, prefix)
