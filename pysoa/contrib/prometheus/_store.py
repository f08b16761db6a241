"""
The Prometheus metrics of this process, shared by every recorder in it, and the collector that exposes them.

Every PySOA client and server builds a recorder of its own, but Prometheus wants each series once: the metrics live
here, one per name and set of label names, whichever recorder records them. In ``prometheus_client``'s multiprocess
mode their values are written to files as well, for the process serving the metrics to read; two metric objects of
one series would overwrite each other's values there.
"""

import logging
import re
import threading
from typing import (
    Any,
    Dict,
    Iterable,
    List,
    Optional,
    Sequence,
    Tuple,
)

from prometheus_client import (
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
)
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector


__all__ = (
    'MetricStore',
    'label_name',
    'metric_name',
    'store',
)

_logger = logging.getLogger('pysoa.contrib.prometheus')

_INVALID_NAME_CHARACTERS = re.compile(r'[^a-zA-Z0-9_:]')
_INVALID_LABEL_CHARACTERS = re.compile(r'[^a-zA-Z0-9_]')
_RESERVED_LABELS = frozenset(('le', 'quantile'))

_Key = Tuple[str, str, Tuple[str, ...]]  # kind, name, label names


def metric_name(prefix: Optional[str], name: str) -> str:
    """The Prometheus name of a PySOA metric: ``server.error.unknown`` with prefix ``pysoa`` is ``pysoa_server_...``."""
    full_name = _INVALID_NAME_CHARACTERS.sub('_', f'{prefix}_{name}' if prefix else name)
    return f'_{full_name}' if full_name[:1].isdigit() else full_name


def label_name(tag: str) -> str:
    """The Prometheus label name of a metric tag (labels that Prometheus reserves get ``tag_`` in front)."""
    name = _INVALID_LABEL_CHARACTERS.sub('_', tag)
    if name[:1].isdigit() or name.startswith('__') or name in _RESERVED_LABELS or not name:
        name = f'tag_{name}'
    return name


class MetricStore(Collector):
    """The metrics of this process, by kind, name and label names; registered in ``prometheus_client.REGISTRY``."""

    def __init__(self) -> None:
        self._metrics: Dict[_Key, MetricWrapperBase] = {}
        self._kinds: Dict[str, str] = {}
        self._lock = threading.Lock()
        self._registered = False

    def child(
        self,
        kind: str,
        name: str,
        description: str,
        labels: Sequence[Tuple[str, str]],
        buckets: Optional[Sequence[float]] = None,
    ) -> Optional[Any]:
        """
        The metric (``kind`` one of ``counter``, ``gauge``, ``histogram``) of this name and labels, created on first
        use; ``None``, with a warning, if the name is already used by a metric of another kind. A histogram's buckets
        are those of its first use.
        """
        label_names = tuple(label for label, _ in labels)
        key = (kind, name, label_names)
        metric = self._metrics.get(key)
        if metric is None:
            metric = self._create(key, description, buckets)
            if metric is None:
                return None
        return metric.labels(*(value for _, value in labels)) if labels else metric

    def _create(self, key: _Key, description: str, buckets: Optional[Sequence[float]]) -> Optional[MetricWrapperBase]:
        kind, name, label_names = key
        with self._lock:
            metric = self._metrics.get(key)
            if metric is not None:
                return metric
            known_kind = self._kinds.setdefault(name, kind)
            if known_kind != kind:
                _logger.warning('Not recording the %s %s: a %s of that name exists', kind, name, known_kind)
                return None
            if kind == 'counter':
                metric = Counter(name, description, label_names, registry=None)
            elif kind == 'gauge':
                # In multiprocess mode: the sum over the running processes (server.worker.busy: the busy workers).
                metric = Gauge(name, description, label_names, registry=None, multiprocess_mode='livesum')
            else:
                metric = Histogram(
                    name,
                    description,
                    label_names,
                    registry=None,
                    buckets=buckets or Histogram.DEFAULT_BUCKETS,
                )
            self._metrics[key] = metric
            if not self._registered:
                REGISTRY.register(self)
                self._registered = True
            return metric

    def describe(self) -> Iterable[Metric]:
        # Nothing up front: the metrics come and go with what is recorded, so the registry must not check their names.
        return []

    def collect(self) -> Iterable[Metric]:
        """One family per name, holding the samples of every set of labels recorded under it."""
        families: Dict[str, Metric] = {}
        with self._lock:
            metrics: List[MetricWrapperBase] = list(self._metrics.values())
        for metric in metrics:
            for family in metric.collect():
                known = families.get(family.name)
                if known is None:
                    families[family.name] = family
                else:
                    known.samples.extend(family.samples)
        return list(families.values())


store = MetricStore()
"""The metrics of this process."""
