"""
``--use-file-watcher``: a service whose code changes is restarted with the new code. The service is a package
written into the test's directory, so the test can change it.
"""

import os
import pathlib
import signal
import textwrap
from typing import (
    Dict,
    List,
    Tuple,
)

import pytest

from pysoa.client.client import Client
from tests.process.helpers import (
    RESPONSE_TIMEOUT,
    ServiceProcess,
    StartService,
    call,
    handles_signal,
    make_client,
    wait_for,
    wait_for_children_of,
    wait_until_gone,
    write_files,
)
from tests.support.redis_processes import RedisServer


SERVICE_FILES = {
    'watched_service/__init__.py': "__version__ = '1'\n",
    'watched_service/__main__.py': textwrap.dedent("""
        from pysoa.server import standalone


        def get_server():
            from watched_service.server import WatchedServer

            return WatchedServer


        if __name__ == '__main__':
            standalone.simple_main(get_server)
    """),
    'watched_service/server.py': textwrap.dedent("""
        import os
        import time

        from pysoa.server.action.base import Action
        from pysoa.server.server import Server


        class PidAction(Action):
            def run(self, request):
                return {'pid': os.getpid()}


        class SleepAction(Action):
            def run(self, request):
                time.sleep(request.body['seconds'])
                return {'pid': os.getpid()}


        class WatchedServer(Server):
            service_name = 'watched'
            action_class_map = {'pid': PidAction, 'sleep': SleepAction}
    """),
    'watched_service/settings.py': textwrap.dedent("""
        import os

        SOA_SERVER_SETTINGS = {
            'transport': {
                'path': 'pysoa.common.transport.redis_gateway.server:RedisServerTransport',
                'kwargs': {
                    'backend_type': 'redis.standard',
                    'backend_layer_kwargs': {'hosts': [('127.0.0.1', int(os.environ['WATCHED_REDIS_PORT']))]},
                    'receive_timeout_in_seconds': 1,
                },
            },
        }
    """),
}


@pytest.fixture
def watched_client(redis_server: RedisServer) -> Client:
    return make_client(redis_server.port, 'watched')


@pytest.fixture
def start_watched_service(
    start_service: StartService,
    redis_server: RedisServer,
    tmp_path: pathlib.Path,
) -> StartService:
    write_files(tmp_path, SERVICE_FILES)

    def start(*arguments: str) -> ServiceProcess:
        return start_service(
            '-m',
            'watched_service',
            '-s',
            'watched_service.settings',
            *arguments,
            env={'WATCHED_REDIS_PORT': str(redis_server.port)},
            python_path=[tmp_path],
            cwd=tmp_path,
        )

    return start


def change_version(tmp_path: pathlib.Path, version: str) -> None:
    init_file = tmp_path / 'watched_service' / '__init__.py'
    old_modification_time = init_file.stat().st_mtime
    init_file.write_text(f'__version__ = {version!r}\n', encoding='utf-8')
    # Make sure the change is visible even on file systems with coarse modification times.
    os.utime(init_file, (old_modification_time + 1, old_modification_time + 1))


def status_version(client: Client) -> str:
    return str(call(client, 'watched', 'status', {'verbose': False}).body['version'])


def start_forked_and_watched(start_watched_service: StartService) -> Tuple[ServiceProcess, int, List[int]]:
    """
    Start the service with the file watcher over a server process forking two workers, and wait until the workers
    serve; return the service (the supervisor), the server process and its workers.
    """
    service = start_watched_service('--fork', '2', '--use-file-watcher')
    (server_process,) = service.wait_for_children(1)
    workers = wait_for_children_of(server_process, 2)
    wait_for(lambda: all(handles_signal(w, signal.SIGTERM) for w in workers), 15, 'the workers to be serving')
    return service, server_process, workers


def test_code_change_is_picked_up_and_reported_by_the_status_action(
    start_watched_service: StartService,
    watched_client: Client,
    tmp_path: pathlib.Path,
) -> None:
    service = start_watched_service('--use-file-watcher')
    service.wait_until_serving(workers=1)
    assert status_version(watched_client) == '1'

    change_version(tmp_path, '2')

    wait_for(lambda: status_version(watched_client) == '2', 15, 'the status action to report version 2')
    assert 'File change detected; reloading server process' in service.output()
    assert service.is_running()


def test_reload_replaces_the_server_process_but_not_the_supervisor(
    start_watched_service: StartService,
    watched_client: Client,
    tmp_path: pathlib.Path,
) -> None:
    service = start_watched_service('--use-file-watcher')
    (first_server_pid,) = service.wait_until_serving(workers=1)
    assert call(watched_client, 'watched', 'pid').body['pid'] == first_server_pid

    change_version(tmp_path, '2')

    wait_for(lambda: status_version(watched_client) == '2', 15, 'the status action to report version 2')
    wait_until_gone([first_server_pid], 5, 'the first server process to exit')
    second_server_pid = call(watched_client, 'watched', 'pid').body['pid']
    assert second_server_pid != first_server_pid
    assert service.children() == [second_server_pid]


def test_code_change_reloads_every_forked_worker(
    start_watched_service: StartService,
    watched_client: Client,
    tmp_path: pathlib.Path,
) -> None:
    service, server_process, old_workers = start_forked_and_watched(start_watched_service)

    change_version(tmp_path, '2')

    wait_until_gone([server_process, *old_workers], 15, 'the old server processes to exit')
    (new_server_process,) = service.wait_for_children(1)
    new_workers = set(wait_for_children_of(new_server_process, 2))
    versions_by_worker: Dict[int, str] = {}

    def every_new_worker_answered() -> bool:
        pid_response, status_response = watched_client.call_actions(
            'watched',
            [{'action': 'pid'}, {'action': 'status', 'body': {'verbose': False}}],
            timeout=RESPONSE_TIMEOUT,
        ).actions
        versions_by_worker[pid_response.body['pid']] = status_response.body['version']
        return set(versions_by_worker) >= new_workers

    wait_for(every_new_worker_answered, 15, 'both new workers to answer', interval=0)
    assert versions_by_worker == dict.fromkeys(new_workers, '2')


def test_reload_with_forked_workers_lets_a_request_in_progress_finish(
    start_watched_service: StartService,
    watched_client: Client,
    tmp_path: pathlib.Path,
) -> None:
    service, _, old_workers = start_forked_and_watched(start_watched_service)
    future = watched_client.call_action_future('watched', 'sleep', {'seconds': 4}, timeout=8)
    service.wait_for_output("'actions': [{'action': 'sleep'")

    change_version(tmp_path, '2')
    response = future.result()

    assert response.errors == []
    assert response.body['pid'] in old_workers
    wait_for(lambda: status_version(watched_client) == '2', 15, 'the status action to report version 2')
    assert 'Received double interrupt' not in service.output()


def test_server_not_stopping_in_time_for_a_reload_is_forced_out_and_restarted_with_the_new_code(
    start_watched_service: StartService,
    watched_client: Client,
    redis_server: RedisServer,
    tmp_path: pathlib.Path,
) -> None:
    service = start_watched_service('--use-file-watcher')
    (first_server_pid,) = service.wait_until_serving(workers=1)
    # Its own client: the response to this request will never come.
    make_client(redis_server.port, 'watched').call_action_future('watched', 'sleep', {'seconds': 30}, timeout=40)
    service.wait_for_output("'actions': [{'action': 'sleep'")

    change_version(tmp_path, '2')

    service.wait_for_output('Received double interrupt, forcing shutdown')
    wait_until_gone([first_server_pid], 5, 'the first server process to exit')
    service.wait_until_serving(workers=1)
    assert status_version(watched_client) == '2'


def test_sigterm_to_the_supervisor_stops_the_server(
    start_watched_service: StartService,
    watched_client: Client,
) -> None:
    service = start_watched_service('--use-file-watcher')
    (server_pid,) = service.wait_until_serving(workers=1)

    assert service.stop(signal.SIGTERM) == 0

    wait_until_gone([server_pid], 5, 'the server process to exit')
    assert service.group_members() == []
