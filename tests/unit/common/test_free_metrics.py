"""With the default no-op metrics recorder, metrics cost nothing: no instrument is built per call."""

from pymetrics.recorders.default import DefaultMetricsRecorder
from pymetrics.recorders.noop import NonOperationalMetricsRecorder

from pysoa.common._metrics import (
    free_metrics,
    make_metrics_recorder,
)


def test_the_no_op_recorder_setting_gives_the_free_recorder() -> None:
    recorder = make_metrics_recorder({'object': NonOperationalMetricsRecorder, 'kwargs': {}})

    assert recorder is free_metrics
    assert isinstance(recorder, NonOperationalMetricsRecorder)


def test_other_recorders_are_built_from_their_settings() -> None:
    recorder = make_metrics_recorder({'object': DefaultMetricsRecorder, 'kwargs': {'prefix': 'svc'}})

    assert type(recorder) is DefaultMetricsRecorder
    assert recorder.prefix == 'svc'


def test_free_instruments_are_shared_and_do_nothing() -> None:
    assert free_metrics.counter('a') is free_metrics.counter('b', tag='x')
    assert free_metrics.timer('a') is free_metrics.timer('b')
    assert free_metrics.counter('a').increment(5) == 0
    assert free_metrics.gauge('g').set(3) == 0
    assert free_metrics.histogram('h').set(3) == 0
    with free_metrics.timer('t') as timer:
        timer.start()
        timer.stop()
    assert free_metrics.timer('t').record_over_function(lambda x: x + 1, 1) == 2
