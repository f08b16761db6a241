"""
The processes that ``round_trip.py`` and ``side_by_side.py`` start: a PySOA server, a PySOA client (over Redis, or
in-process over the local transport), and the raw redis-py pair that gives the floor. Each run is one role, chosen by
the first argument::

    python round_trip_worker.py server     --port P [--import-path DIR] [--profile FILE]
    python round_trip_worker.py client     --port P [--action A] --calls N --warmup N [--import-path DIR]
                                           [--profile FILE] [--threads T --seconds S]
    python round_trip_worker.py local      [--action A] --calls N --warmup N [--import-path DIR] [--profile FILE]
    python round_trip_worker.py raw-server --port P --response-bytes B
    python round_trip_worker.py raw-client --port P --calls N --warmup N --request-bytes B [--threads T --seconds S]
    python round_trip_worker.py versions   [--import-path DIR]

The PySOA roles serve and call the service in ``round_trip_service.py`` (``--action``: ``square``, the default, or
``echo``), which uses only the public API that PySOA 1.4.9 and this re-implementation share, so the same code runs
against either one: whichever ``pysoa`` the interpreter imports. ``--import-path`` puts a directory (this repository)
first on ``sys.path``; without it, run the original under its own virtualenv with ``python -I`` from a directory that
has no ``pysoa`` in it. Servers print ``ready`` on a line once set up and stop on SIGTERM; clients print one JSON
object (their measurements) on stdout; ``versions`` prints the interpreter's and libraries' versions. ``--profile``
runs the server's loop or the client's timed calls under cProfile (which slows them down).

Clients make ``--warmup`` untimed calls and then ``--calls`` timed ones, one after another. With ``--seconds``, a
client instead measures throughput: ``--threads`` threads, each with its own PySOA client (or Redis connection and
reply list), make ``--warmup`` calls each, then the process prints ``ready``, waits for a line on stdin, and every
thread calls back to back for ``--seconds`` seconds; it reports the calls made and the system-wide monotonic clock
when they started and when the last one ended, so that several client processes can be added up.

The raw pair exchanges MessagePack frames: the request is ``[reply list, padding]`` (``--request-bytes`` in all),
the raw server pops it and pushes ``[padding]`` (``--response-bytes``) onto the reply list the request named.

Keep this file importable by Python 3.9 and free of imports outside the standard library at module level: it runs
under other interpreters and other versions of redis-py and msgpack.
"""

import argparse
import json
import os
import platform
import signal
import sys
import threading
import time
from types import FrameType
from typing import (
    Any,
    Callable,
    Dict,
    List,
    Optional,
    Sequence,
    Set,
    Tuple,
)


HERE = os.path.dirname(os.path.abspath(__file__))

RAW_REQUEST_QUEUE = 'round_trip_bench:raw:request'
RAW_RESPONSE_QUEUE_PREFIX = 'round_trip_bench:raw:response:'

PYSOA_MODULES = ('pysoa', 'redis', 'msgpack', 'conformity')

RAW_RECEIVE_TIMEOUT_SECONDS = 5
"""How long each blocking pop of the raw pair waits: PySOA's default receive timeout."""

Call = Callable[[int], None]
"""One round trip, the argument numbering the call."""


class _Stop(BaseException):
    """Raised by the SIGTERM handler to break a server out of its (possibly blocked) loop."""


def _raise_stop(_signum: int, _frame: Optional[FrameType]) -> None:
    raise _Stop()


def _versions(module_names: Sequence[str]) -> Dict[str, Any]:
    """The interpreter and versions of these libraries (those importable), for the report."""
    versions: Dict[str, Any] = {
        'python': platform.python_version(),
        'python_implementation': platform.python_implementation(),
        'executable': sys.executable,
    }
    for module_name in module_names:
        try:
            module = __import__(module_name)
        except ImportError:
            continue
        version = getattr(module, '__version__', None)
        if version is None and module_name == 'msgpack':
            version = '.'.join(str(part) for part in module.version)
        versions[module_name] = str(version)
        if module_name == 'pysoa':
            versions['pysoa_path'] = module.__file__
    return versions


# PySOA server and clients -----------------------------------------------------------------------------------------


def run_server(port: int, profile: Optional[str] = None) -> None:
    """
    Serve the benchmark service until SIGTERM, like a single PySOA worker process: through ``Server.run()``, which
    prints ``ready`` once set up and stops after the request in progress on SIGTERM. With ``profile``, the server
    runs under cProfile, whose statistics are written to that file at the end.
    """
    from round_trip_service import (
        RoundTripServer,
        redis_server_settings,
    )

    class ReadyServer(RoundTripServer):
        def setup(self) -> None:
            super().setup()
            print('ready', flush=True)

    server = ReadyServer(ReadyServer.settings_class(redis_server_settings(port)))
    with _Profiler(profile):
        server.run()


def _pysoa_call(transport: Dict[str, Any], action: str) -> Call:
    """A new PySOA client with this transport, and a round trip of ``action`` through it that checks the answer."""
    from round_trip_service import (
        SERVICE_NAME,
        expected_response,
        request_body,
    )

    from pysoa.client.client import Client

    client = Client({SERVICE_NAME: {'transport': transport}})

    def call(i: int) -> None:
        response = client.call_action(SERVICE_NAME, action, request_body(action, i))
        if response.body != expected_response(action, i):
            raise AssertionError(f'{action}({i}) returned {response.body!r}')

    return call


def _redis_transport(port: int) -> Dict[str, Any]:
    from round_trip_service import redis_transport_kwargs

    return {
        'path': 'pysoa.common.transport.redis_gateway.client:RedisClientTransport',
        'kwargs': redis_transport_kwargs(port),
    }


def _local_transport() -> Dict[str, Any]:
    from round_trip_service import RoundTripServer

    return {
        'path': 'pysoa.common.transport.local:LocalClientTransport',
        'kwargs': {'server_class': RoundTripServer, 'server_settings': {}},
    }


class _FrameSizeProbe:
    """
    Records the size of the largest bytes argument of each Redis command the client sends (the request frame) and of
    the value each ``BLPOP`` returns (the response frame), by wrapping ``send_command``, ``send_packed_command``
    (pipelined or pre-packed commands) and ``read_response`` of redis-py's ``Connection``, which every way of
    sending a command goes through (both implementations, any redis-py version). Installed only around an untimed
    call, so it costs the measurements nothing.
    """

    def __init__(self) -> None:
        self.request_frame_bytes: Optional[int] = None
        self.response_frame_bytes: Optional[int] = None
        self.commands: List[str] = []
        self._originals: Optional[Tuple[Callable[..., Any], ...]] = None
        self._packing = False

    def install(self) -> None:
        from redis.connection import Connection

        original_send: Callable[..., Any] = Connection.send_command
        original_read: Callable[..., Any] = Connection.read_response
        original_send_packed: Callable[..., Any] = Connection.send_packed_command
        self._originals = (original_send, original_read, original_send_packed)
        probe = self
        last_command: Dict[int, str] = {}

        def record(connection: Any, args: Sequence[Any]) -> None:
            name = (args[0].decode() if isinstance(args[0], bytes) else str(args[0])).upper()
            probe.commands.append(name)
            last_command[id(connection)] = name
            sizes = [len(a) for a in args[1:] if isinstance(a, (bytes, bytearray))]
            if sizes and name not in ('BLPOP', 'BRPOP'):
                probe.request_frame_bytes = max(sizes)

        def send_command(connection: Any, *args: Any, **options: Any) -> Any:
            record(connection, args)
            probe._packing = True
            try:
                return original_send(connection, *args, **options)
            finally:
                probe._packing = False

        def send_packed_command(connection: Any, command: Any, *args: Any, **options: Any) -> Any:
            # Pipelined or packed elsewhere (2.0 packs with hiredis and sends two commands at once): read them back;
            # send_command's own call is recorded by send_command.
            if not probe._packing:
                for parsed in _parse_commands(b''.join([command] if isinstance(command, bytes) else command)):
                    record(connection, parsed)
            return original_send_packed(connection, command, *args, **options)

        def read_response(connection: Any, *args: Any, **options: Any) -> Any:
            result = original_read(connection, *args, **options)
            blocking_pop = last_command.get(id(connection)) in ('BLPOP', 'BRPOP')
            if blocking_pop and isinstance(result, (list, tuple)) and len(result) == 2:
                probe.response_frame_bytes = len(result[1])
            return result

        setattr(Connection, 'send_command', send_command)
        setattr(Connection, 'read_response', read_response)
        setattr(Connection, 'send_packed_command', send_packed_command)

    def uninstall(self) -> None:
        from redis.connection import Connection

        if self._originals is not None:
            setattr(Connection, 'send_command', self._originals[0])
            setattr(Connection, 'read_response', self._originals[1])
            setattr(Connection, 'send_packed_command', self._originals[2])
            self._originals = None


def _parse_commands(packed: bytes) -> List[List[bytes]]:
    """The commands in bytes of the Redis protocol (arrays of bulk strings, as clients send them)."""
    commands = []
    position = 0
    while position < len(packed):
        end = packed.index(b'\r\n', position)
        count = int(packed[position + 1 : end])
        position = end + 2
        arguments = []
        for _ in range(count):
            end = packed.index(b'\r\n', position)
            length = int(packed[position + 1 : end])
            arguments.append(packed[end + 2 : end + 2 + length])
            position = end + 2 + length + 2
        commands.append(arguments)
    return commands


class _Profiler:
    """A context manager that runs its block under cProfile and dumps the statistics to ``path``, if one is given."""

    def __init__(self, path: Optional[str]) -> None:
        self.path = path
        self._profile: Any = None

    def __enter__(self) -> None:
        if self.path:
            import cProfile

            self._profile = cProfile.Profile()
            self._profile.enable()

    def __exit__(self, *_: Any) -> None:
        if self._profile is not None:
            self._profile.disable()
            self._profile.dump_stats(self.path)


def _timed_loop(call: Call, calls: int, profile: Optional[str] = None) -> Dict[str, Any]:
    latencies_ns = [0] * calls
    clock = time.perf_counter_ns
    cpu_started = time.process_time_ns()
    started = clock()
    with _Profiler(profile):
        for i in range(calls):
            before = clock()
            call(i)
            latencies_ns[i] = clock() - before
    elapsed_ns = clock() - started
    cpu_ns = time.process_time_ns() - cpu_started
    return {'calls': calls, 'elapsed_ns': elapsed_ns, 'cpu_ns': cpu_ns, 'latencies_ns': latencies_ns}


def run_sequential(
    call: Call, calls: int, warmup: int, profile: Optional[str] = None, probe: bool = False
) -> Dict[str, Any]:
    """
    ``warmup`` untimed calls, one more (with ``probe``, its Redis traffic recorded to learn the frame sizes), then
    ``calls`` timed ones (under cProfile if ``profile`` names a file for its statistics).
    """
    for i in range(warmup):
        call(i)
    frame_probe = _FrameSizeProbe()
    if probe:
        frame_probe.install()
    try:
        call(7)
    finally:
        frame_probe.uninstall()
    result = _timed_loop(call, calls, profile)
    if probe:
        result.update(
            request_frame_bytes=frame_probe.request_frame_bytes,
            response_frame_bytes=frame_probe.response_frame_bytes,
            client_commands_per_call=frame_probe.commands,
        )
    return result


def run_concurrent(new_call: Callable[[], Call], threads: int, seconds: float, warmup: int) -> Dict[str, Any]:
    """
    Throughput: ``threads`` threads, each with its own ``new_call()``, make ``warmup`` calls; then this prints
    ``ready``, waits for a line on stdin, and every thread calls back to back until ``seconds`` have passed.
    """
    clock = time.monotonic_ns  # CLOCK_MONOTONIC: the same clock in every process, so processes can be added up
    warmed_up = threading.Barrier(threads + 1)
    go = threading.Event()
    window: Dict[str, int] = {}
    counts = [0] * threads
    ended = [0] * threads
    errors: List[BaseException] = []

    def work(index: int) -> None:
        try:
            call = new_call()
            for i in range(warmup):
                call(i)
        except BaseException as e:
            errors.append(e)
            warmed_up.abort()
            return
        warmed_up.wait()
        go.wait()
        n = 0
        try:
            while clock() < window['deadline']:
                call(n)
                n += 1
        except BaseException as e:
            errors.append(e)
        counts[index] = n
        ended[index] = clock()

    workers = [threading.Thread(target=work, args=(index,), daemon=True) for index in range(threads)]
    for worker in workers:
        worker.start()
    try:
        warmed_up.wait()
    except threading.BrokenBarrierError:
        raise errors[0] from None
    cpu_started = time.process_time_ns()
    print('ready', flush=True)
    sys.stdin.readline()
    window['started'] = clock()
    window['deadline'] = window['started'] + int(seconds * 1e9)
    go.set()
    for worker in workers:
        worker.join()
    if errors:
        raise errors[0]
    return {
        'calls': sum(counts),
        'calls_by_thread': counts,
        'started_ns': window['started'],
        'ended_ns': max(ended),
        'elapsed_ns': max(ended) - window['started'],
        'cpu_ns': time.process_time_ns() - cpu_started,
    }


# Raw redis-py pair (the floor) --------------------------------------------------------------------------------------


def _raw_connection(port: int) -> Any:
    import redis

    return redis.Redis(host='127.0.0.1', port=port)


def run_raw_server(port: int, response_bytes: int) -> None:
    """Answer every request popped from the raw request queue with a response of about ``response_bytes`` bytes."""
    import msgpack

    connection = _raw_connection(port)
    response = msgpack.packb([b'r' * max(0, response_bytes - 4)], use_bin_type=True)
    signal.signal(signal.SIGTERM, _raise_stop)
    try:
        connection.ping()
        print('ready', flush=True)
        while True:
            popped = connection.blpop([RAW_REQUEST_QUEUE], timeout=RAW_RECEIVE_TIMEOUT_SECONDS)
            if popped is not None:
                reply_to, _padding = msgpack.unpackb(popped[1], raw=False)
                connection.rpush(reply_to, response)
    except _Stop:
        pass


def _raw_call(port: int, request_bytes: int, response_sizes: Optional[Set[int]] = None) -> Tuple[Call, int]:
    """
    A new Redis connection with a reply list of its own, and a raw round trip through it: push a request of about
    ``request_bytes`` bytes and block for the response (whose sizes are added to ``response_sizes``). Returns the
    round trip and the request's exact size.
    """
    import msgpack

    connection = _raw_connection(port)
    reply_to = f'{RAW_RESPONSE_QUEUE_PREFIX}{os.getpid()}.{threading.get_ident()}!'
    request = msgpack.packb([reply_to, b'q' * max(0, request_bytes - len(reply_to) - 6)], use_bin_type=True)

    def call(_i: int) -> None:
        connection.rpush(RAW_REQUEST_QUEUE, request)
        popped = connection.blpop([reply_to], timeout=RAW_RECEIVE_TIMEOUT_SECONDS)
        if popped is None:
            raise AssertionError('The raw server did not answer in time')
        msgpack.unpackb(popped[1], raw=False)
        if response_sizes is not None:
            response_sizes.add(len(popped[1]))

    return call, len(request)


def run_raw_client(port: int, calls: int, warmup: int, request_bytes: int) -> Dict[str, Any]:
    """Raw round trips, ``warmup`` + 1 untimed and ``calls`` timed."""
    response_sizes: Set[int] = set()
    call, request_frame_bytes = _raw_call(port, request_bytes, response_sizes)
    result = run_sequential(call, calls, warmup)
    result.update(
        request_frame_bytes=request_frame_bytes,
        response_frame_bytes=response_sizes.pop() if len(response_sizes) == 1 else None,
        client_commands_per_call=['RPUSH', 'BLPOP'],
    )
    return result


# Command line -------------------------------------------------------------------------------------------------------


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('role', choices=('server', 'client', 'local', 'raw-server', 'raw-client', 'versions'))
    parser.add_argument('--port', type=int, default=0)
    parser.add_argument('--action', choices=('square', 'echo'), default='square')
    parser.add_argument('--calls', type=int, default=1000)
    parser.add_argument('--warmup', type=int, default=100)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument(
        '--seconds',
        type=float,
        default=0,
        help='client roles: measure throughput for this long instead of timing --calls calls',
    )
    parser.add_argument('--request-bytes', type=int, default=100)
    parser.add_argument('--response-bytes', type=int, default=100)
    parser.add_argument('--import-path', help="a directory to put first on sys.path (to import this repo's pysoa)")
    parser.add_argument(
        '--profile',
        metavar='FILE',
        help='server and client roles: run the serving loop or the timed calls under cProfile and '
        'write its statistics to FILE (read them with python -m pstats FILE)',
    )
    args = parser.parse_args(argv)
    if not args.role.startswith('raw-'):
        sys.path.insert(0, HERE)  # round_trip_service; python -I leaves the script's directory off sys.path
    if args.import_path:
        sys.path.insert(0, args.import_path)

    if args.role == 'versions':
        # Importing what the PySOA roles use finds missing or incompatible dependencies before any benchmark runs.
        import round_trip_service  # noqa: F401  (the server and actions)

        import pysoa.client.client
        import pysoa.common.transport.local
        import pysoa.common.transport.redis_gateway.client
        import pysoa.common.transport.redis_gateway.server  # noqa: F401

        print(json.dumps(_versions(PYSOA_MODULES)))
        return
    if args.role == 'server':
        run_server(args.port, args.profile)
        return
    if args.role == 'raw-server':
        run_raw_server(args.port, args.response_bytes)
        return

    if args.role == 'raw-client':
        new_call: Callable[[], Call] = lambda: _raw_call(args.port, args.request_bytes)[0]  # noqa: E731
        modules: Sequence[str] = ['redis', 'msgpack']
    else:
        transport = _local_transport() if args.role == 'local' else _redis_transport(args.port)
        new_call = lambda: _pysoa_call(transport, args.action)  # noqa: E731
        modules = PYSOA_MODULES
    if args.seconds > 0:
        result = run_concurrent(new_call, args.threads, args.seconds, args.warmup)
    elif args.role == 'raw-client':
        result = run_raw_client(args.port, args.calls, args.warmup, args.request_bytes)
    else:
        result = run_sequential(new_call(), args.calls, args.warmup, args.profile, probe=args.role == 'client')
    result['versions'] = _versions(modules)
    print(json.dumps(result))


if __name__ == '__main__':
    main()
