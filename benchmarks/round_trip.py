"""
Round trips over Redis: sequential ``Client.call_action`` calls against one server process, measured call by call.

Run from the repository root::

    .venv/bin/python benchmarks/round_trip.py [--calls N] [--warmup N] [--rounds N]
        [--original-venv PATH] [--ours-venv PATH ...] [--redis-port P] [--json FILE]

It starts a throwaway ``redis-server`` on a free loopback port (never 6379), then, one after another, for each row:
starts ONE server process, runs a client process that makes ``--warmup`` untimed and ``--calls`` timed calls, and
stops the server. The rows are this repository's PySOA (under the interpreter running this script, and under each
``--ours-venv``), PySOA 1.4.9 (under ``--original-venv``), both cross combinations (1.4.9 client -> our server, our
client -> 1.4.9 server), and the floor: raw redis-py round trips (client RPUSH, server BLPOP, server RPUSH, client
BLPOP) with payloads as large as the PySOA request and response frames. It prints calls per second and latency
percentiles per row, and the Redis commands and bytes each round trip costs. See ``benchmarks/README.md``.
"""

import argparse
import dataclasses
import math
import pathlib
import sys
from typing import (
    Any,
    Dict,
    List,
    Optional,
    Sequence,
    Tuple,
)

import redis
from benchmark_harness import (
    BenchmarkError,
    Interpreter,
    ProcessGroup,
    Progress,
    RedisServer,
    cpu_seconds,
    find_redis_server,
    format_table,
    free_port,
    load_average,
    minor,
    probe_interpreter,
    read_line,
    run_client,
    run_environment,
    run_main,
    tail,
    venv_python,
    worker_command,
)


DEFAULT_REQUEST_BYTES = 350
DEFAULT_RESPONSE_BYTES = 309
"""Floor payload sizes if no PySOA row measured its frames (these are what both implementations send for ``square``)."""

IGNORED_REDIS_COMMANDS = frozenset({'info', 'ping', 'flushall', 'hello', 'client|setinfo', 'script|load'})
"""Commands the harness sends, or a process sends once when it connects, left out of the per-call counts."""


# Rows --------------------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Row:
    """One measured combination: a client and a server (PySOA), or the raw redis-py pair under one interpreter."""

    name: str
    client: Interpreter
    server: Interpreter
    raw: bool = False


def plan_rows(ours: Sequence[Interpreter], original: Optional[Interpreter], cross: bool, floor: bool) -> List[Row]:
    rows = [Row(f'{o.short} -> {o.short}', o, o) for o in ours]
    if original is not None:
        rows.append(Row(f'{original.short} -> {original.short}', original, original))
        if cross:
            for o in ours:
                rows.append(Row(f'{original.short} -> {o.short}', original, o))
                rows.append(Row(f'{o.short} -> {original.short}', o, original))
    if floor:
        seen = set()
        for interpreter in [*ours, *([original] if original else [])]:
            if interpreter.python in seen:
                continue
            seen.add(interpreter.python)
            label = f'raw redis-py {interpreter.versions.get("redis", "?")} py{minor(interpreter.versions["python"])}'
            rows.append(Row(label, interpreter, interpreter, raw=True))
    return rows


# Measuring ---------------------------------------------------------------------------------------------------------


def _difference(after: Optional[float], before: Optional[float]) -> Optional[float]:
    return None if after is None or before is None else after - before


@dataclasses.dataclass
class ServerSideUsage:
    """What Redis saw (commands by name, bytes in and out) and the CPU the server and Redis used, during a run."""

    commands: Dict[str, int]
    bytes_in: int
    bytes_out: int
    server_cpu_seconds: Optional[float]
    redis_cpu_seconds: Optional[float]

    @classmethod
    def snapshot(cls, client: redis.Redis, server_pid: int, redis_pid: int) -> 'ServerSideUsage':
        stats = client.info('stats')
        commands = {
            name[len('cmdstat_') :]: int(values['calls']) for name, values in client.info('commandstats').items()
        }
        return cls(
            commands,
            int(stats['total_net_input_bytes']),
            int(stats['total_net_output_bytes']),
            cpu_seconds(server_pid),
            cpu_seconds(redis_pid),
        )

    def since(self, before: 'ServerSideUsage') -> 'ServerSideUsage':
        commands = {
            name: count - before.commands.get(name, 0)
            for name, count in self.commands.items()
            if name not in IGNORED_REDIS_COMMANDS and count - before.commands.get(name, 0) > 0
        }
        return ServerSideUsage(
            commands,
            self.bytes_in - before.bytes_in,
            self.bytes_out - before.bytes_out,
            _difference(self.server_cpu_seconds, before.server_cpu_seconds),
            _difference(self.redis_cpu_seconds, before.redis_cpu_seconds),
        )


@dataclasses.dataclass
class Measurement:
    """The pooled results of one row over all rounds."""

    latencies_ns: List[int] = dataclasses.field(default_factory=list)
    elapsed_ns: int = 0
    calls_per_second_by_round: List[float] = dataclasses.field(default_factory=list)
    client_cpu_ns: int = 0
    round_trips: int = 0  # including warm-up calls, for the per-call server-side figures
    server_cpu_seconds: Optional[float] = 0.0
    redis_cpu_seconds: Optional[float] = 0.0
    redis_commands: Dict[str, int] = dataclasses.field(default_factory=dict)
    redis_bytes_in: int = 0
    redis_bytes_out: int = 0
    request_frame_bytes: Optional[int] = None
    response_frame_bytes: Optional[int] = None

    def add(self, result: Dict[str, Any], usage: ServerSideUsage, round_trips: int) -> None:
        self.latencies_ns.extend(result['latencies_ns'])
        self.elapsed_ns += result['elapsed_ns']
        self.client_cpu_ns += result['cpu_ns']
        self.calls_per_second_by_round.append(result['calls'] / result['elapsed_ns'] * 1e9)
        self.round_trips += round_trips
        for name, count in usage.commands.items():
            self.redis_commands[name] = self.redis_commands.get(name, 0) + count
        self.redis_bytes_in += usage.bytes_in
        self.redis_bytes_out += usage.bytes_out
        self.server_cpu_seconds = _sum(self.server_cpu_seconds, usage.server_cpu_seconds)
        self.redis_cpu_seconds = _sum(self.redis_cpu_seconds, usage.redis_cpu_seconds)
        self.request_frame_bytes = result.get('request_frame_bytes')
        self.response_frame_bytes = result.get('response_frame_bytes')

    def summary(self) -> Dict[str, Any]:
        ordered = sorted(self.latencies_ns)

        def percentile(p: int) -> float:
            """Nearest rank, in microseconds."""
            return ordered[max(1, math.ceil(len(ordered) * p / 100)) - 1] / 1000

        per_call = max(self.round_trips, 1)
        return {
            'calls': len(ordered),
            'calls_per_second': len(ordered) / self.elapsed_ns * 1e9,
            'calls_per_second_by_round': self.calls_per_second_by_round,
            'mean_us': sum(ordered) / len(ordered) / 1000,
            'p50_us': percentile(50),
            'p90_us': percentile(90),
            'p99_us': percentile(99),
            'max_us': ordered[-1] / 1000,
            'client_cpu_us_per_call': self.client_cpu_ns / len(ordered) / 1000,
            'server_cpu_us_per_call': _per_call_us(self.server_cpu_seconds, per_call),
            'redis_cpu_us_per_call': _per_call_us(self.redis_cpu_seconds, per_call),
            'request_frame_bytes': self.request_frame_bytes,
            'response_frame_bytes': self.response_frame_bytes,
            'redis_commands_per_call': {
                name: round(count / per_call, 2) for name, count in sorted(self.redis_commands.items())
            },
            'redis_bytes_in_per_call': round(self.redis_bytes_in / per_call),
            'redis_bytes_out_per_call': round(self.redis_bytes_out / per_call),
        }


def _sum(total: Optional[float], value: Optional[float]) -> Optional[float]:
    return None if total is None or value is None else total + value


def _per_call_us(seconds: Optional[float], calls: int) -> Optional[float]:
    return None if seconds is None else seconds / calls * 1e6


class Runner:
    """
    Runs rows against one Redis, one process pair at a time. PySOA clients call ``action`` (of the service in
    ``round_trip_service.py``).
    """

    def __init__(
        self,
        redis_server: RedisServer,
        work_dir: pathlib.Path,
        processes: ProcessGroup,
        calls: int,
        warmup: int,
        profile_dir: Optional[pathlib.Path] = None,
        action: str = 'square',
    ) -> None:
        self.redis_server = redis_server
        self.work_dir = work_dir
        self.processes = processes
        self.calls = calls
        self.warmup = warmup
        self.profile_dir = profile_dir
        self.action = action

    def run(self, row: Row, round_number: int, floor_sizes: Tuple[int, int]) -> Tuple[Dict[str, Any], ServerSideUsage]:
        """Measure one row; raw rows send requests and responses of ``floor_sizes`` bytes."""
        request_bytes, response_bytes = floor_sizes
        admin = self.redis_server.client()
        admin.flushall()
        port = ['--port', str(self.redis_server.port)]
        if row.raw:
            server_command = worker_command(row.server, 'raw-server', *port, '--response-bytes', str(response_bytes))
            client_command = worker_command(
                row.client,
                'raw-client',
                *port,
                '--request-bytes',
                str(request_bytes),
                *self._counts(),
            )
        else:
            server_command = worker_command(row.server, 'server', *port, *self._profile(row, round_number, 'server'))
            client_command = worker_command(
                row.client,
                'client',
                *port,
                '--action',
                self.action,
                *self._counts(),
                *self._profile(row, round_number, 'client'),
            )

        server_log = self.work_dir / 'server.log'
        server = self.processes.start(server_command, self.work_dir, server_log)
        try:
            if read_line(server, 60).strip() != 'ready':
                raise BenchmarkError(f'{row.name}: the server did not start:\n{tail(server_log)}')
            redis_pid = self.redis_server.pid
            before = ServerSideUsage.snapshot(admin, server.pid, redis_pid)
            result = run_client(client_command, self.work_dir, row.name, 120 + (self.calls + self.warmup) * 0.1)
            usage = ServerSideUsage.snapshot(admin, server.pid, redis_pid).since(before)
        finally:
            status = self.processes.stop_and_forget(server)
        if status != 0:
            raise BenchmarkError(f'{row.name}: the server exited with status {status}:\n{tail(server_log)}')
        return result, usage

    def _counts(self) -> List[str]:
        return ['--calls', str(self.calls), '--warmup', str(self.warmup)]

    def _profile(self, row: Row, round_number: int, role: str) -> List[str]:
        if self.profile_dir is None:
            return []
        slug = ''.join(c if c.isalnum() or c in '.-' else '_' for c in row.name.replace(' -> ', '--'))
        return ['--profile', str(self.profile_dir / f'{slug}.round{round_number}.{role}.prof')]


# Reporting ---------------------------------------------------------------------------------------------------------


def _micros(value: Optional[float]) -> str:
    return '' if value is None else f'{value:.0f}'


def report(results: List[Dict[str, Any]], header: Dict[str, Any]) -> str:
    floors = {r['client_python']: r['summary'] for r in results if r['raw']}
    timing_rows = []
    for result in results:
        summary = result['summary']
        by_round = summary['calls_per_second_by_round']
        spread = f'{min(by_round):.0f}-{max(by_round):.0f}' if len(by_round) > 1 else ''
        floor = floors.get(result['client_python'])
        over_floor = '' if result['raw'] or floor is None else f'{summary["p50_us"] - floor["p50_us"]:+.0f}'
        timing_rows.append(
            [
                result['name'],
                f'{summary["calls_per_second"]:.0f}',
                spread,
                _micros(summary['mean_us']),
                _micros(summary['p50_us']),
                _micros(summary['p90_us']),
                _micros(summary['p99_us']),
                _micros(summary['max_us']),
                over_floor,
            ]
        )
    cost_rows = []
    for result in results:
        summary = result['summary']
        commands = ', '.join(f'{name} {count:g}' for name, count in summary['redis_commands_per_call'].items())
        cost_rows.append(
            [
                result['name'],
                _micros(summary['client_cpu_us_per_call']),
                _micros(summary['server_cpu_us_per_call']),
                _micros(summary['redis_cpu_us_per_call']),
                str(summary['request_frame_bytes']),
                str(summary['response_frame_bytes']),
                str(summary['redis_bytes_in_per_call']),
                str(summary['redis_bytes_out_per_call']),
                commands,
            ]
        )

    machine = header['machine']
    lines = [
        f'Round trips: {header["calls"]} timed sequential calls per row and round, after {header["warmup"]} warm-up '
        f'calls; {header["rounds"]} round(s); one process pair at a time.',
        f'Redis {header["redis_version"]} on 127.0.0.1:{header["redis_port"]}; {machine["cpu"]}, '
        f'{machine["cpu_count"]} CPUs; {machine["platform"]}; load average (1, 5, 15 min) '
        f'{header["load_average_before"]} before, {header["load_average_after"]} after.',
        'Interpreters:',
        *(
            f'  {label}: Python {v["python"]} ({v["executable"]}), pysoa {v.get("pysoa")}, redis-py {v.get("redis")}, '
            f'msgpack {v.get("msgpack")}, conformity {v.get("conformity")}'
            for label, v in header['interpreters'].items()
        ),
        '',
        'Rows are "client -> server". Latencies in microseconds. "p50 over floor" subtracts the p50 of the raw '
        'redis-py floor',
        "run under the client's interpreter.",
        '',
        format_table(
            ['row', 'calls/s', 'calls/s by round', 'mean', 'p50', 'p90', 'p99', 'max', 'p50 over floor'],
            timing_rows,
        ),
        '',
        'Cost of one round trip: CPU microseconds of the client (timed calls), the server and redis-server (warm-up',
        'included); the request and response frames; bytes into and out of Redis; Redis commands, counting those',
        'the EVALSHA scripts run.',
        '',
        format_table(
            [
                'row',
                'client CPU',
                'server CPU',
                'Redis CPU',
                'request B',
                'response B',
                'bytes in',
                'bytes out',
                'Redis commands',
            ],
            cost_rows,
        ),
    ]
    return '\n'.join(lines)


# Main -------------------------------------------------------------------------------------------------------------


def parse_arguments(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--calls', type=int, default=2000, help='timed calls per row and round (default 2000)')
    parser.add_argument('--warmup', type=int, default=200, help='untimed calls before them (default 200)')
    parser.add_argument(
        '--rounds',
        type=int,
        default=1,
        help='run all rows this many times, interleaved, and pool the results (default 1)',
    )
    parser.add_argument(
        '--original-venv',
        metavar='PATH',
        help='a virtualenv whose bin/python imports PySOA 1.4.9, to benchmark it side by side',
    )
    parser.add_argument(
        '--ours-venv',
        metavar='PATH',
        action='append',
        default=[],
        help='another virtualenv with our dependencies, to run this checkout under its Python too (repeatable)',
    )
    parser.add_argument('--no-cross', action='store_true', help='skip the 1.4.9 <-> ours cross combinations')
    parser.add_argument('--no-floor', action='store_true', help='skip the raw redis-py floor')
    parser.add_argument(
        '--request-bytes', type=int, help='floor request size (default: the request frame size PySOA sent, else 350)'
    )
    parser.add_argument(
        '--response-bytes', type=int, help='floor response size (default: the response frame size PySOA sent, else 309)'
    )
    parser.add_argument('--redis-port', type=int, help='port for the throwaway redis-server (default: a free one)')
    parser.add_argument('--redis-server', default='redis-server', help='the redis-server binary')
    parser.add_argument('--json', metavar='FILE', help='also write every figure (and all settings) to this file')
    parser.add_argument(
        '--profile-dir',
        metavar='DIR',
        help='run every PySOA client (timed calls) and server (serving loop) under cProfile and write '
        'the statistics to DIR/<row>.round<N>.<client|server>.prof; this slows them down, so the '
        'figures of such a run are not comparable with others',
    )
    arguments = parser.parse_args(argv)
    if arguments.calls < 1 or arguments.warmup < 0 or arguments.rounds < 1:
        parser.error('--calls and --rounds must be positive and --warmup not negative')
    return arguments


def run_benchmark(arguments: argparse.Namespace, processes: ProcessGroup, work_dir: pathlib.Path) -> Dict[str, Any]:
    binary = find_redis_server(arguments.redis_server)
    ours = [probe_interpreter('ours', sys.executable, False, work_dir)]
    for venv in arguments.ours_venv:
        ours.append(probe_interpreter(f'ours ({venv})', venv_python(venv), False, work_dir))
    original = None
    if arguments.original_venv:
        original = probe_interpreter(
            f'original ({arguments.original_venv})',
            venv_python(arguments.original_venv),
            True,
            work_dir,
        )
    rows = plan_rows(ours, original, not arguments.no_cross, not arguments.no_floor)
    load_before = load_average()

    redis_server = RedisServer(binary, arguments.redis_port or free_port(), work_dir, processes).start()
    profile_dir = None
    if arguments.profile_dir:
        profile_dir = pathlib.Path(arguments.profile_dir).resolve()
        profile_dir.mkdir(parents=True, exist_ok=True)
    runner = Runner(redis_server, work_dir, processes, arguments.calls, arguments.warmup, profile_dir)
    measurements = {row: Measurement() for row in rows}
    # The floor's payloads are as large as the frames our PySOA sends (1.4.9's are the same size: see the report);
    # our rows come first in the first round, so they are measured before any floor row runs.
    request_bytes: Optional[int] = arguments.request_bytes
    response_bytes: Optional[int] = arguments.response_bytes
    progress = Progress(len(rows) * arguments.rounds)
    for round_number in range(1, arguments.rounds + 1):
        # Each round starts one row further down the list, so that no row always runs first or after the same one.
        shift = (round_number - 1) % len(rows)
        for row in rows[shift:] + rows[:shift]:
            floor_sizes = (request_bytes or DEFAULT_REQUEST_BYTES, response_bytes or DEFAULT_RESPONSE_BYTES)
            result, usage = runner.run(row, round_number, floor_sizes)
            measurements[row].add(result, usage, arguments.warmup + 1 + arguments.calls)
            if not row.raw and not row.client.is_original and not row.server.is_original:
                request_bytes = request_bytes or result.get('request_frame_bytes')
                response_bytes = response_bytes or result.get('response_frame_bytes')
            calls_per_second = result['calls'] / result['elapsed_ns'] * 1e9
            progress.step(f'round {round_number}: {row.name}: {calls_per_second:.0f} calls/s')

    header = {
        'calls': arguments.calls,
        'warmup': arguments.warmup,
        'rounds': arguments.rounds,
        **run_environment(redis_server, load_before),
        'interpreters': {i.short: i.versions for i in [*ours, *([original] if original else [])]},
    }
    results = [
        {
            'name': row.name,
            'raw': row.raw,
            'client': row.client.short,
            'server': row.server.short,
            'client_python': row.client.python,
            'server_python': row.server.python,
            'summary': measurements[row].summary(),
        }
        for row in rows
    ]
    return {'header': header, 'results': results}


def main(argv: Optional[Sequence[str]] = None) -> int:
    return run_main(
        parse_arguments(argv),
        run_benchmark,
        lambda outcome: report(outcome['results'], outcome['header']),
        'pysoa-round-trip-',
    )


if __name__ == '__main__':
    sys.exit(main())
