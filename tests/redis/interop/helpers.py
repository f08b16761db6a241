"""
What the interoperability tests share: the wire formats they cover, settings for either implementation's clients and
servers, the original's servers and clients in child processes, and looks at the Redis lists between them.

The original's code only ever runs in child processes of the interpreter of its own virtualenv (see ``conftest.py``):
servers through ``original/runner.py`` and clients through ``original/client_driver.py``. They are started outside
this repository and with a clean ``PYTHONPATH``, so that ``import pysoa`` finds the original, not this project.
"""

import json
import pathlib
import queue
import re
import subprocess
import threading
import uuid
from typing import (
    Any,
    Dict,
    List,
    NamedTuple,
    Optional,
    Tuple,
)

from pysoa.common.transport.redis_gateway.client import RedisClientTransport
from tests.redis.interop.original import wire_values
from tests.support.original_pysoa import clean_environment
from tests.support.redis_processes import (
    RedisServer,
    wait_for,
)
from tests.support.server_runner import ServerProcess


__all__ = (
    'ACTION_ERRORS',
    'BIG_ROWS',
    'BODY',
    'DEFAULT_WIRE',
    'JOB_ERRORS',
    'LATE_SERVICE',
    'ORIGINAL_DIRECTORY',
    'SERVICE',
    'WIRES',
    'OriginalClient',
    'OriginalClientRaised',
    'OriginalFuture',
    'Wire',
    'chunk_headers',
    'clean_environment',
    'client_config',
    'original_server',
    'our_server',
    'queue_length',
    'request_queue',
    'server_settings',
    'wait_for_response_frames',
    'wait_until_queue_is_empty',
)

ORIGINAL_DIRECTORY = pathlib.Path(__file__).resolve().parent / 'original'

SERVICE = 'interop'
LATE_SERVICE = 'interop_late'  # served by no process until a test starts one

#: A body of every plain (not extension) type that both serializers carry.
BODY = {
    'text': 'Grüße, 世界 ✓',
    'empty_text': '',
    'integer': 2**40,
    'negative': -7,
    'ratio': 0.25,
    'yes': True,
    'no': False,
    'nothing': None,
    'items': [1, 'two', [3.5, None]],
    'nested': {'empty_dict': {}, 'empty_list': []},
}

#: The errors of the interop services' ``fail_action`` action, with every field of ``Error``.
ACTION_ERRORS = [
    {
        'code': 'OUT_OF_STOCK',
        'message': 'No more red widgets',
        'field': 'item.color',
        'traceback': None,
        'variables': None,
        'denied_permissions': None,
        'is_caller_error': True,
    },
    {
        'code': 'LIMIT',
        'message': 'At most 3 per order',
        'field': None,
        'traceback': None,
        'variables': {'limit': '3'},
        'denied_permissions': None,
        'is_caller_error': True,
    },
]

#: The errors of the interop services' ``fail_job`` action, with every field of ``Error``.
JOB_ERRORS = [
    {
        'code': 'MAINTENANCE',
        'message': 'Down for maintenance until 03:00',
        'field': None,
        'traceback': None,
        'variables': None,
        'denied_permissions': None,
        'is_caller_error': False,
    },
]

#: Rows of ``wire_values.big_body`` for a response of about 330 KB: chunked (over 100 KB) in 3 or 4 chunks.
BIG_ROWS = 3000


# Wire formats and settings --------------------------------------------------------------------------------------------


class Wire(NamedTuple):
    """What a client speaks: a Redis gateway protocol version and a serializer."""

    protocol_version: int
    serializer: str  # 'msgpack' or 'json'

    @property
    def frame_prefix(self) -> bytes:
        """How every whole (unchunked) message in this wire format begins."""
        marker = b'pysoa-redis/3//' if self.protocol_version == 3 else b''
        return marker + b'content-type:application/' + self.serializer.encode() + b';'


WIRES = [Wire(2, 'msgpack'), Wire(2, 'json'), Wire(3, 'msgpack'), Wire(3, 'json')]
DEFAULT_WIRE = Wire(3, 'msgpack')


def _backend_kwargs(port: int) -> Dict[str, Any]:
    # A list, not a tuple: these settings travel as JSON. The scripts for the original turn hosts into tuples.
    return {'backend_type': 'redis.standard', 'backend_layer_kwargs': {'hosts': [['127.0.0.1', port]]}}


def server_settings(port: int) -> Dict[str, Any]:
    """Settings for either implementation's server: chunking responses over 100 KB, stopping within a second."""
    return {
        'transport': {
            'path': 'pysoa.common.transport.redis_gateway.server:RedisServerTransport',
            'kwargs': {
                **_backend_kwargs(port),
                'receive_timeout_in_seconds': 1,
                'chunk_messages_larger_than_bytes': 102400,
                'maximum_message_size_in_bytes': 1048576,
            },
        },
    }


class ResponsesLeftOnQueueTransport(RedisClientTransport):
    """Our client transport, leaving each response on its reply queue until the client receives it."""

    pipelined_receive = False


def client_config(port: int, wire: Wire = DEFAULT_WIRE, peekable: bool = False) -> Dict[str, Any]:
    """
    A config for either implementation's ``Client``, for both interop services, speaking ``wire``. A ``peekable``
    config (for our client only) leaves responses on the queue for :func:`wait_for_response_frames` to see.
    """
    kwargs = {
        **_backend_kwargs(port),
        'protocol_version': wire.protocol_version,
        'maximum_message_size_in_bytes': 1048576,
    }
    if wire.serializer == 'json':
        kwargs['default_serializer_config'] = {'path': 'pysoa.common.serializer:JSONSerializer'}
    transport_class = ResponsesLeftOnQueueTransport if peekable else RedisClientTransport
    transport = {'path': f'{transport_class.__module__}:{transport_class.__qualname__}', 'kwargs': kwargs}
    return {SERVICE: {'transport': transport}, LATE_SERVICE: {'transport': transport}}


# Servers --------------------------------------------------------------------------------------------------------------


def our_server(port: int, server_class: str = 'InteropServer') -> ServerProcess:
    """This project's interop server (``services.py``) in a process of its own, not yet started."""
    return ServerProcess(f'tests.redis.interop.services:{server_class}', server_settings(port))


def original_server(python: str, port: int, server_class: str = 'InteropServer') -> ServerProcess:
    """The original's interop server (``original/interop_service.py``) in a process of its own, not yet started."""
    return ServerProcess(
        f'interop_service:{server_class}',
        server_settings(port),
        python=python,
        extra_path=[],
        script=str(ORIGINAL_DIRECTORY / 'runner.py'),
    )


# The original's client ------------------------------------------------------------------------------------------------


class OriginalClientRaised(Exception):
    """What a call of the original's client raised, as ``original/client_driver.py`` reported it."""

    def __init__(self, raised: Dict[str, Any]) -> None:
        super().__init__(f'{raised["type"]}: {raised["message"]}')
        self.type: str = raised['type']
        self.message: str = raised['message']
        self.errors: List[Dict[str, Any]] = raised['errors']
        self.actions: List[Dict[str, Any]] = raised['actions']


class OriginalFuture(NamedTuple):
    """A future of the original's client, from a ``*_future`` call: pass it to :meth:`OriginalClient.result`."""

    future_id: int


class OriginalClient:
    """
    A ``Client`` of PySOA 1.4.9 in a child process (``original/client_driver.py``). :meth:`call` calls one of its
    methods: arguments may hold extension-type values, and results come back as JSON data, with responses as dicts
    (``action``, ``errors``, ``body``; ``actions``, ``errors``, ``context``) and extension-type values tagged (see
    ``wire_values``).
    """

    answer_timeout = 60

    def __init__(self, python: str, config: Dict[str, Any], directory: pathlib.Path) -> None:
        self.stderr_path = directory / f'original-client-{uuid.uuid4().hex}.stderr'
        with open(self.stderr_path, 'w') as stderr:
            self.process = subprocess.Popen(
                [python, '-E', '-s', str(ORIGINAL_DIRECTORY / 'client_driver.py'), json.dumps(config)],
                cwd=directory,
                env=clean_environment(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
            )
        self._lines: queue.Queue[Optional[str]] = queue.Queue()
        threading.Thread(target=self._read_lines, daemon=True).start()
        ready = self._next_line()
        if ready != 'ready':
            raise RuntimeError(f'The original client did not start: {ready}\n{self.stderr()}')

    def _read_lines(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line.strip())
        self._lines.put(None)

    def _next_line(self) -> str:
        try:
            line = self._lines.get(timeout=self.answer_timeout)
        except queue.Empty:
            raise TimeoutError(f'The original client did not answer in time:\n{self.stderr()}') from None
        if line is None:
            raise RuntimeError(f'The original client exited:\n{self.stderr()}')
        return line

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors='replace')

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """
        Call ``Client.<method>(*args, **kwargs)`` of the original and return its result (an :class:`OriginalFuture`
        for ``*_future`` methods).

        :raises OriginalClientRaised: With what the call raised.
        """
        command = {'method': method, 'args': wire_values.to_json(args), 'kwargs': wire_values.to_json(kwargs)}
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + '\n')
        self.process.stdin.flush()
        answer = json.loads(self._next_line())
        if 'raised' in answer:
            raise OriginalClientRaised(answer['raised'])
        if 'future' in answer:
            return OriginalFuture(answer['future'])
        return answer['returned']

    def result(self, future: OriginalFuture) -> Any:
        """Wait for the result of a future from a ``*_future`` call."""
        return self.call('result', future.future_id)

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


# Looking at Redis -----------------------------------------------------------------------------------------------------


def request_queue(service_name: str) -> str:
    """The Redis list that a service's servers take requests from."""
    return f'pysoa:service.{service_name}'


_CHUNK_HEADERS = re.compile(rb'chunk-count:(\d+);chunk-id:(\d+);')


def chunk_headers(frame: bytes) -> Optional[Tuple[int, int]]:
    """``(chunk count, chunk id)`` of a chunk frame, ``None`` for a whole message."""
    match = _CHUNK_HEADERS.match(frame, frame.index(b';') + 1)
    return (int(match.group(1)), int(match.group(2))) if match else None


def wait_for_response_frames(redis_server: RedisServer, service_name: str = SERVICE) -> List[bytes]:
    """
    Wait until one whole response (every chunk of it, if chunked) is in the response queue of a client of the
    service, and return its frames without taking them: the client can still receive them afterwards.
    """
    with redis_server.client() as connection:

        def whole_response() -> Optional[List[bytes]]:
            queues = [q for q in connection.keys(f'{request_queue(service_name)}.*') if connection.type(q) == b'list']
            if len(queues) != 1:
                return None
            frames: List[bytes] = connection.lrange(queues[0], 0, -1)
            if not frames:
                return None
            headers = chunk_headers(frames[0])
            return frames if len(frames) >= (headers[0] if headers else 1) else None

        frames: List[bytes] = wait_for(whole_response, 15, f'a whole response to a client of {service_name}')
        return frames


def queue_length(redis_server: RedisServer, key: str) -> int:
    with redis_server.client() as connection:
        return int(connection.llen(key))


def wait_until_queue_is_empty(redis_server: RedisServer, key: str) -> None:
    wait_for(lambda: queue_length(redis_server, key) == 0, 15, f'a server to take every request from {key}')
