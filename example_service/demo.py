"""
The quick-start demo: start a throwaway Redis and the example service (two forked workers), call it in every call
style, print what comes back, and stop everything it started, also on Ctrl-C.

Run it with ``bash scripts/demo.sh`` (which sets up the virtualenv and Redis), or ``python -m example_service.demo``.
"""

import os
import pprint
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import (
    Any,
    Callable,
    Dict,
    List,
    Optional,
)

import redis

from pysoa.client.client import Client
from pysoa.common.transport.errors import PySOATransportError
from pysoa.common.types import (
    ActionResponse,
    JobResponse,
)


_interrupted = False


def _on_interrupt(_signal_number: int, _frame: Any) -> None:
    # Also remembered: a KeyboardInterrupt raised while Python runs a finalizer (__del__) is swallowed.
    global _interrupted
    _interrupted = True
    raise KeyboardInterrupt


def _check_interrupted() -> None:
    if _interrupted:
        raise KeyboardInterrupt


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        port: int = probe.getsockname()[1]
    return port


def _wait_until(condition: Callable[[], Any], seconds: float, what: str) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        _check_interrupted()
        try:
            result = condition()
            if result:
                return result
        except (redis.RedisError, PySOATransportError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f'Gave up after {seconds} seconds waiting for {what}')


def _spawn(started: List['subprocess.Popen[bytes]'], command: List[str], **kwargs: Any) -> None:
    """Start a process and record it, with Ctrl+C held back in between, so no process goes unrecorded."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        started.append(subprocess.Popen(command, start_new_session=True, **kwargs))
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _stop(process: 'subprocess.Popen[bytes]', name: str) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        print(f'   {name} did not stop in time; killing it')
        process.kill()
        process.wait()


def _section(title: str) -> None:
    _check_interrupted()
    print(f'\n== {title}')


def _show(label: str, value: Any) -> None:
    text = pprint.pformat(value, width=100, sort_dicts=False)
    print(f'   {label}: ' + text.replace('\n', '\n' + ' ' * (len(label) + 5)))


def run_calls(client: Client) -> None:
    """The calls the demo makes, each printed as it returns."""
    _section('A single action: call_action("example", "square", {"number": 7})')
    response = client.call_action('example', 'square', {'number': 7})
    _show('body', response.body)

    _section('A job of several actions, run in order by one server: call_actions(...)')
    job = client.call_actions(
        'example',
        [
            {'action': 'square', 'body': {'number': 3}},
            {'action': 'greet', 'body': {'name': 'Ada', 'language': 'fr'}},
        ],
    )
    for action in job.actions:
        _show(action.action, action.body)
    _show('response context', job.context)

    _section('Actions in parallel, each its own job: call_actions_parallel(...)')
    for result in client.call_actions_parallel(
        'example', [{'action': 'square', 'body': {'number': n}} for n in (1, 2, 3, 4)]
    ):
        assert isinstance(result, ActionResponse)  # errors would have been raised
        _show(result.action, result.body)

    _section('Jobs in parallel: call_jobs_parallel(...)')
    for job_result in client.call_jobs_parallel(
        [
            {'service_name': 'example', 'actions': [{'action': 'greet', 'body': {'name': 'Grace'}}]},
            {
                'service_name': 'example',
                'actions': [{'action': 'slow_echo', 'body': {'message': 'async!', 'delay_seconds': 0.2}}],
            },
        ]
    ):
        assert isinstance(job_result, JobResponse)
        for action in job_result.actions:
            _show(action.action, action.body)

    _section('A nested call: sum_of_squares calls square through request.client, sharing the correlation id')
    _show(
        'body',
        client.call_action(
            'example', 'sum_of_squares', {'numbers': [1, 2, 3]}, correlation_id='demo-correlation-id'
        ).body,
    )

    _section('An expected validation error: greet with an empty name and an unknown language')
    try:
        client.call_action('example', 'greet', {'name': '', 'language': 'xx'})
    except Client.CallActionError as e:
        for error in e.actions[0].errors:
            _show(
                f'{error.field}',
                {'code': error.code, 'message': error.message, 'is_caller_error': error.is_caller_error},
            )

    _section('A future: send now, collect later')
    future = client.call_action_future('example', 'square', {'number': 12})
    _show('body', future.result().body)

    _section('The status action every service has')
    _show('body', client.call_action('example', 'status', {'verbose': False}).body)


def main(argv: Optional[List[str]] = None) -> int:
    redis_binary = shutil.which('redis-server')
    if redis_binary is None:
        print(
            'ERROR: redis-server is not installed (run the demo with `bash scripts/demo.sh`, which installs it, or '
            '`apt-get install -y redis-server`).',
            file=sys.stderr,
        )
        return 1

    signal.signal(signal.SIGINT, _on_interrupt)
    started: List[subprocess.Popen[bytes]] = []  # redis-server, then the service
    with tempfile.TemporaryDirectory(prefix='pysoa-demo-') as directory:
        port = _free_port()
        try:
            print(f'Starting a throwaway redis-server on 127.0.0.1:{port} ...')
            _spawn(
                started,
                [
                    redis_binary,
                    '--port',
                    str(port),
                    '--bind',
                    '127.0.0.1',
                    '--save',
                    '',
                    '--appendonly',
                    'no',
                    '--dir',
                    directory,
                ],
                stdout=subprocess.DEVNULL,
            )
            with redis.Redis(port=port, socket_timeout=1) as probe:
                _wait_until(probe.ping, 15, 'redis-server to start')

            environment: Dict[str, str] = {**os.environ, 'EXAMPLE_REDIS_PORT': str(port)}
            print(
                'Starting the example service with two forked workers: '
                'python -m example_service -s example_service.settings --fork 2 ...'
            )
            _spawn(
                started,
                [sys.executable, '-m', 'example_service', '-s', 'example_service.settings', '--fork', '2'],
                env=environment,
            )

            os.environ['EXAMPLE_REDIS_PORT'] = str(port)
            from example_service.settings import CLIENT_SETTINGS

            client = Client(CLIENT_SETTINGS)
            _wait_until(
                lambda: client.call_action('example', 'status', {'verbose': False}, timeout=2),
                30,
                'the example service to answer',
            )
            run_calls(client)
            _check_interrupted()
            print('\nDone: every call style worked.')
            return 0
        except KeyboardInterrupt:
            print('\nInterrupted.')
            return 130
        finally:
            print('\nStopping the example service and redis-server ...')
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl+C must not cut the clean-up short
            for process, name in reversed(list(zip(started, ('redis-server', 'the example service')))):
                _stop(process, name)


if __name__ == '__main__':
    sys.exit(main())
