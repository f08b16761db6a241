"""
PySOA 1.4.9, this re-implementation (2.0) and the raw redis-py floor, side by side in one run, against the goals.

Run from the repository root::

    .venv/bin/python benchmarks/side_by_side.py [--rounds N] [--calls N] [--original-venv PATH] [--json FILE]

Every round runs each of these once, in an order rotated from round to round, one at a time:

- local: an in-process ``Client`` over ``LocalClientTransport`` calling ``echo`` sequentially (1.4.9, 2.0);
- redis: one server process and one client process calling ``echo`` sequentially over a throwaway loopback
  ``redis-server`` (1.4.9, 2.0, and the raw redis-py pair);
- fork: the service started as ``python -m round_trip_service --fork 2`` (the raw floor: two raw worker processes),
  and two client processes of two threads each calling it back to back (1.4.9, 2.0, raw).

It prints the median of every figure over the rounds, the ratios 2.0/1.4.9 and 2.0/floor, the goal and whether it
is met, then every figure round by round. See ``benchmarks/README.md``.
"""

import argparse
import dataclasses
import hashlib
import os
import pathlib
import statistics
import subprocess
import sys
import time
from typing import (
    Any,
    Callable,
    Dict,
    List,
    Optional,
    Sequence,
    Tuple,
)

from benchmark_harness import (
    HERE,
    REPO_ROOT,
    BenchmarkError,
    Interpreter,
    ProcessGroup,
    Progress,
    RedisServer,
    client_result,
    find_redis_server,
    format_table,
    free_port,
    load_average,
    probe_interpreter,
    read_line,
    run_client,
    run_environment,
    run_main,
    tail,
    venv_python,
    worker_command,
)
from round_trip import (
    DEFAULT_REQUEST_BYTES,
    DEFAULT_RESPONSE_BYTES,
    Row,
    Runner,
)


ORIGINAL, OURS, FLOOR = '1.4.9', '2.0', 'raw redis-py floor'
COLUMNS = (ORIGINAL, OURS, FLOOR)

DEFAULT_ORIGINAL_VENV = REPO_ROOT / '.venv-interop' / 'pysoa-1.4.9-python-3.9.18'
"""Where ``tests/support/original_pysoa.py`` builds the original's virtualenv."""

ACTION = 'echo'
FORK_PROCESSES = 2
CLIENT_PROCESSES = 2
THREADS_PER_CLIENT = 2
SERVICE_READY = 'round_trip_bench ready'
"""What each worker of the standalone service prints once set up, with its pysoa's path (``round_trip_service.py``)."""
REDIS_PORT_VARIABLE = 'ROUND_TRIP_BENCH_REDIS_PORT'
"""The standalone service's Redis port (``round_trip_service.REDIS_PORT_VARIABLE``)."""


# Figures and goals --------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Goal:
    """A goal for the 2.0 figure: at least a multiple of 1.4.9's, at least a fraction of the floor, at most a value."""

    text: str
    times_original: Optional[float] = None
    fraction_of_floor: Optional[float] = None
    at_most: Optional[float] = None

    def met(self, medians: Dict[str, Optional[float]]) -> Optional[bool]:
        """Whether the medians meet every part of the goal; ``None`` if a figure it needs is missing."""
        ours, original, floor = medians.get(OURS), medians.get(ORIGINAL), medians.get(FLOOR)
        checks: List[Optional[bool]] = []
        if self.times_original is not None:
            checks.append(None if ours is None or original is None else ours >= self.times_original * original)
        if self.fraction_of_floor is not None:
            checks.append(None if ours is None or floor is None else ours >= self.fraction_of_floor * floor)
        if self.at_most is not None:
            checks.append(None if ours is None else ours <= self.at_most)
        return None if None in checks else all(checks)


@dataclasses.dataclass(frozen=True)
class Figure:
    """One line of the table: a figure that one experiment measures for each of its columns."""

    key: str
    label: str
    experiment: str
    goal: Goal
    decimals: int = 0


EXPERIMENTS: Dict[str, Tuple[str, ...]] = {
    'local': (ORIGINAL, OURS),
    'redis': COLUMNS,
    'fork': COLUMNS,
}
"""Each experiment and the columns it runs (the local transport has no raw floor)."""

FIGURES = (
    Figure('local_calls_per_second', 'local transport calls/s', 'local', Goal('>= 3x 1.4.9', times_original=3)),
    Figure(
        'redis_calls_per_second',
        'Redis calls/s',
        'redis',
        Goal('>= 2.5x 1.4.9 and >= 80% of floor', times_original=2.5, fraction_of_floor=0.8),
    ),
    Figure('redis_p50_us', 'Redis p50 latency (us)', 'redis', Goal('<= 200 us', at_most=200)),
    Figure('client_cpu_us', 'client CPU per call (us)', 'redis', Goal('<= 120 us', at_most=120)),
    Figure('server_cpu_us', 'server CPU per call (us)', 'redis', Goal('<= 120 us', at_most=120)),
    Figure(
        'fork_calls_per_second',
        f'--fork {FORK_PROCESSES}, {CLIENT_PROCESSES}x{THREADS_PER_CLIENT} clients, calls/s',
        'fork',
        Goal('>= 2x 1.4.9', times_original=2),
    ),
)


@dataclasses.dataclass(frozen=True)
class Run:
    """One experiment for one column: what a round runs once."""

    experiment: str
    column: str

    @property
    def name(self) -> str:
        return f'{self.experiment} {self.column}'


def plan_runs() -> List[Run]:
    return [Run(experiment, column) for experiment, columns in EXPERIMENTS.items() for column in columns]


def rotated(runs: Sequence[Run], round_number: int, rounds: int) -> List[Run]:
    """The runs of a round: the rounds start at positions spread evenly over the list."""
    shift = (round_number - 1) * len(runs) // rounds
    return [*runs[shift:], *runs[:shift]]


# Measuring ----------------------------------------------------------------------------------------------------------


def _percentile_50_us(latencies_ns: List[int]) -> float:
    """Nearest-rank median, in microseconds."""
    ordered = sorted(latencies_ns)
    return ordered[(len(ordered) + 1) // 2 - 1] / 1000


def _calls_per_second(result: Dict[str, Any]) -> float:
    return float(result['calls'] / result['elapsed_ns'] * 1e9)


class SideBySide:
    """Measures one run at a time against one Redis and returns its figures."""

    def __init__(
        self,
        arguments: argparse.Namespace,
        redis_server: RedisServer,
        work_dir: pathlib.Path,
        processes: ProcessGroup,
        interpreters: Dict[str, Interpreter],
    ) -> None:
        self.arguments = arguments
        self.redis_server = redis_server
        self.work_dir = work_dir
        self.processes = processes
        self.interpreters = interpreters
        self.round_trip = Runner(redis_server, work_dir, processes, arguments.calls, arguments.warmup, action=ACTION)
        # Until 2.0's first Redis run has measured its frames (it runs before the floor's in the first round).
        self.floor_sizes = (DEFAULT_REQUEST_BYTES, DEFAULT_RESPONSE_BYTES)
        self.floor_sizes_measured = False
        self.frames: Dict[str, Tuple[Optional[int], Optional[int]]] = {}

    def measure(self, run: Run, round_number: int) -> Dict[str, float]:
        """The figures of one run."""
        measure: Callable[[str, int], Dict[str, float]] = getattr(self, f'_{run.experiment}')
        return measure(run.column, round_number)

    def _local(self, column: str, _round_number: int) -> Dict[str, float]:
        command = worker_command(
            self.interpreters[column],
            'local',
            '--action',
            ACTION,
            '--calls',
            str(self.arguments.local_calls),
            '--warmup',
            str(self.arguments.warmup),
        )
        result = run_client(command, self.work_dir, f'local {column}', 120 + self.arguments.local_calls * 0.01)
        return {'local_calls_per_second': _calls_per_second(result)}

    def _redis(self, column: str, round_number: int) -> Dict[str, float]:
        interpreter = self.interpreters[column]
        row = Row(f'redis {column}', interpreter, interpreter, raw=column == FLOOR)
        result, usage = self.round_trip.run(row, round_number, self.floor_sizes)
        self.frames[column] = (result.get('request_frame_bytes'), result.get('response_frame_bytes'))
        if column == OURS and not self.floor_sizes_measured and None not in self.frames[column]:
            self.floor_sizes = (result['request_frame_bytes'], result['response_frame_bytes'])
            self.floor_sizes_measured = True
        figures = {
            'redis_calls_per_second': _calls_per_second(result),
            'redis_p50_us': _percentile_50_us(result['latencies_ns']),
            'client_cpu_us': result['cpu_ns'] / result['calls'] / 1000,
        }
        if usage.server_cpu_seconds is not None:
            # Over warm-up and timed calls: the kernel counts CPU time in 10 ms ticks.
            round_trips = self.arguments.warmup + 1 + self.arguments.calls
            figures['server_cpu_us'] = usage.server_cpu_seconds / round_trips * 1e6
        return figures

    def _fork(self, column: str, _round_number: int) -> Dict[str, float]:
        self.redis_server.client().flushall()
        servers = self._start_fork_servers(column)
        try:
            results = self._run_concurrent_clients(column, servers)
        finally:
            for server in servers:
                # Stopping gracefully would wait for each worker's blocking pop to time out; nothing is in flight.
                self.processes.stop_and_forget(server, timeout=1)
        started = min(r['started_ns'] for r in results)
        ended = max(r['ended_ns'] for r in results)
        return {'fork_calls_per_second': sum(r['calls'] for r in results) / (ended - started) * 1e9}

    def _start_fork_servers(self, column: str) -> List['subprocess.Popen[str]']:
        """The floor's raw worker processes, or the standalone service with forked workers; once all are ready."""
        port = str(self.redis_server.port)
        interpreter = self.interpreters[column]
        if column == FLOOR:
            servers = []
            for index in range(FORK_PROCESSES):
                command = worker_command(
                    interpreter,
                    'raw-server',
                    '--port',
                    port,
                    '--response-bytes',
                    str(self.floor_sizes[1]),
                )
                log = self.work_dir / f'raw-server-{index}.log'
                servers.append(self.processes.start(command, self.work_dir, log))
                if read_line(servers[-1], 60).strip() != 'ready':
                    raise BenchmarkError(f'fork {column}: a raw server did not start:\n{tail(log)}')
            return servers

        # A real service: python -m, not -I (which ignores PYTHONPATH), so -s (no user site) and no PYTHON* variables.
        environment = {k: v for k, v in os.environ.items() if not k.startswith('PYTHON')}
        environment['PYTHONPATH'] = os.pathsep.join([str(HERE), *filter(None, [interpreter.import_path])])
        environment[REDIS_PORT_VARIABLE] = port
        command = [
            interpreter.python,
            '-s',
            '-B',
            '-m',
            'round_trip_service',
            '-s',
            'round_trip_service',
            '--fork',
            str(FORK_PROCESSES),
        ]
        log = self.work_dir / 'service.log'
        service = self.processes.start(command, self.work_dir, log, read_stdout=False, env=environment)
        deadline = time.monotonic() + 60
        while True:
            ready = [line for line in log.read_text(errors='replace').splitlines() if SERVICE_READY in line]
            if len(ready) >= FORK_PROCESSES:
                break
            if service.poll() is not None or time.monotonic() > deadline:
                raise BenchmarkError(f'fork {column}: the service did not start:\n{tail(log)}')
            time.sleep(0.05)
        expected = f'{SERVICE_READY} {interpreter.versions["pysoa_path"]}'
        if any(line.strip() != expected for line in ready):
            raise BenchmarkError(f'fork {column}: the service imports the wrong pysoa: {ready} (expected {expected})')
        return [service]

    def _run_concurrent_clients(self, column: str, servers: List['subprocess.Popen[str]']) -> List[Dict[str, Any]]:
        """Start the client processes, let them warm up, start them together and collect their results."""
        interpreter = self.interpreters[column]
        if column == FLOOR:
            role, what = 'raw-client', ['--request-bytes', str(self.floor_sizes[0])]
        else:
            role, what = 'client', ['--action', ACTION]
        command = worker_command(
            interpreter,
            role,
            '--port',
            str(self.redis_server.port),
            *what,
            '--threads',
            str(THREADS_PER_CLIENT),
            '--seconds',
            str(self.arguments.fork_seconds),
            '--warmup',
            str(self.arguments.fork_warmup),
        )
        logs = [self.work_dir / f'client-{index}.log' for index in range(CLIENT_PROCESSES)]
        clients = [self.processes.start(command, self.work_dir, log, write_stdin=True) for log in logs]
        try:
            for client, log in zip(clients, logs):
                if read_line(client, 120).strip() != 'ready':
                    raise BenchmarkError(f'fork {column}: a client did not warm up:\n{tail(log)}')
            for client in clients:
                assert client.stdin is not None
                client.stdin.write('go\n')
                client.stdin.flush()
            results = []
            for client, log in zip(clients, logs):
                try:
                    status = client.wait(self.arguments.fork_seconds + 60)
                except subprocess.TimeoutExpired:
                    raise BenchmarkError(f'fork {column}: a client did not finish:\n{tail(log)}') from None
                assert client.stdout is not None
                results.append(client_result(f'fork {column}', status, client.stdout.read(), tail(log)))
        finally:
            for client in clients:
                self.processes.stop_and_forget(client)
        if any(server.poll() is not None for server in servers):
            raise BenchmarkError(f'fork {column}: a server process exited during the run')
        return results


# The checkout -------------------------------------------------------------------------------------------------------


def checkout_state() -> Dict[str, Any]:
    """The commit, the paths that differ from it, and a fingerprint of every file under ``pysoa/`` as it is now."""

    def git(*arguments: str) -> str:
        completed = subprocess.run(['git', '-C', str(REPO_ROOT), *arguments], capture_output=True, text=True)
        return completed.stdout.strip() if completed.returncode == 0 else ''

    fingerprint = hashlib.sha256()
    for path in sorted((REPO_ROOT / 'pysoa').rglob('*.py')):
        try:
            content = path.read_bytes()
        except OSError:  # removed since it was listed: someone is editing the library
            continue
        fingerprint.update(str(path.relative_to(REPO_ROOT)).encode() + b'\0' + content)
    changed = [line[3:] for line in git('status', '--porcelain').splitlines()]
    return {
        'commit': git('rev-parse', '--short', 'HEAD') or None,
        'changed_paths': changed,
        'pysoa_fingerprint': fingerprint.hexdigest()[:12],
    }


# Reporting ----------------------------------------------------------------------------------------------------------


def medians(by_round: Dict[str, Dict[str, List[float]]]) -> Dict[str, Dict[str, Optional[float]]]:
    """The median over rounds of every figure and column."""
    result: Dict[str, Dict[str, Optional[float]]] = {}
    for figure in FIGURES:
        values = by_round[figure.key]
        result[figure.key] = {
            column: statistics.median(values[column]) if values.get(column) else None for column in COLUMNS
        }
    return result


def _ratio(numerator: Optional[float], denominator: Optional[float]) -> Optional[float]:
    return None if numerator is None or not denominator else numerator / denominator


def _value(value: Optional[float], decimals: int = 0) -> str:
    return '-' if value is None else f'{value:,.{decimals}f}'


def _times(ratio: Optional[float]) -> str:
    return '-' if ratio is None else f'{ratio:.2f}x'


def _percent(ratio: Optional[float]) -> str:
    return '-' if ratio is None else f'{ratio:.0%}'


def _describe_checkout(state: Dict[str, Any]) -> str:
    changed = state['changed_paths']
    if not changed:
        return f'commit {state["commit"]}, working tree clean'
    library = [path for path in changed if path.startswith('pysoa/')]
    return (
        f'commit {state["commit"]}, working tree DIRTY: {len(changed)} changed or untracked path(s), '
        f'{len(library)} under pysoa/{": " + ", ".join(library) if library else ""}'
    )


def report(outcome: Dict[str, Any]) -> str:
    header = outcome['header']
    figures = outcome['figures']
    summary_rows = []
    for figure in FIGURES:
        entry = figures[figure.key]
        median = entry['median']
        met = entry['goal_met']
        summary_rows.append(
            [
                figure.label,
                *(_value(median[column], figure.decimals) for column in COLUMNS),
                _times(entry['ours_over_original']),
                _percent(entry['ours_over_floor']),
                figure.goal.text,
                '?' if met is None else ('yes' if met else 'NO'),
            ]
        )
    round_rows = []
    for figure in FIGURES:
        by_round = figures[figure.key]['by_round']
        for column in EXPERIMENTS[figure.experiment]:
            round_rows.append([figure.label, column, *(_value(v, figure.decimals) for v in by_round[column])])
        ratios = [_ratio(o, r) for o, r in zip(by_round[OURS], by_round[ORIGINAL])]
        round_rows.append([figure.label, '2.0/1.4.9', *(_times(r) for r in ratios)])

    machine = header['machine']
    start, end = header['checkout_before'], header['checkout_after']
    fingerprint = f'pysoa/ fingerprint {start["pysoa_fingerprint"]} before the run, {end["pysoa_fingerprint"]} after'
    if start['pysoa_fingerprint'] != end['pysoa_fingerprint']:
        fingerprint += ' (the library CHANGED during the run: rounds measured different code)'
    frames = ', '.join(f'{column} {request}/{response}' for column, (request, response) in header['frames'].items())
    lines = [
        f'Side by side, {header["rounds"]} rounds; each round runs every row once, one at a time, in an order rotated '
        f'from round to round.',
        f'Measured: {_describe_checkout(start)}; {fingerprint}.',
        f'Machine: {machine["cpu"]}, {machine["cpu_count"]} CPUs, {machine["platform"]}.',
        f'Load average (1, 5, 15 min): {header["load_average_before"]} before, {header["load_average_after"]} after.',
        f'Redis {header["redis_version"]} (throwaway, 127.0.0.1:{header["redis_port"]}).',
        *(f'{column}: {description}' for column, description in header['interpreters'].items()),
        f'Sequential: {header["calls"]} timed calls after {header["warmup"]} warm-up (local transport: '
        f'{header["local_calls"]}); --fork: {header["fork_seconds"]} s after {header["fork_warmup"]} warm-up calls '
        f'per thread. Request/response frames (bytes): {frames}.',
        '',
        f'Medians over {header["rounds"]} rounds. 2.0/1.4.9 and "2.0 vs floor" divide the medians: above 1 (100%) '
        'is more calls/s, or more latency or CPU.',
        '',
        format_table(
            ['figure', *COLUMNS, '2.0/1.4.9', '2.0 vs floor', 'goal', 'met'],
            summary_rows,
            markdown=True,
            align='lrrrrrll',
        ),
        '',
        'Round by round (in the order the rounds ran):',
        '',
        format_table(
            ['figure', 'row', *(f'round {n}' for n in range(1, header['rounds'] + 1))],
            round_rows,
            right_from=2,
        ),
    ]
    return '\n'.join(lines)


# Main ---------------------------------------------------------------------------------------------------------------


def parse_arguments(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--rounds', type=int, default=7, help='rounds of all rows (default 7)')
    parser.add_argument(
        '--calls', type=int, default=2000, help='timed sequential calls per Redis row and round (default 2000)'
    )
    parser.add_argument('--warmup', type=int, default=200, help='untimed calls before them (default 200)')
    parser.add_argument(
        '--local-calls', type=int, default=5000, help='timed calls per local-transport row and round (default 5000)'
    )
    parser.add_argument(
        '--fork-seconds',
        type=float,
        default=3.0,
        help='how long the clients of a --fork row call, per round (default 3)',
    )
    parser.add_argument(
        '--fork-warmup', type=int, default=50, help='untimed calls per client thread of a --fork row (default 50)'
    )
    parser.add_argument(
        '--original-venv',
        metavar='PATH',
        default=str(DEFAULT_ORIGINAL_VENV),
        help='a virtualenv whose bin/python imports PySOA 1.4.9 (default: the one the interop tests '
        'build, .venv-interop/pysoa-1.4.9-python-3.9.18)',
    )
    parser.add_argument('--redis-port', type=int, help='port for the throwaway redis-server (default: a free one)')
    parser.add_argument('--redis-server', default='redis-server', help='the redis-server binary')
    parser.add_argument('--json', metavar='FILE', help='also write every figure (and all settings) to this file')
    arguments = parser.parse_args(argv)
    if min(arguments.rounds, arguments.calls, arguments.local_calls) < 1 or arguments.fork_seconds <= 0:
        parser.error('--rounds, --calls, --local-calls and --fork-seconds must be positive')
    if arguments.warmup < 0 or arguments.fork_warmup < 0:
        parser.error('--warmup and --fork-warmup must not be negative')
    return arguments


def run_benchmark(arguments: argparse.Namespace, processes: ProcessGroup, work_dir: pathlib.Path) -> Dict[str, Any]:
    binary = find_redis_server(arguments.redis_server)
    checkout_before = checkout_state()
    ours = probe_interpreter('2.0', sys.executable, False, work_dir)
    original = probe_interpreter('1.4.9', venv_python(arguments.original_venv), True, work_dir)
    interpreters = {ORIGINAL: original, OURS: ours, FLOOR: ours}
    load_before = load_average()

    redis_server = RedisServer(binary, arguments.redis_port or free_port(), work_dir, processes).start()
    side_by_side = SideBySide(arguments, redis_server, work_dir, processes, interpreters)
    runs = plan_runs()
    by_round: Dict[str, Dict[str, List[float]]] = {figure.key: {} for figure in FIGURES}
    progress = Progress(len(runs) * arguments.rounds)
    for round_number in range(1, arguments.rounds + 1):
        for run in rotated(runs, round_number, arguments.rounds):
            measured = side_by_side.measure(run, round_number)
            for key, value in measured.items():
                by_round[key].setdefault(run.column, []).append(value)
            shown = ', '.join(f'{key} {value:,.0f}' for key, value in measured.items())
            progress.step(f'round {round_number}: {run.name}: {shown}')

    middle = medians(by_round)
    header = {
        'rounds': arguments.rounds,
        'calls': arguments.calls,
        'warmup': arguments.warmup,
        'local_calls': arguments.local_calls,
        'fork_seconds': arguments.fork_seconds,
        'fork_warmup': arguments.fork_warmup,
        **run_environment(redis_server, load_before),
        'checkout_before': checkout_before,
        'checkout_after': checkout_state(),
        'interpreters': {
            ORIGINAL: original.describe(),
            OURS: ours.describe(),
            FLOOR: f'raw redis-py {ours.versions.get("redis")} and msgpack {ours.versions.get("msgpack")} under '
            f"2.0's interpreter",
        },
        'versions': {ORIGINAL: original.versions, OURS: ours.versions},
        'frames': side_by_side.frames,
    }
    figures = {
        figure.key: {
            'label': figure.label,
            'goal': figure.goal.text,
            'by_round': {column: by_round[figure.key].get(column, []) for column in EXPERIMENTS[figure.experiment]},
            'median': middle[figure.key],
            'ours_over_original': _ratio(middle[figure.key][OURS], middle[figure.key][ORIGINAL]),
            'ours_over_floor': _ratio(middle[figure.key][OURS], middle[figure.key][FLOOR]),
            'goal_met': figure.goal.met(middle[figure.key]),
        }
        for figure in FIGURES
    }
    return {'header': header, 'figures': figures}


def main(argv: Optional[Sequence[str]] = None) -> int:
    return run_main(parse_arguments(argv), run_benchmark, report, 'pysoa-side-by-side-')


if __name__ == '__main__':
    sys.exit(main())
