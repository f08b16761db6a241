"""
The Prometheus recorder records into ``prometheus_client``'s metrics as PySOA's code records: counters, gauges,
histograms and timers, their tags as labels. Each test uses metric names of its own, as all share one registry.
"""

import logging
import re
import uuid
from typing import Optional

import pytest
from prometheus_client import (
    REGISTRY,
    generate_latest,
)

from pysoa.client.client import Client
from pysoa.contrib.prometheus import PrometheusMetricsRecorder
from pysoa.server.settings import ServerSettings
from tests.unit.client.services import (
    SERVER_SETTINGS,
    MainServer,
)


@pytest.fixture
def name() -> str:
    """A metric name no other test uses."""
    return f'test.{uuid.uuid4().hex[:12]}'


def value(name: str, **labels: str) -> Optional[float]:
    return REGISTRY.get_sample_value(name, labels)


def test_a_counter_adds_every_increment_to_its_prometheus_counter(name: str) -> None:
    recorder = PrometheusMetricsRecorder()

    recorder.counter(name).increment()
    recorder.counter(name).increment(2)

    assert value(f'pysoa_{name.replace(".", "_")}_total') == 3


def test_metric_names_have_the_prefix_and_underscores_for_characters_prometheus_does_not_allow(name: str) -> None:
    PrometheusMetricsRecorder(prefix='shop').counter(f'{name}.error/odd-name').increment()
    PrometheusMetricsRecorder(prefix=None).counter(name).increment()

    assert value(f'shop_{name.replace(".", "_")}_error_odd_name_total') == 1
    assert value(f'{name.replace(".", "_")}_total') == 1


def test_tags_become_labels(name: str) -> None:
    recorder = PrometheusMetricsRecorder()

    recorder.counter(name, harakiri_level='job').increment()
    recorder.counter(name, harakiri_level='action').increment(4)

    prometheus_name = f'pysoa_{name.replace(".", "_")}_total'
    assert value(prometheus_name, harakiri_level='job') == 1
    assert value(prometheus_name, harakiri_level='action') == 4


def test_tags_of_every_type_and_name_become_valid_labels(name: str) -> None:
    PrometheusMetricsRecorder().counter(name, 0, le=b'bytes', **{'2nd': None, 'ok': True}).increment()

    assert value(f'pysoa_{name.replace(".", "_")}_total', tag_le='bytes', tag_2nd='', ok='True') == 1


def test_one_name_recorded_with_different_tags_is_one_metric_family(name: str) -> None:
    recorder = PrometheusMetricsRecorder()

    recorder.counter(name).increment()
    recorder.counter(name, code='JOB_TIMEOUT').increment()

    exposition = generate_latest(REGISTRY).decode()
    type_lines = re.findall(rf'^# TYPE pysoa_{name.replace(".", "_")}(?:_total)? counter$', exposition, re.MULTILINE)
    assert len(type_lines) == 1


def test_a_gauge_is_set_to_each_value(name: str) -> None:
    recorder = PrometheusMetricsRecorder()

    recorder.gauge(name).set(3)
    recorder.gauge(name).set(1)

    assert value(f'pysoa_{name.replace(".", "_")}') == 1


def test_a_histogram_observes_every_value_it_is_set_to_in_its_buckets(name: str) -> None:
    recorder = PrometheusMetricsRecorder(histogram_buckets=[100, 1000])

    recorder.histogram(name).set(50)
    recorder.histogram(name).set(500)

    prometheus_name = f'pysoa_{name.replace(".", "_")}'
    assert value(f'{prometheus_name}_count') == 2
    assert value(f'{prometheus_name}_sum') == 550
    assert value(f'{prometheus_name}_bucket', le='100.0') == 1
    assert value(f'{prometheus_name}_bucket', le='1000.0') == 2


def test_a_timer_observes_the_seconds_from_each_start_to_its_stop(name: str) -> None:
    recorder = PrometheusMetricsRecorder()

    with recorder.timer(name):
        pass
    timer = recorder.timer(name)  # started when made
    timer.stop()
    timer.stop()  # not running: nothing to observe

    prometheus_name = f'pysoa_{name.replace(".", "_")}_seconds'
    assert value(f'{prometheus_name}_count') == 2
    sum_of_seconds = value(f'{prometheus_name}_sum')
    assert sum_of_seconds is not None and sum_of_seconds >= 0


def test_every_recorder_of_a_process_records_into_the_same_metric(name: str) -> None:
    PrometheusMetricsRecorder().counter(name).increment()
    PrometheusMetricsRecorder().counter(name).increment()

    assert value(f'pysoa_{name.replace(".", "_")}_total') == 2


def test_a_name_already_used_by_another_kind_of_metric_is_not_recorded_and_warned_about(
    name: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    recorder = PrometheusMetricsRecorder()
    recorder.gauge(name).set(2)

    with caplog.at_level(logging.WARNING, logger='pysoa.contrib.prometheus'):
        recorder.histogram(name).set(7)

    assert value(f'pysoa_{name.replace(".", "_")}') == 2
    assert 'a gauge of that name exists' in caplog.text


def test_publishing_changes_nothing_because_nothing_is_buffered(name: str) -> None:
    recorder = PrometheusMetricsRecorder()
    recorder.counter(name).increment()

    recorder.publish_all()
    recorder.clear()

    assert value(f'pysoa_{name.replace(".", "_")}_total') == 1


def test_the_settings_take_the_recorder_with_its_buckets() -> None:
    settings = ServerSettings(
        {
            'transport': {'path': 'pysoa.common.transport.local:LocalServerTransport'},
            'metrics': {
                'path': 'pysoa.contrib.prometheus:PrometheusMetricsRecorder',
                'kwargs': {'timer_buckets': [0.5, 1]},
            },
        }
    )

    assert settings['metrics']['object'] is PrometheusMetricsRecorder


def test_a_client_and_server_with_the_recorder_count_their_calls() -> None:
    metrics = {'path': 'pysoa.contrib.prometheus:PrometheusMetricsRecorder'}
    client = Client(
        {
            'svc': {
                'transport': {
                    'path': 'pysoa.common.transport.local:LocalClientTransport',
                    'kwargs': {'server_class': MainServer, 'server_settings': dict(SERVER_SETTINGS, metrics=metrics)},
                },
                'metrics': metrics,
            }
        }
    )
    sent_before = value('pysoa_client_send_including_middleware_seconds_count') or 0

    for _ in range(3):
        client.call_action('svc', 'square', {'number': 2})

    assert value('pysoa_client_send_including_middleware_seconds_count') == sent_before + 3
    assert value('pysoa_server_worker_busy') == 0
