"""
What the AsyncClient's coalescing of waits on its reply queue costs and saves (``COALESCE_SECONDS`` and
``COALESCE_WAITING`` in ``pysoa.common.transport.redis_gateway._async_receiver``): under load, the next wait on the
reply queue starts a millisecond after the last one ended, so that it takes the responses that came meanwhile
together. For each number of coroutines in ``--concurrency``, that many coroutines call back to back on one
AsyncClient against one ``round_trip_service --fork 2`` for ``--seconds``, with coalescing as shipped (``on``) and
turned off (``off``: ``COALESCE_WAITING`` set out of reach): calls per second, the client process's CPU time per call,
and the p50 and p99 latency of a call.

Every row runs in a process of its own; the rows of a round run one at a time, in an order rotated from round to
round, and the summary gives medians over rounds.

    .venv/bin/python benchmarks/async_coalescing.py [--rounds N] [--seconds S] [--concurrency 4,16,64,256,1000]
        [--warmup N] [--redis-port P] [--redis-server BINARY] [--json FILE]
"""

import argparse
import asyncio
import json
import pathlib
import statistics
import sys
import time
from typing import (
    Any,
    Dict,
    List,
    Optional,
    Sequence,
    Tuple,
)

from async_client import (
    ACTION,
    FORK_PROCESSES,
    _check,
    _client_config,
    start_redis_and_service,
)
from benchmark_harness import (
    HERE,
    REPO_ROOT,
    ProcessGroup,
    Progress,
    add_redis_arguments,
    format_table,
    load_average,
    run_client,
    run_environment,
    script_worker_command,
    worker_or_main,
)


MODES = ('on', 'off')


# The worker: one mode at one concurrency, in a process of its own -----------------------------------------------------


def worker(port: int, mode: str, concurrency: int, seconds: float, warmup: int) -> Dict[str, Any]:
    from round_trip_service import (
        SERVICE_NAME,
        request_body,
    )

    from pysoa.client.aio import AsyncClient
    from pysoa.common.transport.redis_gateway import _async_receiver

    if mode == 'off':
        _async_receiver.COALESCE_WAITING = sys.maxsize

    async def run() -> Dict[str, Any]:
        async with AsyncClient(_client_config(port)) as client:
            latencies: List[int] = []

            async def call(i: int) -> None:
                started = time.perf_counter_ns()
                response = await client.call_action(SERVICE_NAME, ACTION, request_body(ACTION, i))
                latencies.append(time.perf_counter_ns() - started)
                _check(response.body, i)

            await asyncio.gather(*(call(i) for i in range(warmup)))
            latencies.clear()
            deadline = time.monotonic() + seconds

            async def work(index: int) -> None:
                n = 0
                while time.monotonic() < deadline:
                    await call(index * 1000000 + n)
                    n += 1

            cpu_started, started = time.process_time(), time.monotonic()
            await asyncio.gather(*(work(index) for index in range(concurrency)))
            elapsed, cpu = time.monotonic() - started, time.process_time() - cpu_started
        latencies.sort()
        return {
            'calls': len(latencies),
            'elapsed': elapsed,
            'cpu': cpu,
            'p50_us': latencies[len(latencies) // 2] / 1000,
            'p99_us': latencies[int(len(latencies) * 0.99)] / 1000,
        }

    return asyncio.run(run())


def run_worker(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(prog='async_coalescing.py worker')
    parser.add_argument('mode', choices=MODES)
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--concurrency', type=int, required=True)
    parser.add_argument('--seconds', type=float, default=3.0)
    parser.add_argument('--warmup', type=int, default=200)
    arguments = parser.parse_args(argv)
    sys.path[:0] = [str(REPO_ROOT), str(HERE)]
    result = worker(arguments.port, arguments.mode, arguments.concurrency, arguments.seconds, arguments.warmup)
    print(json.dumps(result))


# The run --------------------------------------------------------------------------------------------------------------


def _rows(arguments: argparse.Namespace) -> List[Tuple[int, str]]:
    return [(concurrency, mode) for concurrency in arguments.concurrency for mode in MODES]


def run_benchmark(arguments: argparse.Namespace, processes: ProcessGroup, work_dir: pathlib.Path) -> Dict[str, Any]:
    load_before = load_average()
    rows = _rows(arguments)
    progress = Progress(2 + arguments.rounds * len(rows))
    redis_server = start_redis_and_service(arguments, processes, work_dir, progress)

    rounds: List[Dict[str, Dict[str, Any]]] = []
    for round_number in range(arguments.rounds):
        shift = round_number % len(rows)
        results: Dict[str, Dict[str, Any]] = {}
        for concurrency, mode in rows[shift:] + rows[:shift]:
            name = f'{concurrency}_{mode}'
            progress.step(f'round {round_number + 1}: {concurrency} coroutines, coalescing {mode}')
            redis_server.client().flushall()
            command = script_worker_command(
                str(pathlib.Path(__file__).resolve()),
                mode,
                '--port',
                str(redis_server.port),
                '--concurrency',
                str(concurrency),
                '--seconds',
                str(arguments.seconds),
                '--warmup',
                str(arguments.warmup),
            )
            results[name] = run_client(command, work_dir, name, timeout=arguments.seconds + 120)
        rounds.append(results)
    return {
        'settings': {key: getattr(arguments, key) for key in ('rounds', 'seconds', 'concurrency', 'warmup')},
        'environment': run_environment(redis_server, load_before),
        'rounds': rounds,
    }


# The report -----------------------------------------------------------------------------------------------------------


def _figures(result: Dict[str, Any]) -> Dict[str, float]:
    return {
        'calls_per_second': result['calls'] / result['elapsed'],
        'cpu_us': result['cpu'] / result['calls'] * 1e6,
        'p50_us': result['p50_us'],
        'p99_us': result['p99_us'],
    }


def summarize(outcome: Dict[str, Any]) -> Dict[str, Dict[str, float]]:
    medians: Dict[str, Dict[str, float]] = {}
    for name in outcome['rounds'][0]:
        per_round = [_figures(results[name]) for results in outcome['rounds']]
        medians[name] = {figure: statistics.median(f[figure] for f in per_round) for figure in per_round[0]}
    return medians


def report(outcome: Dict[str, Any]) -> str:
    medians = outcome['summary'] = summarize(outcome)
    settings, environment = outcome['settings'], outcome['environment']
    table = []
    for concurrency in settings['concurrency']:
        on, off = medians[f'{concurrency}_on'], medians[f'{concurrency}_off']
        table.append(
            [
                str(concurrency),
                *(
                    f'{on[figure]:{number_format}} / {off[figure]:{number_format}} ({on[figure] / off[figure]:.2f}x)'
                    for figure, number_format in (
                        ('calls_per_second', '.0f'),
                        ('cpu_us', '.1f'),
                        ('p50_us', '.0f'),
                        ('p99_us', '.0f'),
                    )
                ),
            ]
        )
    return '\n'.join(
        [
            f'AsyncClient reply-queue coalescing, on / off: {settings["rounds"]} rounds of {settings["seconds"]:g} s; '
            f'service: round_trip_service --fork {FORK_PROCESSES}, action {ACTION}',
            f'machine: {environment["machine"]["cpu"]} x {environment["machine"]["cpu_count"]} (shared); load average '
            f'before {environment["load_average_before"]}, after {environment["load_average_after"]}; Redis '
            f'{environment["redis_version"]}; Python {sys.version.split()[0]}',
            '',
            format_table(
                ['coroutines', 'calls/s on / off', 'CPU us per call on / off', 'p50 us on / off', 'p99 us on / off'],
                table,
            ),
        ]
    )


def parse_arguments(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--rounds', type=int, default=3, help='rounds of every row (default 3)')
    parser.add_argument('--seconds', type=float, default=3.0, help='how long each row calls (default 3)')
    parser.add_argument(
        '--concurrency',
        type=lambda text: [int(n) for n in text.split(',')],
        default=[4, 16, 64, 256, 1000],
        help='the numbers of coroutines, comma-separated (default 4,16,64,256,1000)',
    )
    parser.add_argument('--warmup', type=int, default=200, help='untimed calls before each row (default 200)')
    add_redis_arguments(parser)
    arguments = parser.parse_args(argv)
    if arguments.rounds < 1 or arguments.seconds <= 0 or min(arguments.concurrency) < 1 or arguments.warmup < 0:
        parser.error('--rounds, --seconds and every --concurrency must be positive')
    return arguments


def main(argv: Optional[Sequence[str]] = None) -> int:
    return worker_or_main(argv, run_worker, parse_arguments, run_benchmark, report, prefix='pysoa_async_coalescing_')


if __name__ == '__main__':
    sys.exit(main())
