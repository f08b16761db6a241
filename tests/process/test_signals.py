"""SIGINT and SIGTERM in a running server: finish the job in progress, then exit; a second signal exits at once."""

import signal
import time

from pysoa.client.client import Client
from tests.process.helpers import (
    RESPONSE_TIMEOUT,
    ServiceProcess,
    StartService,
    wait_until_gone,
)


SLEEP_JOB_LOGGED = "'actions': [{'action': 'sleep'"


def start_idle_service(start_sample_service: StartService, *arguments: str, workers: int = 0) -> ServiceProcess:
    service = start_sample_service(*arguments)
    service.wait_until_serving(workers)
    return service


def test_sigterm_during_a_slow_action_lets_its_response_reach_the_client(
    start_sample_service: StartService,
    client: Client,
) -> None:
    service = start_idle_service(start_sample_service)
    future = client.call_action_future('sample', 'sleep', {'seconds': 1.5}, timeout=RESPONSE_TIMEOUT)
    service.wait_for_output(SLEEP_JOB_LOGGED)

    service.send_signal(signal.SIGTERM)
    response = future.result()

    assert response.errors == []
    assert response.body['slept'] >= 1.5
    assert response.body['pid'] == service.pid
    assert service.wait(10) == 0
    output = service.output()
    assert output.index('Received interrupt, initiating shutdown') < output.index("Job response: {'errors': []")


def test_second_sigterm_exits_at_once_without_finishing_the_action(
    start_sample_service: StartService,
    client: Client,
) -> None:
    service = start_idle_service(start_sample_service)
    client.call_action_future('sample', 'sleep', {'seconds': 30}, timeout=40)
    service.wait_for_output(SLEEP_JOB_LOGGED)
    service.send_signal(signal.SIGTERM)
    service.wait_for_output('Received interrupt, initiating shutdown')
    started = time.monotonic()

    service.send_signal(signal.SIGTERM)

    assert service.wait(10) == 1
    assert time.monotonic() - started < 10
    assert 'Received double interrupt, forcing shutdown' in service.output()
    assert 'Job response' not in service.output()


def test_sigint_and_sigterm_together_count_as_one_signal(start_sample_service: StartService, client: Client) -> None:
    # Some terminals deliver both on Ctrl+C; that must not force the job in progress to be abandoned.
    service = start_idle_service(start_sample_service)
    future = client.call_action_future('sample', 'sleep', {'seconds': 1.5}, timeout=RESPONSE_TIMEOUT)
    service.wait_for_output(SLEEP_JOB_LOGGED)

    service.send_signal(signal.SIGINT)
    service.wait_for_output('Received interrupt, initiating shutdown')
    service.send_signal(signal.SIGTERM)

    assert future.result().body['slept'] >= 1.5
    assert service.wait(10) == 0
    assert 'Ignoring duplicate shutdown signal' in service.output()
    assert 'forcing shutdown' not in service.output()


def test_idle_server_exits_cleanly_on_sigint(start_sample_service: StartService) -> None:
    service = start_idle_service(start_sample_service)

    assert service.stop(signal.SIGINT) == 0
    assert 'Server shutdown complete' in service.output()
    assert 'Traceback' not in service.output()


def test_sigterm_to_a_forking_parent_lets_each_worker_finish_its_job(
    start_sample_service: StartService,
    client: Client,
) -> None:
    service = start_idle_service(start_sample_service, '--fork', '2', workers=2)
    workers = service.children()
    future = client.call_action_future('sample', 'sleep', {'seconds': 1.5}, timeout=RESPONSE_TIMEOUT)
    service.wait_for_output(SLEEP_JOB_LOGGED)

    service.send_signal(signal.SIGTERM)
    response = future.result()

    assert response.errors == []
    assert response.body['pid'] in workers
    assert service.wait(10) == 0
    wait_until_gone(workers, 10, 'the workers to exit')
