"""
Metrics recorders made from settings, and metrics that cost nothing when nobody records them.

PySOA's default recorder is pymetrics' no-op recorder, which still builds a new instrument for every counter, timer
and gauge asked for: a dozen objects per call on the hot path. When the settings name that recorder,
:func:`make_metrics_recorder` returns :data:`free_metrics` instead, a no-op recorder (of the same class) that hands out
shared instruments which do nothing.
"""

from typing import (
    Any,
    Callable,
    Literal,
    Mapping,
    Optional,
    TypeVar,
)

from pymetrics.instruments import (
    Counter,
    Gauge,
    Histogram,
    Tag,
    Timer,
    TimerResolution,
)
from pymetrics.recorders.base import MetricsRecorder
from pymetrics.recorders.noop import NonOperationalMetricsRecorder


__all__ = (
    'free_metrics',
    'make_metrics_recorder',
)

_R = TypeVar('_R')


class _NullCounter(Counter):
    def increment(self, amount: int = 1) -> int:
        return 0

    def reset(self, value: Optional[int] = None) -> int:
        return 0


class _NullHistogram(Histogram):
    def set(self, value: Any = None) -> int:
        return 0


class _NullTimer(Timer):
    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def __enter__(self) -> Timer:
        return self

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> Literal[False]:
        return False

    def record_over_function(self, f: Callable[..., _R], *args: Any, **kwargs: Any) -> _R:
        return f(*args, **kwargs)


class _NullGauge(Gauge):
    def set(self, value: Optional[int] = None) -> int:
        return 0


class _FreeMetricsRecorder(NonOperationalMetricsRecorder):
    """The no-op recorder, handing out shared instruments that record nothing instead of new ones."""

    _counter = _NullCounter('pysoa.null')
    _histogram = _NullHistogram('pysoa.null')
    _timer = _NullTimer('pysoa.null')
    _gauge = _NullGauge('pysoa.null')

    def counter(self, name: str, initial_value: int = 0, **tags: Tag) -> Counter:
        return self._counter

    def histogram(self, name: str, force_new: bool = False, initial_value: int = 0, **tags: Tag) -> Histogram:
        return self._histogram

    def timer(
        self,
        name: str,
        force_new: bool = False,
        resolution: TimerResolution = TimerResolution.MILLISECONDS,
        initial_value: int = 0,
        **tags: Tag,
    ) -> Timer:
        return self._timer

    def gauge(self, name: str, force_new: bool = False, initial_value: int = 0, **tags: Tag) -> Gauge:
        return self._gauge


free_metrics: MetricsRecorder = _FreeMetricsRecorder()
"""A no-op metrics recorder whose instruments are shared and do nothing."""


def make_metrics_recorder(settings: Mapping[str, Any]) -> MetricsRecorder:
    """
    The recorder a validated ``metrics`` setting (``{'object': class, 'kwargs': {...}}``) describes; for pymetrics'
    no-op recorder, :data:`free_metrics`.
    """
    recorder_class = settings['object']
    if recorder_class is NonOperationalMetricsRecorder:
        return free_metrics
    recorder: MetricsRecorder = recorder_class(**settings.get('kwargs', {}))
    return recorder
