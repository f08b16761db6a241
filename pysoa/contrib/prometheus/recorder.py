"""The PyMetrics recorder that exposes PySOA's metrics to Prometheus."""

from typing import (
    Any,
    Dict,
    Optional,
    Sequence,
    Tuple,
)

from conformity import fields
from pymetrics.instruments import (
    Counter,
    Gauge,
    Histogram,
    Tag,
    Timer,
    TimerResolution,
)
from pymetrics.recorders.base import MetricsRecorder

from pysoa.common._metrics import free_metrics
from pysoa.contrib.prometheus._instruments import (
    PrometheusCounter,
    PrometheusGauge,
    PrometheusHistogram,
    PrometheusTimer,
)
from pysoa.contrib.prometheus._store import (
    label_name,
    metric_name,
    store,
)


__all__ = (
    'DEFAULT_HISTOGRAM_BUCKETS',
    'DEFAULT_TIMER_BUCKETS',
    'PrometheusMetricsRecorder',
)

DEFAULT_TIMER_BUCKETS: Tuple[float, ...] = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
)
"""The buckets of timers, in seconds: from 100 microseconds (a local call) to a minute."""

DEFAULT_HISTOGRAM_BUCKETS: Tuple[float, ...] = tuple(
    float(mantissa * 10**exponent) for exponent in range(7) for mantissa in (1, 2, 5)
)
"""The buckets of histograms (sizes and counts): 1, 2, 5, 10, 20, 50, ... 5,000,000."""


def _buckets_field(what: str) -> fields.List:
    return fields.List(fields.Float(gt=0), min_length=1, description=f'The upper bounds of the buckets of {what}')


@fields.ClassConfigurationSchema.provider(
    fields.Dictionary(
        {
            'prefix': fields.Nullable(
                fields.UnicodeString(
                    description='What the Prometheus name of every metric starts with (followed by an underscore); '
                    'none if null (default: `pysoa`)',
                )
            ),
            'timer_buckets': _buckets_field('timers, in seconds'),
            'histogram_buckets': _buckets_field('histograms'),
        },
        optional_keys=('prefix', 'timer_buckets', 'histogram_buckets'),
        description='The settings of the Prometheus metrics recorder',
    )
)
class PrometheusMetricsRecorder(MetricsRecorder):
    """
    A PyMetrics recorder, for the ``metrics`` setting of servers and clients, that records PySOA's metrics into
    ``prometheus_client`` metrics as they happen, to be served by the service command line's ``--metrics-port`` (or
    anything else that exposes ``prometheus_client.REGISTRY``)::

        'metrics': {'path': 'pysoa.contrib.prometheus:PrometheusMetricsRecorder'}

    The name of each metric has dots and other characters Prometheus does not allow replaced by underscores, after
    ``prefix``: the counter ``server.error.unknown`` is ``pysoa_server_error_unknown_total``. Counters are counters,
    gauges are gauges (in ``--fork`` mode: the sum over the running workers), timers are histograms of seconds
    (``..._seconds``, observed each time a timer stops), and histograms are histograms. Tags become labels. Nothing
    is buffered: :meth:`publish_all` and the other publishing methods do nothing.

    Every recorder of a process records into the same metrics: the first recorder to record a histogram or timer
    sets its buckets.

    :param prefix: What every metric name starts with; ``None`` for nothing.
    :param timer_buckets: The buckets of timers, in seconds (default :data:`DEFAULT_TIMER_BUCKETS`).
    :param histogram_buckets: The buckets of histograms (default :data:`DEFAULT_HISTOGRAM_BUCKETS`).
    """

    def __init__(
        self,
        prefix: Optional[str] = 'pysoa',
        timer_buckets: Optional[Sequence[float]] = None,
        histogram_buckets: Optional[Sequence[float]] = None,
    ) -> None:
        self.prefix = prefix
        self.timer_buckets = tuple(sorted(timer_buckets or DEFAULT_TIMER_BUCKETS))
        self.histogram_buckets = tuple(sorted(histogram_buckets or DEFAULT_HISTOGRAM_BUCKETS))
        # The Prometheus metric of each kind, name and tags recorded so far (None: not recordable), to skip working
        # out names and labels again on the next use: many are used on every call.
        self._children: Dict[Tuple[Any, ...], Any] = {}

    def counter(self, name: str, initial_value: int = 0, **tags: Tag) -> Counter:
        child = self._child('counter', name, tags)
        if child is None:
            return free_metrics.counter(name)
        return PrometheusCounter(name, child, initial_value, **tags)

    def gauge(self, name: str, force_new: bool = False, initial_value: int = 0, **tags: Tag) -> Gauge:
        child = self._child('gauge', name, tags)
        if child is None:
            return free_metrics.gauge(name)
        return PrometheusGauge(name, child, initial_value, **tags)

    def histogram(self, name: str, force_new: bool = False, initial_value: int = 0, **tags: Tag) -> Histogram:
        child = self._child('histogram', name, tags)
        if child is None:
            return free_metrics.histogram(name)
        return PrometheusHistogram(name, child, initial_value, **tags)

    def timer(
        self,
        name: str,
        force_new: bool = False,
        resolution: TimerResolution = TimerResolution.MILLISECONDS,
        initial_value: int = 0,
        **tags: Tag,
    ) -> Timer:
        child = self._child('timer', name, tags)
        if child is None:
            return free_metrics.timer(name)
        return PrometheusTimer(name, child, initial_value, resolution, **tags)

    def _child(self, kind: str, name: str, tags: Dict[str, Tag]) -> Optional[Any]:
        key = (kind, name, *sorted(tags.items())) if tags else (kind, name)
        try:
            return self._children[key]
        except KeyError:
            pass
        labels = sorted((label_name(str(tag)), _label_value(value)) for tag, value in tags.items())
        if kind == 'timer':
            child = store.child(
                'histogram',
                metric_name(self.prefix, f'{name}_seconds'),
                f'The PySOA timer {name}, in seconds',
                labels,
                self.timer_buckets,
            )
        elif kind == 'histogram':
            child = store.child(
                'histogram',
                metric_name(self.prefix, name),
                f'The PySOA histogram {name}',
                labels,
                self.histogram_buckets,
            )
        else:
            child = store.child(kind, metric_name(self.prefix, name), f'The PySOA {kind} {name}', labels)
        self._children[key] = child
        return child

    def publish_all(self) -> None:
        """Nothing to do: every value is in Prometheus's metrics as soon as it is recorded."""

    def publish_if_full_or_old(self, max_metrics: int = 18, max_age: int = 10) -> None:
        """Nothing to do: every value is in Prometheus's metrics as soon as it is recorded."""

    def throttled_publish_all(self, delay: int = 10) -> None:
        """Nothing to do: every value is in Prometheus's metrics as soon as it is recorded."""

    def clear(self, only_published: bool = False) -> None:
        """Nothing to do: nothing is kept for publishing."""


def _label_value(value: Tag) -> str:
    if isinstance(value, bytes):
        return value.decode('utf-8', 'replace')
    return '' if value is None else str(value)
