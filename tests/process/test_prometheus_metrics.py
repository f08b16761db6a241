"""
``--metrics-port``: a real service, with the Prometheus metrics recorder, serves its metrics over HTTP; under
``--fork``, the supervisor serves those of every worker, added up (``prometheus_client``'s multiprocess mode).
"""

import os
import pathlib
import signal
import urllib.request
from typing import (
    Dict,
    Tuple,
)

import pytest

from pysoa.client.client import Client
from tests.process.helpers import (
    SAMPLE_MODULE,
    ServiceProcess,
    StartService,
    call,
    wait_for,
    wait_until_answered_by,
)
from tests.support.redis_processes import (
    RedisServer,
    free_port,
)


prometheus_client_parser = pytest.importorskip('prometheus_client.parser', reason='prometheus_client is not installed')

SETTINGS = 'tests.process.prometheus_settings'

RESPONSES_SENT = 'pysoa_server_transport_redis_gateway_send_seconds_count'
WORKERS_RUNNING = 'pysoa_server_worker_running'
WORKERS_BUSY = 'pysoa_server_worker_busy'


def start_with_metrics(
    start_service: StartService,
    redis_server: RedisServer,
    temporary_directory: pathlib.Path,
    *arguments: str,
) -> Tuple[ServiceProcess, int]:
    """
    Start the sample service with the Prometheus recorder and ``--metrics-port``; return it and the port. Its
    temporary files go to ``temporary_directory``: a service killed at the end of a test cannot remove them.
    """
    temporary_directory.mkdir(exist_ok=True)
    port = free_port()
    service = start_service(
        '-m',
        SAMPLE_MODULE,
        '-s',
        SETTINGS,
        *arguments,
        '--metrics-port',
        f'127.0.0.1:{port}',
        env={'SAMPLE_REDIS_PORT': str(redis_server.port), 'TMPDIR': str(temporary_directory)},
    )
    return service, port


def scrape(port: int) -> Dict[str, float]:
    """The samples the endpoint serves, by name (with their labels, if any, in ``{...}``)."""
    with urllib.request.urlopen(f'http://127.0.0.1:{port}/metrics', timeout=10) as response:
        text = response.read().decode()
    samples: Dict[str, float] = {}
    for family in prometheus_client_parser.text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ','.join(f'{k}={v}' for k, v in sorted(sample.labels.items()))
            samples[f'{sample.name}{{{labels}}}' if labels else sample.name] = sample.value
    return samples


def wait_for_sample(port: int, name: str, value: float, service: ServiceProcess) -> None:
    def has_value() -> bool:
        service.check_running()
        return scrape(port).get(name) == value

    try:
        wait_for(has_value, 15, f'{name} to be {value}')
    except TimeoutError as e:
        raise AssertionError(f'{e}; last scrape: {scrape(port).get(name)}; output:\n{service.output()}') from None


def test_a_forked_service_serves_the_metrics_of_all_its_workers_added_up(
    start_service: StartService,
    redis_server: RedisServer,
    client: Client,
    tmp_path: pathlib.Path,
) -> None:
    service, port = start_with_metrics(start_service, redis_server, tmp_path / 'tmp', '--fork', '2')
    workers = service.wait_until_serving(workers=2)
    wait_for_sample(port, WORKERS_RUNNING, 2, service)

    answered_by = [call(client, 'sample', 'who_am_i').body['pid'] for _ in range(100)]

    assert set(answered_by) == set(workers)  # both workers served some of the calls...
    wait_for_sample(port, RESPONSES_SENT, 100, service)  # ...and the supervisor counts them all
    assert scrape(port)[WORKERS_BUSY] == 0


def test_a_worker_that_died_no_longer_counts_in_the_gauges_but_its_counts_remain(
    start_service: StartService,
    redis_server: RedisServer,
    client: Client,
    tmp_path: pathlib.Path,
) -> None:
    service, port = start_with_metrics(start_service, redis_server, tmp_path / 'tmp', '--fork', '2')
    killed, survivor = service.wait_until_serving(workers=2)
    wait_until_answered_by(client, {killed, survivor})
    wait_for_sample(port, WORKERS_RUNNING, 2, service)
    sent_before = scrape(port)[RESPONSES_SENT]

    os.kill(killed, signal.SIGKILL)
    replacement = (set(service.wait_for_children(2, exclude=[killed])) - {survivor}).pop()
    wait_until_answered_by(client, {replacement})

    samples = scrape(port)
    assert samples[WORKERS_RUNNING] == 2  # the survivor and the replacement: not the killed worker
    assert samples[RESPONSES_SENT] >= sent_before + 1  # the killed worker's answers still count


def test_the_supervisor_removes_the_directory_of_the_workers_metrics_when_it_stops(
    start_service: StartService,
    redis_server: RedisServer,
    tmp_path: pathlib.Path,
) -> None:
    service, port = start_with_metrics(start_service, redis_server, tmp_path / 'tmp', '--fork', '2')
    service.wait_until_serving(workers=2)
    wait_for_sample(port, WORKERS_RUNNING, 2, service)
    assert [path.name.startswith('pysoa-metrics-') for path in (tmp_path / 'tmp').iterdir()] == [True]

    assert service.stop() == 0
    assert list((tmp_path / 'tmp').iterdir()) == []


def test_a_service_without_fork_serves_its_own_metrics(
    start_service: StartService,
    redis_server: RedisServer,
    client: Client,
    tmp_path: pathlib.Path,
) -> None:
    service, port = start_with_metrics(start_service, redis_server, tmp_path / 'tmp')
    service.wait_until_serving()

    for _ in range(3):
        call(client, 'sample', 'who_am_i')

    wait_for_sample(port, RESPONSES_SENT, 3, service)
    assert scrape(port)[WORKERS_RUNNING] == 1
