"""
The asyncio client (``pysoa.client.aio.AsyncClient``) against the synchronous ``Client``, over Redis, against one
standalone service with two forked workers (``round_trip_service --fork 2``), in one run:

- concurrent: 1,000 ``call_action`` coroutines on one event loop and one ``AsyncClient``, versus 32 threads of the
  synchronous client (one ``Client`` each), each calling back to back for ``--seconds``; calls per second and the
  client process's CPU time per call;
- pending: 10,000 ``call_action`` tasks started at once on one ``AsyncClient``, all waiting together; whether every one
  got its own answer;
- sequential: one call at a time, each timed alone, with either client; the median (p50) latency;
- interleaved: both clients in one process, on one event loop, taking turns call by call (which goes first alternates),
  each call timed alone: paired samples, taken under the same conditions of a shared, noisy machine, where the two
  sequential rows run seconds apart; the p50 latency and CPU time per call of either;
- on uvloop: the concurrent and the sequential AsyncClient rows again, the same code run by ``uvloop.run`` instead of
  ``asyncio.run``;
- the event loop floor: the same bytes to Redis and back without the library, from a blocking socket, from an asyncio
  protocol reading into its own buffer (as the AsyncClient's connections do) on the default event loop, and from the
  same protocol on uvloop, parsed with hiredis in all three; p50 latency and CPU per exchange. Two exchanges: a
  ``PING`` (straight to redis-server), and a ``call`` of the service (the enqueue script's ``EVALSHA`` of a request
  encoded once and the ``BLMPOP`` of its response, in one write, as the AsyncClient sends a lone call; two replies).

Why the floor: a blocking call returns from ``recv`` as soon as its reply arrives, while a coroutine waits for its
event loop to wake up, find the socket readable, run the protocol's callback and resume the task. That wake-up is the
event loop's cost, not the library's, and any asyncio code pays it on every read. The floor rows measure it in the
same run (asyncio minus socket, uvloop minus socket), so that a gap between the two clients' sequential latency can be
split into what the AsyncClient adds and what the event loop costs; the uvloop rows show the same AsyncClient on a loop
whose wake-ups cost less.

Every client runs in a process of its own (this script, in a worker role), so that its CPU time is its own. The rows
of a round run one at a time, in an order rotated from round to round, and the summary gives medians over rounds.

    .venv/bin/python benchmarks/async_client.py [--rounds N] [--seconds S] [--concurrency C] [--threads T]
        [--pending N] [--sequential-calls N] [--warmup N] [--redis-port P] [--redis-server BINARY] [--json FILE]
"""

import argparse
import asyncio
import importlib.metadata
import importlib.util
import json
import os
import pathlib
import socket
import statistics
import sys
import threading
import time
import uuid
from typing import (
    Any,
    Awaitable,
    Callable,
    Coroutine,
    Dict,
    List,
    Optional,
    Sequence,
    Tuple,
    TypeVar,
    cast,
)

import hiredis
from benchmark_harness import (
    HERE,
    REPO_ROOT,
    BenchmarkError,
    ProcessGroup,
    Progress,
    RedisServer,
    add_redis_arguments,
    find_redis_server,
    format_table,
    free_port,
    load_average,
    run_client,
    run_environment,
    script_worker_command,
    tail,
    worker_or_main,
)


FORK_PROCESSES = 2
SERVICE_READY = 'round_trip_bench ready'
REDIS_PORT_VARIABLE = 'ROUND_TRIP_BENCH_REDIS_PORT'
ACTION = 'echo'

ROWS = (
    'async_concurrent',
    'sync_threads',
    'async_sequential',
    'sync_sequential',
    'uvloop_concurrent',
    'uvloop_sequential',
    'ping_socket',
    'ping_asyncio',
    'ping_uvloop',
    'call_socket',
    'call_asyncio',
    'call_uvloop',
    'interleaved',
)
#: The rows of the figures: one per worker role, except ``interleaved``, whose one worker gives two.
FIGURE_ROWS = (*(row for row in ROWS if row != 'interleaved'), 'async_interleaved', 'sync_interleaved')
CONCURRENT_ROWS = ('async_concurrent', 'sync_threads', 'uvloop_concurrent')

# The main table: (row label, AsyncClient row, Client row, figure, format). The first four rows are the original table.
COMPARISONS = (
    ('concurrent calls/s', 'async_concurrent', 'sync_threads', 'calls_per_second', '.0f'),
    ('concurrent client CPU per call (us)', 'async_concurrent', 'sync_threads', 'cpu_us', '.1f'),
    ('sequential p50 latency (us)', 'async_sequential', 'sync_sequential', 'p50_us', '.0f'),
    ('sequential client CPU per call (us)', 'async_sequential', 'sync_sequential', 'cpu_us', '.1f'),
    ('sequential p50 latency on uvloop (us)', 'uvloop_sequential', 'sync_sequential', 'p50_us', '.0f'),
    ('sequential client CPU per call on uvloop (us)', 'uvloop_sequential', 'sync_sequential', 'cpu_us', '.1f'),
    ('concurrent calls/s on uvloop', 'uvloop_concurrent', 'sync_threads', 'calls_per_second', '.0f'),
    ('concurrent client CPU per call on uvloop (us)', 'uvloop_concurrent', 'sync_threads', 'cpu_us', '.1f'),
    ('interleaved sequential p50 latency (us)', 'async_interleaved', 'sync_interleaved', 'p50_us', '.0f'),
    ('interleaved sequential client CPU per call (us)', 'async_interleaved', 'sync_interleaved', 'cpu_us', '.1f'),
)


_T = TypeVar('_T')


# Workers: each runs in a process of its own and prints one JSON object ----------------------------------------------


def _client_config(port: int) -> Dict[str, Any]:
    from round_trip_service import (
        SERVICE_NAME,
        redis_transport_kwargs,
    )

    return {
        SERVICE_NAME: {
            'transport': {
                'path': 'pysoa.common.transport.redis_gateway.client:RedisClientTransport',
                'kwargs': redis_transport_kwargs(port),
            }
        }
    }


def _check(body: Any, i: int) -> None:
    from round_trip_service import expected_response

    if body != expected_response(ACTION, i):
        raise AssertionError(f'{ACTION}({i}) returned {body!r}')


def _run_on(event_loop: str, main: Coroutine[Any, Any, _T]) -> _T:
    """Run ``main`` to its end on a new event loop: asyncio's default (``asyncio.run``) or uvloop's (``uvloop.run``)."""
    if event_loop == 'uvloop':
        import uvloop

        return uvloop.run(main)
    return asyncio.run(main)


def worker_async_concurrent(
    port: int,
    concurrency: int,
    seconds: float,
    warmup: int,
    event_loop: str,
) -> Dict[str, Any]:
    """``concurrency`` coroutines on one loop and one AsyncClient, each calling back to back for ``seconds``."""
    from round_trip_service import (
        SERVICE_NAME,
        request_body,
    )

    from pysoa.client.aio import AsyncClient

    async def run() -> Dict[str, Any]:
        async with AsyncClient(_client_config(port)) as client:

            async def call(i: int) -> None:
                response = await client.call_action(SERVICE_NAME, ACTION, request_body(ACTION, i))
                _check(response.body, i)

            await asyncio.gather(*(call(i) for i in range(warmup)))
            deadline = time.monotonic() + seconds
            counts = [0] * concurrency

            async def work(index: int) -> None:
                n = 0
                while time.monotonic() < deadline:
                    await call(index * 1000000 + n)
                    n += 1
                counts[index] = n

            cpu_started, started = time.process_time(), time.monotonic()
            await asyncio.gather(*(work(index) for index in range(concurrency)))
            elapsed, cpu = time.monotonic() - started, time.process_time() - cpu_started
        return {'calls': sum(counts), 'elapsed': elapsed, 'cpu': cpu}

    return _run_on(event_loop, run())


def worker_sync_threads(port: int, threads: int, seconds: float, warmup: int) -> Dict[str, Any]:
    """``threads`` threads, each with its own Client, calling back to back for ``seconds``."""
    from round_trip_service import (
        SERVICE_NAME,
        request_body,
    )

    from pysoa.client.client import Client

    warmed_up = threading.Barrier(threads + 1)
    go = threading.Event()
    window: Dict[str, float] = {}
    counts = [0] * threads
    errors: List[BaseException] = []

    def work(index: int) -> None:
        client = Client(_client_config(port))
        try:
            for i in range(max(1, warmup // threads)):
                _check(client.call_action(SERVICE_NAME, ACTION, request_body(ACTION, i)).body, i)
        except BaseException as e:
            errors.append(e)
            warmed_up.abort()
            return
        warmed_up.wait()
        go.wait()
        n = 0
        try:
            while time.monotonic() < window['deadline']:
                i = index * 1000000 + n
                _check(client.call_action(SERVICE_NAME, ACTION, request_body(ACTION, i)).body, i)
                n += 1
        except BaseException as e:
            errors.append(e)
        counts[index] = n

    workers = [threading.Thread(target=work, args=(index,), daemon=True) for index in range(threads)]
    for worker in workers:
        worker.start()
    try:
        warmed_up.wait()
    except threading.BrokenBarrierError:
        raise errors[0] from None
    cpu_started, started = time.process_time(), time.monotonic()
    window['deadline'] = started + seconds
    go.set()
    for worker in workers:
        worker.join()
    elapsed, cpu = time.monotonic() - started, time.process_time() - cpu_started
    if errors:
        raise errors[0]
    return {'calls': sum(counts), 'elapsed': elapsed, 'cpu': cpu}


def worker_async_pending(port: int, pending: int) -> Dict[str, Any]:
    """``pending`` calls started at once on one AsyncClient; how many waited together, and how many failed."""
    from round_trip_service import (
        SERVICE_NAME,
        request_body,
    )

    from pysoa.client.aio import AsyncClient

    async def run() -> Dict[str, Any]:
        async with AsyncClient(_client_config(port)) as client:
            await client.call_action(SERVICE_NAME, ACTION, request_body(ACTION, 0))
            handler = client.handlers[SERVICE_NAME]
            most_waiting = 0

            async def call(i: int) -> None:
                nonlocal most_waiting
                response = await client.call_action(SERVICE_NAME, ACTION, request_body(ACTION, i), timeout=120)
                most_waiting = max(most_waiting, handler.waiting)
                _check(response.body, i)

            started = time.monotonic()
            outcomes = await asyncio.gather(*(call(i) for i in range(pending)), return_exceptions=True)
            elapsed = time.monotonic() - started
        errors = [repr(o) for o in outcomes if isinstance(o, BaseException)]
        return {
            'calls': pending,
            'errors': len(errors),
            'first_errors': errors[:3],
            'most_waiting': most_waiting,
            'elapsed': elapsed,
        }

    return asyncio.run(run())


def _latency_figures(latencies: List[int], cpu: float) -> Dict[str, Any]:
    return {
        'calls': len(latencies),
        'p50_us': statistics.median(latencies) / 1000,
        'mean_us': statistics.mean(latencies) / 1000,
        'cpu': cpu,
    }


def _latencies(call: Callable[[int], None], calls: int, warmup: int) -> Dict[str, Any]:
    """``warmup`` untimed calls, then ``calls`` calls one at a time, each timed alone; CPU time over the timed ones."""
    for i in range(warmup):
        call(i)
    latencies = []
    cpu_started = time.process_time()
    for i in range(calls):
        started = time.perf_counter_ns()
        call(i)
        latencies.append(time.perf_counter_ns() - started)
    cpu = time.process_time() - cpu_started
    return _latency_figures(latencies, cpu)


async def _async_latencies(call: Callable[[int], Awaitable[None]], calls: int, warmup: int) -> Dict[str, Any]:
    """``_latencies`` for a coroutine function: every call awaited before the next one starts."""
    for i in range(warmup):
        await call(i)
    latencies = []
    cpu_started = time.process_time()
    for i in range(calls):
        started = time.perf_counter_ns()
        await call(i)
        latencies.append(time.perf_counter_ns() - started)
    cpu = time.process_time() - cpu_started
    return _latency_figures(latencies, cpu)


def worker_sync_sequential(port: int, calls: int, warmup: int) -> Dict[str, Any]:
    from round_trip_service import (
        SERVICE_NAME,
        request_body,
    )

    from pysoa.client.client import Client

    client = Client(_client_config(port))

    def call(i: int) -> None:
        _check(client.call_action(SERVICE_NAME, ACTION, request_body(ACTION, i)).body, i)

    return _latencies(call, calls, warmup)


def worker_async_sequential(port: int, calls: int, warmup: int, event_loop: str) -> Dict[str, Any]:
    from round_trip_service import (
        SERVICE_NAME,
        request_body,
    )

    from pysoa.client.aio import AsyncClient

    async def run() -> Dict[str, Any]:
        async with AsyncClient(_client_config(port)) as client:

            async def call(i: int) -> None:
                response = await client.call_action(SERVICE_NAME, ACTION, request_body(ACTION, i))
                _check(response.body, i)

            return await _async_latencies(call, calls, warmup)

    return _run_on(event_loop, run())


def worker_interleaved_sequential(port: int, calls: int, warmup: int) -> Dict[str, Any]:
    """
    Both clients in this process, on one event loop, taking turns: each round of the loop makes one call with either
    client (the AsyncClient first in even rounds, the Client first in odd ones), each timed alone, its CPU time
    measured around it; also the median of the differences between the two calls of each round (AsyncClient minus
    Client) and the share of rounds in which the AsyncClient's was the faster. Nothing else runs on the loop, so the
    Client's blocking call holds up nothing.
    """
    from round_trip_service import (
        SERVICE_NAME,
        request_body,
    )

    from pysoa.client.aio import AsyncClient
    from pysoa.client.client import Client

    sync_client = Client(_client_config(port))

    async def run() -> Dict[str, Any]:
        async with AsyncClient(_client_config(port)) as async_client:
            latencies: Dict[str, List[int]] = {'async': [], 'sync': []}
            cpu = {'async': 0.0, 'sync': 0.0}
            for i in range(warmup + calls):
                for kind in ('async', 'sync') if i % 2 == 0 else ('sync', 'async'):
                    cpu_started = time.process_time()
                    started = time.perf_counter_ns()
                    if kind == 'async':
                        response = await async_client.call_action(SERVICE_NAME, ACTION, request_body(ACTION, i))
                    else:
                        response = sync_client.call_action(SERVICE_NAME, ACTION, request_body(ACTION, i))
                    elapsed = time.perf_counter_ns() - started
                    cpu_used = time.process_time() - cpu_started
                    _check(response.body, i)
                    if i >= warmup:
                        latencies[kind].append(elapsed)
                        cpu[kind] += cpu_used
            figures: Dict[str, Any] = {kind: _latency_figures(latencies[kind], cpu[kind]) for kind in latencies}
            # Each round's two calls, one with either client, taken together: the median of their differences.
            differences = [a - s for a, s in zip(latencies['async'], latencies['sync'])]
            figures['paired_difference_p50_us'] = statistics.median(differences) / 1000
            figures['async_faster_share'] = sum(1 for d in differences if d < 0) / len(differences)
            return figures

    return asyncio.run(run())


# The event loop floor: the same bytes to Redis and back, from a blocking socket and from an event loop ----------------


def _exchange(port: int, kind: str) -> Tuple[bytes, int]:
    """
    The bytes of one exchange, and how many replies they get: ``ping`` (a Redis PING, straight to redis-server) or
    ``call`` (a call of the service without the library: the enqueue script's EVALSHA of a request encoded once,
    followed by the BLMPOP of its response, in one write, as the AsyncClient sends a lone call).
    """
    from pysoa.common.transport.redis_gateway.backend._packing import pack_command

    if kind == 'ping':
        return pack_command(('PING',)), 1
    import redis
    from round_trip_service import (
        SERVICE_NAME,
        request_body,
    )

    from pysoa.common._metrics import free_metrics
    from pysoa.common._wire import job_request_to_dict
    from pysoa.common.serializer.msgpack_serializer import MsgpackSerializer
    from pysoa.common.transport.redis_gateway._messages import (
        QUEUE_PREFIX,
        MessageEncoder,
    )
    from pysoa.common.transport.redis_gateway.backend.base import SendMessageToQueueCommand
    from pysoa.common.transport.redis_gateway.constants import ProtocolVersion
    from pysoa.common.types import (
        ActionRequest,
        JobRequest,
    )

    enqueue = SendMessageToQueueCommand()
    with redis.Redis(port=port) as connection:
        connection.script_load(enqueue.script)
    reply_queue = f'service.{SERVICE_NAME}.{uuid.uuid4().hex}!{os.getpid():012x}'
    encoder = MessageEncoder(
        SERVICE_NAME, free_metrics, '', MsgpackSerializer(), ProtocolVersion.VERSION_3, 3600, 1 << 20, 1 << 20
    )
    job = JobRequest(
        control={'continue_on_error': False},
        context={'correlation_id': uuid.uuid4().hex, 'switches': []},
        actions=[ActionRequest(ACTION, request_body(ACTION, 0))],
    )
    meta = {'reply_to': reply_queue, 'client_version': [2, 0, 0]}
    frames, queue_expiry, _ = encoder.encode(1, meta, job_request_to_dict(job), 3600)
    request_queue = QUEUE_PREFIX + f'service.{SERVICE_NAME}'
    send = pack_command(('EVALSHA', enqueue.sha, 1, request_queue, queue_expiry, 10000, *frames))
    wait = pack_command(('BLMPOP', 5, 1, QUEUE_PREFIX + reply_queue, 'LEFT', 'COUNT', 500))
    return send + wait, 2


def _check_replies(kind: str, replies: List[Any]) -> None:
    if kind == 'ping' and replies != [b'PONG']:
        raise AssertionError(f'PING returned {replies!r}')
    if kind == 'call' and (replies[0] != 1 or not replies[1]):
        raise AssertionError(f'the call got {replies!r}')


def worker_exchange_socket(port: int, kind: str, calls: int, warmup: int) -> Dict[str, Any]:
    """Exchanges over a blocking socket, parsed with hiredis: the least they cost from Python."""
    command, count = _exchange(port, kind)
    with socket.create_connection(('127.0.0.1', port)) as connection:
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader, buffer = hiredis.Reader(), bytearray(65536)

        def exchange(_i: int) -> None:
            connection.sendall(command)
            replies: List[Any] = []
            while len(replies) < count:
                received = connection.recv_into(buffer)
                if not received:
                    raise ConnectionError('redis-server closed the connection')
                reader.feed(buffer, 0, received)  # type: ignore[arg-type]  # any buffer; its stub says bytes
                while (reply := reader.gets()) is not False:
                    replies.append(reply)
            _check_replies(kind, replies)

        return _latencies(exchange, calls, warmup)


class _ExchangeProtocol(asyncio.BufferedProtocol):
    """
    A Redis connection that writes an exchange's bytes and settles a future once all of its replies have arrived,
    parsed with hiredis: the least the exchange costs a coroutine, one wake-up of the event loop per read. The loop
    reads into the protocol's own buffer, as it does for the AsyncClient's connections.
    """

    def __init__(self) -> None:
        self.transport: Optional[asyncio.Transport] = None
        self.reader = hiredis.Reader()
        self.buffer = memoryview(bytearray(65536))
        self.replies: List[Any] = []
        self.expected = 0
        self.waiter: Optional[asyncio.Future[List[Any]]] = None
        self.lost: Optional[BaseException] = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport, though they have its methods.
        self.transport = cast(asyncio.Transport, transport)
        self.transport.get_extra_info('socket').setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.buffer

    def buffer_updated(self, nbytes: int) -> None:
        self.reader.feed(self.buffer, 0, nbytes)  # type: ignore[arg-type]  # any buffer; its stub says bytes
        while (reply := self.reader.gets()) is not False:
            self.replies.append(reply)
        if len(self.replies) >= self.expected and self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(self.replies)

    def connection_lost(self, exc: Optional[Exception]) -> None:
        self.lost = exc or ConnectionError('redis-server closed the connection')
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(self.lost)

    async def exchange(self, command: bytes, count: int) -> List[Any]:
        if self.lost is not None:
            raise self.lost
        assert self.transport is not None
        self.replies, self.expected = [], count
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(command)
        return await self.waiter


def worker_exchange_async(port: int, kind: str, calls: int, warmup: int, event_loop: str) -> Dict[str, Any]:
    """Exchanges from an asyncio protocol, one at a time, on the event loop named."""
    command, count = _exchange(port, kind)

    async def run() -> Dict[str, Any]:
        transport, protocol = await asyncio.get_running_loop().create_connection(_ExchangeProtocol, '127.0.0.1', port)

        async def exchange(_i: int) -> None:
            _check_replies(kind, await protocol.exchange(command, count))

        try:
            return await _async_latencies(exchange, calls, warmup)
        finally:
            transport.close()

    return _run_on(event_loop, run())


def run_worker(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(prog='async_client.py worker')
    parser.add_argument('role', choices=(*ROWS, 'async_pending'))
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--seconds', type=float, default=5.0)
    parser.add_argument('--concurrency', type=int, default=1000)
    parser.add_argument('--threads', type=int, default=32)
    parser.add_argument('--pending', type=int, default=10000)
    parser.add_argument('--calls', type=int, default=2000)
    parser.add_argument('--warmup', type=int, default=200)
    arguments = parser.parse_args(argv)
    sys.path[:0] = [str(REPO_ROOT), str(HERE)]
    role, port = arguments.role, arguments.port
    event_loop = 'uvloop' if 'uvloop' in role else 'asyncio'
    if role in ('async_concurrent', 'uvloop_concurrent'):
        result = worker_async_concurrent(port, arguments.concurrency, arguments.seconds, arguments.warmup, event_loop)
    elif role == 'sync_threads':
        result = worker_sync_threads(port, arguments.threads, arguments.seconds, arguments.warmup)
    elif role == 'async_pending':
        result = worker_async_pending(port, arguments.pending)
    elif role in ('async_sequential', 'uvloop_sequential'):
        result = worker_async_sequential(port, arguments.calls, arguments.warmup, event_loop)
    elif role == 'sync_sequential':
        result = worker_sync_sequential(port, arguments.calls, arguments.warmup)
    elif role == 'interleaved':
        result = worker_interleaved_sequential(port, arguments.calls, arguments.warmup)
    elif role in ('ping_socket', 'call_socket'):
        result = worker_exchange_socket(port, role.split('_')[0], arguments.calls, arguments.warmup)
    else:
        result = worker_exchange_async(port, role.split('_')[0], arguments.calls, arguments.warmup, event_loop)
    print(json.dumps(result))


# The run --------------------------------------------------------------------------------------------------------------


def _start_service(port: int, processes: ProcessGroup, work_dir: pathlib.Path) -> None:
    """``python -m round_trip_service --fork 2`` (this checkout's pysoa); returns once every worker is ready."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith('PYTHON')}
    environment['PYTHONPATH'] = os.pathsep.join([str(HERE), str(REPO_ROOT)])
    environment[REDIS_PORT_VARIABLE] = str(port)
    command = [
        sys.executable,
        '-s',
        '-B',
        '-m',
        'round_trip_service',
        '-s',
        'round_trip_service',
        '--fork',
        str(FORK_PROCESSES),
    ]
    log = work_dir / 'service.log'
    service = processes.start(command, work_dir, log, read_stdout=False, env=environment)
    deadline = time.monotonic() + 60

    def ready_workers() -> int:
        return len([line for line in log.read_text(errors='replace').splitlines() if SERVICE_READY in line])

    while ready_workers() < FORK_PROCESSES:
        if service.poll() is not None or time.monotonic() > deadline:
            raise BenchmarkError(f'the service did not start:\n{tail(log)}')
        time.sleep(0.05)


def start_redis_and_service(
    arguments: argparse.Namespace,
    processes: ProcessGroup,
    work_dir: pathlib.Path,
    progress: Progress,
) -> RedisServer:
    """A throwaway ``redis-server`` (``--redis-server``, ``--redis-port``), and the service on it (two steps)."""
    progress.step('starting redis-server')
    redis_server = RedisServer(
        find_redis_server(arguments.redis_server),
        arguments.redis_port or free_port(),
        work_dir,
        processes,
    ).start()
    progress.step(f'starting the service (--fork {FORK_PROCESSES})')
    _start_service(redis_server.port, processes, work_dir)
    return redis_server


def _worker(role: str, arguments: argparse.Namespace, port: int, work_dir: pathlib.Path) -> Dict[str, Any]:
    command = script_worker_command(
        str(pathlib.Path(__file__).resolve()),
        role,
        '--port',
        str(port),
        '--seconds',
        str(arguments.seconds),
        '--concurrency',
        str(arguments.concurrency),
        '--threads',
        str(arguments.threads),
        '--pending',
        str(arguments.pending),
        '--calls',
        str(arguments.sequential_calls),
        '--warmup',
        str(arguments.warmup),
    )
    return run_client(command, work_dir, role, timeout=arguments.seconds + 300)


def run_benchmark(arguments: argparse.Namespace, processes: ProcessGroup, work_dir: pathlib.Path) -> Dict[str, Any]:
    if importlib.util.find_spec('uvloop') is None:
        raise BenchmarkError(f'uvloop is not installed for {sys.executable} (pip install uvloop)')
    load_before = load_average()
    progress = Progress(3 + arguments.rounds * len(ROWS))
    redis_server = start_redis_and_service(arguments, processes, work_dir, progress)

    rounds: List[Dict[str, Dict[str, Any]]] = []
    for round_number in range(arguments.rounds):
        order = ROWS[round_number % len(ROWS) :] + ROWS[: round_number % len(ROWS)]
        results: Dict[str, Dict[str, Any]] = {}
        for row in order:
            progress.step(f'round {round_number + 1}: {row}')
            redis_server.client().flushall()
            result = _worker(row, arguments, redis_server.port, work_dir)
            if row == 'interleaved':
                results['async_interleaved'], results['sync_interleaved'] = result['async'], result['sync']
                results['interleaved_pairs'] = {
                    key: result[key] for key in ('paired_difference_p50_us', 'async_faster_share')
                }
            else:
                results[row] = result
        rounds.append(results)
    progress.step(f'{arguments.pending} calls pending at once')
    redis_server.client().flushall()
    pending = _worker('async_pending', arguments, redis_server.port, work_dir)
    environment = run_environment(redis_server, load_before)
    environment['uvloop_version'] = importlib.metadata.version('uvloop')

    return {
        'settings': {
            key: getattr(arguments, key)
            for key in (
                'rounds',
                'seconds',
                'concurrency',
                'threads',
                'pending',
                'sequential_calls',
                'warmup',
            )
        },
        'environment': environment,
        'rounds': rounds,
        'pending': pending,
    }


# The report -----------------------------------------------------------------------------------------------------------


def _figures(result: Dict[str, Any], row: str) -> Dict[str, float]:
    if row in CONCURRENT_ROWS:
        cpu_us = result['cpu'] / result['calls'] * 1e6
        return {'calls_per_second': result['calls'] / result['elapsed'], 'cpu_us': cpu_us}
    return {'p50_us': result['p50_us'], 'cpu_us': result['cpu'] / result['calls'] * 1e6}


def summarize(outcome: Dict[str, Any]) -> Dict[str, Any]:
    medians: Dict[str, Dict[str, float]] = {}
    for row in FIGURE_ROWS:
        per_round = [_figures(results[row], row) for results in outcome['rounds']]
        medians[row] = {name: statistics.median(f[name] for f in per_round) for name in per_round[0]}
    comparisons = {
        label: {
            'async_row': async_row,
            'sync_row': sync_row,
            'figure': figure,
            'async': medians[async_row][figure],
            'sync': medians[sync_row][figure],
            'async_over_sync': medians[async_row][figure] / medians[sync_row][figure],
        }
        for label, async_row, sync_row, figure, _ in COMPARISONS
    }
    floor = {
        kind: {
            'socket': medians[f'{kind}_socket'],
            'asyncio': medians[f'{kind}_asyncio'],
            'uvloop': medians[f'{kind}_uvloop'],
            **{
                f'{loop}_minus_socket': {
                    figure: medians[f'{kind}_{loop}'][figure] - medians[f'{kind}_socket'][figure]
                    for figure in ('p50_us', 'cpu_us')
                }
                for loop in ('asyncio', 'uvloop')
            },
        }
        for kind in ('ping', 'call')
    }
    concurrent_async, concurrent_sync = medians['async_concurrent'], medians['sync_threads']
    pending = outcome['pending']
    goals = {
        'calls/s: async at least sync': concurrent_async['calls_per_second'] >= concurrent_sync['calls_per_second'],
        'CPU per call: async at most half of sync': concurrent_async['cpu_us'] <= concurrent_sync['cpu_us'] / 2,
        f'{pending["calls"]} calls pending at once without error': (
            pending['errors'] == 0 and pending['most_waiting'] > 0
        ),
        'sequential p50: async at most sync': medians['async_sequential']['p50_us']
        <= medians['sync_sequential']['p50_us'],
        'sequential p50, calls interleaved in one process: async at most sync': medians['async_interleaved']['p50_us']
        <= medians['sync_interleaved']['p50_us'],
        # Informational: uvloop is not a dependency of the library; this says what a loop with cheaper wake-ups gives.
        'sequential p50 on uvloop: async at most sync': medians['uvloop_sequential']['p50_us']
        <= medians['sync_sequential']['p50_us'],
    }
    pairs = {
        key: statistics.median(results['interleaved_pairs'][key] for results in outcome['rounds'])
        for key in ('paired_difference_p50_us', 'async_faster_share')
    }
    return {'medians': medians, 'comparisons': comparisons, 'floor': floor, 'pairs': pairs, 'goals': goals}


def report(outcome: Dict[str, Any]) -> str:
    summary = summarize(outcome)
    outcome['summary'] = summary
    settings, environment, medians = outcome['settings'], outcome['environment'], summary['medians']
    lines = [
        f'AsyncClient vs Client: {settings["rounds"]} rounds; {settings["concurrency"]} coroutines vs '
        f'{settings["threads"]} threads for {settings["seconds"]:g} s each; {settings["sequential_calls"]} sequential '
        f'calls; service: round_trip_service --fork {FORK_PROCESSES}, action {ACTION}',
        f'machine: {environment["machine"]["cpu"]} x {environment["machine"]["cpu_count"]} (shared); load average '
        f'before {environment["load_average_before"]}, after {environment["load_average_after"]}; Redis '
        f'{environment["redis_version"]}; Python {sys.version.split()[0]}; uvloop {environment["uvloop_version"]}',
        '',
    ]
    rows = [
        [
            label,
            format(medians[async_row][figure], number_format),
            format(medians[sync_row][figure], number_format),
            f'{summary["comparisons"][label]["async_over_sync"]:.2f}x',
        ]
        for label, async_row, sync_row, figure, number_format in COMPARISONS
    ]
    lines.append(format_table(['median over rounds', 'AsyncClient', 'Client', 'async/sync'], rows))
    pairs = summary['pairs']
    lines.append(
        f"interleaved, call by call (medians over rounds): the AsyncClient's call minus the Client's, median "
        f"{pairs['paired_difference_p50_us']:+.1f} us; the AsyncClient's call was the faster in "
        f'{pairs["async_faster_share"]:.0%} of the pairs'
    )
    floor = summary['floor']
    floor_rows = [
        [
            label,
            *(f'{floor[kind][key][figure]:{sign}.1f}' for kind in ('ping', 'call') for figure in ('p50_us', 'cpu_us')),
        ]
        for label, key, sign in (
            ('blocking socket', 'socket', ''),
            ('asyncio (default loop)', 'asyncio', ''),
            ('uvloop', 'uvloop', ''),
            ('asyncio minus socket', 'asyncio_minus_socket', '+'),
            ('uvloop minus socket', 'uvloop_minus_socket', '+'),
        )
    ]
    lines += [
        '',
        'event loop floor: the same bytes to Redis and back, without the library (p50 and CPU us per exchange):',
        "  PING = one Redis PING; call = a call of the service: the request's EVALSHA and the BLMPOP of its response,",
        '  encoded once, in one write (as the AsyncClient sends a lone call), and their two replies',
        format_table(['median over rounds', 'PING p50', 'PING CPU', 'call p50', 'call CPU'], floor_rows),
    ]
    pending = outcome['pending']
    first_errors = f' {pending["first_errors"]}' if pending['first_errors'] else ''
    lines += [
        '',
        f'pending: {pending["calls"]} calls started at once on one AsyncClient, up to {pending["most_waiting"]} '
        f'waiting together; {pending["errors"]} failed{first_errors}; all answered in '
        f'{pending["elapsed"]:.1f} s',
        '',
        'round by round (calls/s and CPU us per call; p50 us):',
    ]
    round_rows = []
    floor_round_rows = []
    for number, results in enumerate(outcome['rounds'], 1):
        figures = {row: _figures(results[row], row) for row in FIGURE_ROWS}
        round_rows.append(
            [
                str(number),
                f'{figures["async_concurrent"]["calls_per_second"]:.0f} / {figures["async_concurrent"]["cpu_us"]:.1f}',
                f'{figures["sync_threads"]["calls_per_second"]:.0f} / {figures["sync_threads"]["cpu_us"]:.1f}',
                f'{figures["async_sequential"]["p50_us"]:.0f}',
                f'{figures["sync_sequential"]["p50_us"]:.0f}',
                f'{figures["async_interleaved"]["p50_us"]:.0f} / {figures["sync_interleaved"]["p50_us"]:.0f}',
            ]
        )
        floor_round_rows.append(
            [
                str(number),
                f'{figures["uvloop_concurrent"]["calls_per_second"]:.0f} / '
                f'{figures["uvloop_concurrent"]["cpu_us"]:.1f}',
                f'{figures["uvloop_sequential"]["p50_us"]:.0f}',
                *(
                    ' / '.join(f'{figures[f"{kind}_{loop}"]["p50_us"]:.0f}' for loop in ('socket', 'asyncio', 'uvloop'))
                    for kind in ('ping', 'call')
                ),
            ]
        )
    lines.append(
        format_table(
            [
                'round',
                'async concurrent',
                f'sync {settings["threads"]} threads',
                'async seq p50',
                'sync seq p50',
                'interleaved p50 async / sync',
            ],
            round_rows,
        )
    )
    lines += [
        '',
        'round by round on uvloop (calls/s and CPU us per call; p50 us), and the floor (p50 us: socket / asyncio / '
        'uvloop):',
        format_table(
            ['round', 'uvloop concurrent', 'uvloop seq p50', 'PING', 'call'],
            floor_round_rows,
        ),
    ]
    lines += ['', 'goals:']
    lines += [f'  {"met" if met else "NOT MET"}: {goal}' for goal, met in summary['goals'].items()]
    return '\n'.join(lines)


def parse_arguments(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--rounds', type=int, default=3, help='rounds of every row (default 3)')
    parser.add_argument('--seconds', type=float, default=5.0, help='how long each concurrent row calls (default 5)')
    parser.add_argument('--concurrency', type=int, default=1000, help='coroutines of the AsyncClient (default 1000)')
    parser.add_argument('--threads', type=int, default=32, help='threads of the synchronous client (default 32)')
    parser.add_argument('--pending', type=int, default=10000, help='calls started at once (default 10000)')
    parser.add_argument(
        '--sequential-calls',
        type=int,
        default=2000,
        help='timed calls of each sequential row, PING rows included (default 2000)',
    )
    parser.add_argument('--warmup', type=int, default=200, help='untimed calls before each row (default 200)')
    add_redis_arguments(parser)
    arguments = parser.parse_args(argv)
    if (
        min(arguments.rounds, arguments.concurrency, arguments.threads, arguments.pending, arguments.sequential_calls)
        < 1
        or arguments.seconds <= 0
        or arguments.warmup < 0
    ):
        parser.error('--rounds, --seconds, --concurrency, --threads, --pending and --sequential-calls must be positive')
    return arguments


def main(argv: Optional[Sequence[str]] = None) -> int:
    return worker_or_main(argv, run_worker, parse_arguments, run_benchmark, report, prefix='pysoa_async_client_')


if __name__ == '__main__':
    sys.exit(main())
