"""
Serving metrics over HTTP for Prometheus to scrape: those of this process, or, in ``prometheus_client``'s
multiprocess mode, those that every process writing to ``PROMETHEUS_MULTIPROC_DIR`` (the forked workers of a
service) recorded. The service command line does this with ``--metrics-port``.
"""

import os
import threading
from typing import (
    Any,
    Optional,
)

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    start_http_server,
    values,
)
from prometheus_client.multiprocess import (
    MultiProcessCollector,
    mark_process_dead,
)


__all__ = (
    'MULTIPROCESS_DIRECTORY_VARIABLE',
    'MetricsEndpoint',
    'MetricsEndpointError',
    'serve_metrics',
)

MULTIPROCESS_DIRECTORY_VARIABLE = 'PROMETHEUS_MULTIPROC_DIR'
"""The environment variable naming the directory of ``prometheus_client``'s multiprocess mode."""


class MetricsEndpointError(Exception):
    """The metrics cannot be served; the message says why and what to do."""


class MetricsEndpoint:
    """
    An HTTP server answering every ``GET`` with the metrics in Prometheus's text format, in a daemon thread. Made by
    :func:`serve_metrics`.
    """

    def __init__(self, server: Any, thread: threading.Thread, multiprocess_directory: Optional[str]) -> None:
        self._server = server
        self._thread = thread
        self.multiprocess_directory = multiprocess_directory
        """The directory the metrics are read from in multiprocess mode; ``None`` otherwise."""

    @property
    def port(self) -> int:
        """The port it listens on."""
        return int(self._server.server_address[1])

    def worker_exited(self, pid: int) -> None:
        """
        In multiprocess mode, forget the gauges of a process that exited (its counters, histograms and timers keep
        counting); nothing otherwise.
        """
        if self.multiprocess_directory is not None:
            mark_process_dead(pid, self.multiprocess_directory)  # type: ignore[no-untyped-call]

    def close(self) -> None:
        """Stop serving, and wait until the server thread has ended."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)


def serve_metrics(port: int, address: str = '0.0.0.0', multiprocess: bool = False) -> MetricsEndpoint:
    """
    Serve metrics over HTTP on ``address:port``, in a daemon thread: those of ``prometheus_client.REGISTRY``
    (the :class:`~pysoa.contrib.prometheus.PrometheusMetricsRecorder`'s, and any others of this process), or, with
    ``multiprocess``, those written to the ``PROMETHEUS_MULTIPROC_DIR`` directory by every process (counters,
    histograms and timers summed, gauges summed over the processes still running: tell it about those that exit
    with :meth:`MetricsEndpoint.worker_exited`).

    In multiprocess mode, ``PROMETHEUS_MULTIPROC_DIR`` must name an existing directory before ``prometheus_client``
    is first imported, in the processes that record too (forked ones inherit it), and that directory must be empty
    when they start: ``--metrics-port`` with ``--fork`` does all this.

    :raises MetricsEndpointError: If the address cannot be served (for example, the port is in use), or multiprocess
                                  mode is not set up.
    """
    registry = REGISTRY
    directory: Optional[str] = None
    if multiprocess:
        directory = _multiprocess_directory()
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    try:
        server, thread = start_http_server(port, address, registry=registry)
    except OSError as e:
        raise MetricsEndpointError(
            f'Cannot serve metrics on {address}:{port} ({e}); choose another port (--metrics-port) or address',
        ) from e
    return MetricsEndpoint(server, thread, directory)


def _multiprocess_directory() -> str:
    directory = os.environ.get(MULTIPROCESS_DIRECTORY_VARIABLE)
    if not directory or not os.path.isdir(directory):
        raise MetricsEndpointError(
            f'Serving the metrics of several processes needs the environment variable '
            f'{MULTIPROCESS_DIRECTORY_VARIABLE} to name an existing directory (it is {directory!r}); set it before '
            f'the service starts',
        )
    if values.ValueClass is values.MutexValue:
        raise MetricsEndpointError(
            f'prometheus_client was imported before {MULTIPROCESS_DIRECTORY_VARIABLE} was set, so this process and '
            f'those it forks keep their metrics to themselves. Set the variable before anything imports '
            f'prometheus_client (--metrics-port does it before loading the service, unless the service module itself '
            f'imports prometheus_client)',
        )
    return directory
