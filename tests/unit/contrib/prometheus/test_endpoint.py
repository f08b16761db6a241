"""Serving the metrics over HTTP, and the ``--metrics-port`` argument of the service command line."""

import argparse
import pathlib
import socket
import urllib.request
import uuid
from typing import Tuple

import pytest

from pysoa.contrib.prometheus import (
    MetricsEndpointError,
    PrometheusMetricsRecorder,
    serve_metrics,
)
from pysoa.server.internal._metrics_endpoint import metrics_address
from tests.support.redis_processes import free_port


def scrape(port: int) -> str:
    with urllib.request.urlopen(f'http://127.0.0.1:{port}/metrics', timeout=10) as response:
        return response.read().decode()  # type: ignore[no-any-return]


def test_the_endpoint_serves_what_the_recorder_recorded_in_prometheus_text_format() -> None:
    name = f'endpoint.test.{uuid.uuid4().hex[:8]}'
    PrometheusMetricsRecorder().counter(name).increment(5)
    endpoint = serve_metrics(free_port(), '127.0.0.1')
    try:
        text = scrape(endpoint.port)
    finally:
        endpoint.close()

    assert f'pysoa_{name.replace(".", "_")}_total 5.0' in text.splitlines()


def test_a_closed_endpoint_no_longer_accepts_connections() -> None:
    endpoint = serve_metrics(free_port(), '127.0.0.1')
    endpoint.close()

    with pytest.raises(OSError):
        socket.create_connection(('127.0.0.1', endpoint.port), timeout=5).close()


def test_serving_on_a_port_in_use_fails_saying_to_choose_another() -> None:
    with socket.socket() as taken:
        taken.bind(('127.0.0.1', 0))
        taken.listen()
        port = taken.getsockname()[1]

        with pytest.raises(MetricsEndpointError, match=f'on 127.0.0.1:{port} .*choose another port'):
            serve_metrics(port, '127.0.0.1')


def test_serving_the_metrics_of_several_processes_without_their_directory_fails_saying_what_to_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv('PROMETHEUS_MULTIPROC_DIR', raising=False)

    with pytest.raises(MetricsEndpointError, match='PROMETHEUS_MULTIPROC_DIR to name an existing directory'):
        serve_metrics(free_port(), '127.0.0.1', multiprocess=True)


def test_serving_the_metrics_of_several_processes_after_prometheus_client_was_imported_without_it_fails(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: pathlib.Path,
) -> None:
    monkeypatch.setenv('PROMETHEUS_MULTIPROC_DIR', str(tmp_path))  # too late: this process imported it without

    with pytest.raises(MetricsEndpointError, match='prometheus_client was imported before PROMETHEUS_MULTIPROC_DIR'):
        serve_metrics(free_port(), '127.0.0.1', multiprocess=True)


@pytest.mark.parametrize(
    ('argument', 'address'),
    [
        ('9464', ('0.0.0.0', 9464)),
        ('127.0.0.1:9464', ('127.0.0.1', 9464)),
        ('[::1]:9464', ('::1', 9464)),
    ],
)
def test_the_metrics_port_argument_is_a_port_or_host_and_port(argument: str, address: Tuple[str, int]) -> None:
    assert metrics_address(argument) == address


@pytest.mark.parametrize('argument', ['', 'http', '0', '65536', 'localhost:', 'localhost:x'])
def test_a_metrics_port_argument_that_is_not_a_port_is_refused(argument: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match='expected a port'):
        metrics_address(argument)
