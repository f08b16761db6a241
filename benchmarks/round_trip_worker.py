"""
The processes that ``round_trip.py`` starts: a PySOA server, a PySOA client, and the raw redis-py pair that gives the
floor. Each run is one role, chosen by the first argument::

    python round_trip_worker.py server     --port P [--import-path DIR] [--profile FILE]
    python round_trip_worker.py client     --port P --calls N --warmup N [--import-path DIR] [--profile FILE]
    python round_trip_worker.py raw-server --port P --response-bytes B
    python round_trip_worker.py raw-client --port P --calls N --warmup N --request-bytes B
    python round_trip_worker.py versions   [--import-path DIR]

The PySOA roles use only the public API that PySOA 1.4.9 and this re-implementation share, so the same code runs
against either one: whichever ``pysoa`` the interpreter imports. ``--import-path`` puts a directory (this repository)
first on ``sys.path``; without it, run the original under its own virtualenv with ``python -I`` from a directory that
has no ``pysoa`` in it. Servers print ``ready`` on a line once set up and stop on SIGTERM; clients print one JSON
object (their measurements) on stdout; ``versions`` prints the interpreter's and libraries' versions. ``--profile``
runs the server's loop or the client's timed calls under cProfile (which slows them down).

Keep this file importable by Python 3.9 and free of imports outside the standard library at module level: it runs
under other interpreters and other versions of redis-py.
"""

import argparse
import json
import platform
import signal
import sys
import time
from types import FrameType
from typing import (
    Any,
    Callable,
    Dict,
    List,
    Optional,
    Sequence,
)


SERVICE_NAME = 'round_trip_bench'
"""The service the PySOA server answers as; its request queue is ``pysoa:round_trip_bench``."""

RAW_REQUEST_QUEUE = 'round_trip_bench:raw:request'
RAW_RESPONSE_QUEUE = 'round_trip_bench:raw:response!'

PYSOA_MODULES = ('pysoa', 'redis', 'msgpack', 'conformity')

RECEIVE_TIMEOUT_SECONDS = 5
"""How long each blocking pop waits: PySOA's default receive timeout, used for the raw pair too."""


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


def _transport_kwargs(port: int) -> Dict[str, Any]:
    return {
        'backend_type': 'redis.standard',
        'backend_layer_kwargs': {'hosts': [('127.0.0.1', port)]},
        'receive_timeout_in_seconds': RECEIVE_TIMEOUT_SECONDS,
    }


# PySOA server and client ------------------------------------------------------------------------------------------

def run_server(port: int, profile: Optional[str] = None) -> None:
    """
    Serve ``square`` until SIGTERM, one request at a time, like a single PySOA worker process. With ``profile``, the
    serving loop runs under cProfile, whose statistics are written to that file at the end.
    """
    from conformity import fields

    from pysoa.server.action.base import Action
    from pysoa.server.server import Server

    class SquareAction(Action):
        description = 'Squares a number.'
        request_schema = fields.Dictionary({'number': fields.Integer()})
        response_schema = fields.Dictionary({'square': fields.Integer()})

        def run(self, request: Any) -> Dict[str, Any]:
            return {'square': request.body['number'] ** 2}

    class RoundTripServer(Server):
        service_name = SERVICE_NAME
        action_class_map = {'square': SquareAction}

    settings = RoundTripServer.settings_class({
        'transport': {
            'path': 'pysoa.common.transport.redis_gateway.server:RedisServerTransport',
            'kwargs': _transport_kwargs(port),
        },
    })
    server = RoundTripServer(settings)
    profiler = _Profiler(profile)
    signal.signal(signal.SIGTERM, _raise_stop)
    try:
        server.setup()
        print('ready', flush=True)
        with profiler:
            while True:
                server.handle_next_request()
    except _Stop:
        pass
    server.teardown()


class _FrameSizeProbe:
    """
    Records the size of the largest bytes argument of each Redis command the client sends (the request frame) and of
    the value each ``BLPOP`` returns (the response frame), by wrapping ``redis.Redis.execute_command``. Installed only
    around an untimed call, so it costs the measurements nothing.
    """

    def __init__(self) -> None:
        self.request_frame_bytes: Optional[int] = None
        self.response_frame_bytes: Optional[int] = None
        self.commands: List[str] = []
        self._original: Optional[Callable[..., Any]] = None

    def install(self) -> None:
        import redis

        original: Callable[..., Any] = redis.Redis.execute_command
        self._original = original
        probe = self

        def execute_command(client: Any, *args: Any, **options: Any) -> Any:
            result = original(client, *args, **options)
            name = args[0].decode() if isinstance(args[0], bytes) else str(args[0])
            probe.commands.append(name.upper())
            if name.upper() in ('BLPOP', 'BRPOP') and result:
                probe.response_frame_bytes = len(result[1])
            else:
                sizes = [len(a) for a in args[1:] if isinstance(a, (bytes, bytearray))]
                if sizes:
                    probe.request_frame_bytes = max(sizes)
            return result

        setattr(redis.Redis, 'execute_command', execute_command)

    def uninstall(self) -> None:
        import redis

        if self._original is not None:
            setattr(redis.Redis, 'execute_command', self._original)
            self._original = None


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


def _timed_loop(call: Callable[[int], None], calls: int, profile: Optional[str] = None) -> Dict[str, Any]:
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


def run_client(port: int, calls: int, warmup: int, profile: Optional[str] = None) -> Dict[str, Any]:
    """
    Call ``square`` sequentially: ``warmup`` untimed calls, one probed call, then ``calls`` timed ones (under cProfile
    if ``profile`` names a file for its statistics).
    """
    from pysoa.client.client import Client

    client = Client({SERVICE_NAME: {
        'transport': {
            'path': 'pysoa.common.transport.redis_gateway.client:RedisClientTransport',
            'kwargs': _transport_kwargs(port),
        },
    }})

    def call(i: int) -> None:
        response = client.call_action(SERVICE_NAME, 'square', {'number': i})
        if response.body != {'square': i * i}:
            raise AssertionError(f'square({i}) returned {response.body!r}')

    for i in range(warmup):
        call(i)
    probe = _FrameSizeProbe()
    probe.install()
    try:
        call(7)
    finally:
        probe.uninstall()
    result = _timed_loop(call, calls, profile)
    result.update(
        request_frame_bytes=probe.request_frame_bytes,
        response_frame_bytes=probe.response_frame_bytes,
        client_commands_per_call=probe.commands,
    )
    return result


# Raw redis-py pair (the floor) --------------------------------------------------------------------------------------

def _raw_connection(port: int) -> Any:
    import redis

    return redis.Redis(host='127.0.0.1', port=port)


def run_raw_server(port: int, response_bytes: int) -> None:
    """Answer every request popped from the raw request queue with a response of ``response_bytes`` bytes."""
    connection = _raw_connection(port)
    response = b'r' * response_bytes
    signal.signal(signal.SIGTERM, _raise_stop)
    try:
        connection.ping()
        print('ready', flush=True)
        while True:
            if connection.blpop([RAW_REQUEST_QUEUE], timeout=RECEIVE_TIMEOUT_SECONDS) is not None:
                connection.rpush(RAW_RESPONSE_QUEUE, response)
    except _Stop:
        pass


def run_raw_client(port: int, calls: int, warmup: int, request_bytes: int) -> Dict[str, Any]:
    """Push a request of ``request_bytes`` bytes and block for the response, ``warmup`` + ``calls`` times."""
    connection = _raw_connection(port)
    request = b'q' * request_bytes
    response_sizes = set()

    def call(_i: int) -> None:
        connection.rpush(RAW_REQUEST_QUEUE, request)
        popped = connection.blpop([RAW_RESPONSE_QUEUE], timeout=RECEIVE_TIMEOUT_SECONDS)
        if popped is None:
            raise AssertionError('The raw server did not answer in time')
        response_sizes.add(len(popped[1]))

    for i in range(warmup + 1):
        call(i)
    result = _timed_loop(call, calls)
    result.update(
        request_frame_bytes=request_bytes,
        response_frame_bytes=response_sizes.pop() if len(response_sizes) == 1 else None,
        client_commands_per_call=['RPUSH', 'BLPOP'],
    )
    return result


# Command line -------------------------------------------------------------------------------------------------------

def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('role', choices=('server', 'client', 'raw-server', 'raw-client', 'versions'))
    parser.add_argument('--port', type=int, default=0)
    parser.add_argument('--calls', type=int, default=1000)
    parser.add_argument('--warmup', type=int, default=100)
    parser.add_argument('--request-bytes', type=int, default=100)
    parser.add_argument('--response-bytes', type=int, default=100)
    parser.add_argument('--import-path', help='a directory to put first on sys.path (to import this repo\'s pysoa)')
    parser.add_argument('--profile', metavar='FILE',
                        help='server and client roles: run the serving loop or the timed calls under cProfile and '
                             'write its statistics to FILE (read them with python -m pstats FILE)')
    args = parser.parse_args(argv)
    if args.import_path:
        sys.path.insert(0, args.import_path)

    if args.role == 'versions':
        # Importing what the PySOA roles use finds missing or incompatible dependencies before any benchmark runs.
        import pysoa.client.client
        import pysoa.common.transport.redis_gateway.client
        import pysoa.common.transport.redis_gateway.server
        import pysoa.server.server  # noqa: F401

        print(json.dumps(_versions(PYSOA_MODULES)))
    elif args.role == 'server':
        run_server(args.port, args.profile)
    elif args.role == 'raw-server':
        run_raw_server(args.port, args.response_bytes)
    else:
        if args.role == 'client':
            result = run_client(args.port, args.calls, args.warmup, args.profile)
            result['versions'] = _versions(PYSOA_MODULES)
        else:
            result = run_raw_client(args.port, args.calls, args.warmup, args.request_bytes)
            result['versions'] = _versions(['redis'])
        print(json.dumps(result))


if __name__ == '__main__':
    main()
