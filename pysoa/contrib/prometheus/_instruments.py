"""
PyMetrics instruments that record into Prometheus metrics as they are used: a counter when it is incremented, a gauge
when it is set, a histogram for every value it is set to, a timer (in seconds) every time it stops.
"""

import time
from typing import (
    Any,
    Optional,
    Union,
)

from pymetrics.instruments import (
    Counter,
    Gauge,
    Histogram,
    Tag,
    Timer,
    TimerResolution,
)


__all__ = (
    'PrometheusCounter',
    'PrometheusGauge',
    'PrometheusHistogram',
    'PrometheusTimer',
)


class PrometheusCounter(Counter):
    """Adds every increment (and a non-zero initial value) to the Prometheus counter ``child``."""

    def __init__(self, name: str, child: Any, initial_value: int = 0, **tags: Tag) -> None:
        super().__init__(name, initial_value, **tags)
        self._child = child
        if initial_value > 0:
            child.inc(initial_value)

    def increment(self, amount: int = 1) -> int:
        value: int = super().increment(amount)
        if amount > 0:  # a Prometheus counter never goes down
            self._child.inc(amount)
        return value


class PrometheusGauge(Gauge):
    """Sets the Prometheus gauge ``child`` to every value it is set to (and to a non-zero initial value)."""

    def __init__(self, name: str, child: Any, initial_value: int = 0, **tags: Tag) -> None:
        super().__init__(name, initial_value, **tags)
        self._child = child
        if initial_value:
            child.set(initial_value)

    def set(self, value: Optional[int] = None) -> int:
        result: int = super().set(value)
        self._child.set(result)
        return result


class PrometheusHistogram(Histogram):
    """Observes every value it is set to in the Prometheus histogram ``child``."""

    def __init__(self, name: str, child: Any, initial_value: int = 0, **tags: Tag) -> None:
        super().__init__(name, initial_value, **tags)
        self._child = child

    def set(self, value: Optional[Union[int, float]] = None) -> int:
        result: int = super().set(value)
        if value is not None:
            self._child.observe(value)
        return result


class PrometheusTimer(Timer):
    """Observes, in seconds, the time from each start (or its creation) to the next stop in the histogram ``child``."""

    def __init__(
        self,
        name: str,
        child: Any,
        initial_value: int = 0,
        resolution: TimerResolution = TimerResolution.MILLISECONDS,
        **tags: Tag,
    ) -> None:
        self._child = child
        self._started_at: Optional[float] = None
        super().__init__(name, initial_value, resolution, **tags)  # which starts it

    def start(self) -> None:
        super().start()
        self._started_at = time.perf_counter()

    def stop(self) -> None:
        started_at = self._started_at
        super().stop()
        if started_at is not None:
            self._started_at = None
            self._child.observe(time.perf_counter() - started_at)
