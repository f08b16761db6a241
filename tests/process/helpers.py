"""
Running real service processes (``python -m <package> ...``) for the process tests, and calling them over Redis.

Every :class:`ServiceProcess` starts in its own session, so its process group holds everything it starts (forked
workers, file-watcher children, daemonized copies). :meth:`ServiceProcess.cleanup` kills that group and waits for it
to be empty, so no test leaves processes behind, whatever happens.
"""

import os
import pathlib
import re
import signal
import subprocess
import sys
from typing import (
    Any,
    Callable,
    Dict,
    Iterable,
    List,
    Mapping,
    Optional,
    Sequence,
    Set,
)

from pysoa.client.client import Client
from pysoa.common.types import ActionResponse
from tests.support.redis_processes import (
    free_port,
    wait_for,
)


__all__ = (
    'REPO_ROOT',
    'RESPONSE_TIMEOUT',
    'SAMPLE_MODULE',
    'SAMPLE_SETTINGS',
    'ServiceProcess',
    'StartService',
    'call',
    'children_of',
    'handles_signal',
    'is_alive',
    'make_client',
    'process_environment',
    'process_group_members',
    'unreachable_redis',
    'wait_for',
    'wait_for_children_of',
    'wait_until_answered_by',
    'wait_until_gone',
    'write_files',
)

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
SAMPLE_MODULE = 'tests.process.sample_service'
SAMPLE_SETTINGS = 'tests.process.sample_service.settings'
CLIENT_TRANSPORT_PATH = 'pysoa.common.transport.redis_gateway.client:RedisClientTransport'

# Variables of the test run's own environment that would change how a service starts.
_SCRUBBED_VARIABLES = ('DJANGO_SETTINGS_MODULE', 'PYSOA_RELOADER_RUN_MAIN', 'PYSOA_RELOADER_WRAPPER_BIN', 'PYTHONPATH')


def _read(path: str) -> Optional[str]:
    try:
        with open(path, encoding='utf-8', errors='replace') as f:
            return f.read()
    except OSError:
        return None


def _stat_fields(pid: int) -> Optional[List[str]]:
    """The fields of ``/proc/<pid>/stat`` after the command name (state first), or ``None`` if it is gone."""
    text = _read(f'/proc/{pid}/stat')
    if text is None:
        return None
    return text[text.rindex(')') + 2 :].split()


def is_alive(pid: int) -> bool:
    """Whether the process exists and is not a zombie (a zombie has exited; only its parent has not reaped it)."""
    fields = _stat_fields(pid)
    return fields is not None and fields[0] not in ('Z', 'X')


def handles_signal(pid: int, signal_number: int) -> bool:
    """Whether the process has a handler for the signal (``SigCgt`` in ``/proc/<pid>/status``)."""
    status = _read(f'/proc/{pid}/status') or ''
    for line in status.splitlines():
        if line.startswith('SigCgt:'):
            return bool(int(line.split()[1], 16) & (1 << (signal_number - 1)))
    return False


def process_group_members(group_id: int) -> List[int]:
    """The live (non-zombie) processes of a process group."""
    members = []
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            fields = _stat_fields(int(entry))
            if fields is not None and fields[0] not in ('Z', 'X') and int(fields[2]) == group_id:
                members.append(int(entry))
    return sorted(members)


def children_of(pid: int) -> List[int]:
    """
    The live child processes of ``pid``. Read from every thread's ``children`` file: a child is listed under the
    thread that forked it (forked workers are started by monitor threads, not the main thread).
    """
    children: Set[int] = set()
    try:
        tasks = os.listdir(f'/proc/{pid}/task')
    except OSError:
        return []
    for task in tasks:
        text = _read(f'/proc/{pid}/task/{task}/children')
        if text:
            children.update(int(c) for c in text.split())
    return sorted(c for c in children if is_alive(c))


def wait_for_children_of(pid: int, count: int, timeout: float = 15, exclude: Iterable[int] = ()) -> List[int]:
    """Wait until ``pid`` has ``count`` live children, none of them in ``exclude``; return them."""
    excluded = set(exclude)

    def ready() -> Optional[List[int]]:
        if not is_alive(pid):
            raise AssertionError(f'Process {pid} exited')
        children = children_of(pid)
        return children if len(children) == count and not excluded & set(children) else None

    try:
        result: List[int] = wait_for(ready, timeout, f'{count} child processes of {pid} (not {sorted(excluded)})')
    except TimeoutError as e:
        raise AssertionError(str(e)) from None
    return result


def wait_until_gone(pids: Iterable[int], timeout: float, description: str = 'the processes to exit') -> None:
    """Wait until none of ``pids`` is alive."""
    pids = list(pids)
    wait_for(lambda: not any(is_alive(p) for p in pids), timeout, f'{description} ({pids})')


def write_files(root: pathlib.Path, files: Mapping[str, str]) -> None:
    """Write ``{relative path: text}`` under ``root``, creating directories."""
    for relative_path, text in files.items():
        path = root / relative_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding='utf-8')


def process_environment(
    env: Optional[Mapping[str, str]] = None,
    python_path: Sequence[pathlib.Path] = (),
) -> Dict[str, str]:
    """The environment of a process the tests start: this one's, with ``env`` and ``python_path`` (+ the repo)."""
    environment = {k: v for k, v in os.environ.items() if k not in _SCRUBBED_VARIABLES}
    environment.update(
        {
            'PYTHONPATH': os.pathsep.join([*(str(p) for p in python_path), str(REPO_ROOT)]),
            'PYTHONUNBUFFERED': '1',
            # Source files rewritten within a second would otherwise be shadowed by their stale bytecode.
            'PYTHONDONTWRITEBYTECODE': '1',
        }
    )
    environment.update(env or {})
    return environment


class ServiceProcess:
    """
    A Python process (usually a service: ``python -m <package> <options>``) in its own session, its output (stdout
    and stderr) going to ``output_file``.

    :param python_arguments: Everything after ``python``: ``['-m', package, ...]``, ``[script, ...]`` or
                             ``['-c', code]``.
    :param output_file: Where its output goes.
    :param env: Extra environment variables.
    :param python_path: Directories for ``PYTHONPATH`` (the repository root is always added last).
    :param cwd: The working directory (default: the repository root).
    """

    def __init__(
        self,
        python_arguments: Sequence[str],
        output_file: pathlib.Path,
        env: Optional[Mapping[str, str]] = None,
        python_path: Sequence[pathlib.Path] = (),
        cwd: Optional[pathlib.Path] = None,
    ) -> None:
        self.command = [sys.executable, *python_arguments]
        self.output_file = output_file
        self.cwd = cwd or REPO_ROOT
        self.env = process_environment(env, python_path)
        self.process: Optional[subprocess.Popen[bytes]] = None

    def start(self) -> 'ServiceProcess':
        with open(self.output_file, 'wb') as output:
            self.process = subprocess.Popen(
                self.command,
                env=self.env,
                cwd=str(self.cwd),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None, 'The service was not started'
        return self.process.pid

    @property
    def returncode(self) -> Optional[int]:
        assert self.process is not None
        return self.process.poll()

    def is_running(self) -> bool:
        return self.returncode is None

    def children(self) -> List[int]:
        """The live child processes of the service's main process."""
        return children_of(self.pid)

    def wait_for_children(self, count: int, timeout: float = 15, exclude: Iterable[int] = ()) -> List[int]:
        """Wait until the main process has ``count`` live children, none of them in ``exclude``; return them."""
        try:
            return wait_for_children_of(self.pid, count, timeout, exclude)
        except AssertionError as e:
            raise AssertionError(f'{e}; the output is:\n{self.output()}') from None

    def group_members(self) -> List[int]:
        """Every live process of the service's process group (itself, its workers, and anything they started)."""
        return process_group_members(self.pid)

    def check_running(self) -> None:
        """Fail, showing the output, if the main process has exited."""
        if not self.is_running():
            raise AssertionError(f'The service exited with status {self.returncode}:\n{self.output()}')

    def send_signal(self, signal_number: int) -> None:
        assert self.process is not None
        self.process.send_signal(signal_number)

    def wait(self, timeout: float) -> int:
        """Wait for the main process to exit and return its exit status (negative: killed by that signal)."""
        assert self.process is not None
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f'The service did not exit within {timeout}s; its output:\n{self.output()}',
            ) from None

    def stop(self, signal_number: int = signal.SIGTERM, timeout: float = 15) -> int:
        """Send ``signal_number`` to the main process and return its exit status."""
        self.send_signal(signal_number)
        return self.wait(timeout)

    def output(self) -> str:
        return self.output_file.read_text(encoding='utf-8', errors='replace') if self.output_file.exists() else ''

    def wait_for_output(self, text: str, timeout: float = 15, count: int = 1) -> None:
        """Wait until ``text`` appears ``count`` times in the output (failing early if the main process exits)."""

        def seen() -> bool:
            if self.output().count(text) >= count:
                return True
            self.check_running()
            return False

        try:
            wait_for(seen, timeout, f'{text!r} ({count} times) in the output')
        except TimeoutError as e:
            raise AssertionError(f'{e}; the output is:\n{self.output()}') from None

    def wait_until_serving(self, workers: int = 0, timeout: float = 15) -> List[int]:
        """
        Wait until the server processes have installed their signal handlers (so they serve requests, and stop
        gracefully on SIGTERM) and return their pids: the main process itself, or with ``workers`` its children.
        """
        servers = self.wait_for_children(workers, timeout) if workers else [self.pid]

        def serving() -> bool:
            self.check_running()
            return all(handles_signal(pid, signal.SIGTERM) for pid in servers)

        try:
            wait_for(serving, timeout, f'server processes {servers} to be serving')
        except TimeoutError as e:
            raise AssertionError(f'{e}; the output is:\n{self.output()}') from None
        return servers

    def cleanup(self) -> None:
        """Kill everything in the service's process group, reap the main process, and wait for the group to empty."""
        if self.process is None:
            return
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            pass
        wait_for(lambda: not self.group_members(), 10, f'process group {self.pid} to empty')


StartService = Callable[..., ServiceProcess]
"""The ``start_service`` fixture (and others like it): starts a :class:`ServiceProcess`, cleaned up after the test."""


def make_client(redis_port: int, *service_names: str) -> Client:
    """A client calling each named service through the Redis transport on ``redis_port``."""
    settings = {
        'transport': {
            'path': CLIENT_TRANSPORT_PATH,
            'kwargs': {
                'backend_type': 'redis.standard',
                'backend_layer_kwargs': {'hosts': [('127.0.0.1', redis_port)]},
            },
        },
    }
    return Client(dict.fromkeys(service_names, settings))


# How long a test's client waits for a response. Keep it under 5 seconds: redis-py 8 gives its connections a 5-second
# socket timeout, so a longer wait without a response ends in a MessageReceiveError after about a minute of retries.
RESPONSE_TIMEOUT = 4


def call(
    client: Client, service: str, action: str, body: Optional[Dict[str, Any]] = None, timeout: int = RESPONSE_TIMEOUT
) -> ActionResponse:
    """Call one action and return its response, action errors included (they are not raised)."""
    return client.call_action(service, action, body, raise_action_errors=False, timeout=timeout)


def wait_until_answered_by(client: Client, pids: Iterable[int], timeout: float = 15) -> Set[int]:
    """
    Call the sample service's ``who_am_i`` until each of ``pids`` has answered (which worker takes a request is up to
    Redis); return every pid that answered.
    """
    expected = set(pids)
    answered: Set[int] = set()

    def all_answered() -> bool:
        answered.add(call(client, 'sample', 'who_am_i').body['pid'])
        return expected <= answered

    wait_for(all_answered, timeout, f'processes {sorted(expected)} to answer', interval=0)
    return answered


def unreachable_redis() -> Dict[str, str]:
    """
    The sample service's environment for a Redis that cannot be reached: nothing listens on its port, and each
    attempt fails at once (without redis-py's own retries).
    """
    return {'SAMPLE_REDIS_PORT': str(free_port()), 'SAMPLE_REDIS_NO_RETRY': '1'}


def parse_pid_line(output: str) -> int:
    """The PID that ``--daemon`` prints (``PID=<pid>``)."""
    match = re.search(r'^PID=(\d+)$', output, re.MULTILINE)
    assert match, f'No PID=<pid> line in the output:\n{output}'
    return int(match.group(1))
