"""
The service command line's ``--metrics-port [HOST:]PORT``: serving the service's Prometheus metrics over HTTP (see
:mod:`pysoa.contrib.prometheus`). Without ``--fork`` the service's process serves its own metrics; with it, the
supervisor serves those of every worker, which write them to a directory it creates (``PROMETHEUS_MULTIPROC_DIR``,
unless already set) and removes when it exits. Nothing here imports ``prometheus_client`` unless the option is given.
"""

import argparse
import atexit
import os
import shutil
import tempfile
from typing import (
    Callable,
    List,
    Optional,
    Tuple,
)


__all__ = (
    'metrics_address',
    'start_metrics_endpoint',
    'worker_exited',
)

_MULTIPROCESS_DIRECTORY_VARIABLE = 'PROMETHEUS_MULTIPROC_DIR'

_worker_exit_hooks: List[Callable[[int], None]] = []


def metrics_address(text: str) -> Tuple[str, int]:
    """The ``--metrics-port`` argument, ``PORT`` or ``HOST:PORT``, as ``(host, port)``; all interfaces by default."""
    host, _, port_text = text.rpartition(':')
    try:
        port = int(port_text)
    except ValueError:
        port = 0
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f'expected a port (1 to 65535), or HOST:PORT, got {text!r}')
    return host.strip('[]') or '0.0.0.0', port


def start_metrics_endpoint(address: Optional[Tuple[str, int]], forked: bool) -> None:
    """
    Serve the metrics on ``address`` (nothing if ``None``) until the process exits: this process's, or with
    ``forked`` (call it before forking the workers) those of every worker.

    :raises pysoa.contrib.errors.MissingExtraError: If ``prometheus_client`` is not installed.
    :raises pysoa.contrib.prometheus.MetricsEndpointError: If the metrics cannot be served there.
    """
    if address is None:
        return
    if forked and not os.environ.get(_MULTIPROCESS_DIRECTORY_VARIABLE):
        # Before prometheus_client is imported: it reads the variable once, on import.
        directory = tempfile.mkdtemp(prefix='pysoa-metrics-')
        os.environ[_MULTIPROCESS_DIRECTORY_VARIABLE] = directory
        atexit.register(_remove_directory, directory, os.getpid())

    from pysoa.contrib.prometheus.endpoint import serve_metrics

    endpoint = serve_metrics(address[1], address[0], multiprocess=forked)
    atexit.register(endpoint.close)
    if forked:
        _worker_exit_hooks.append(endpoint.worker_exited)


def worker_exited(pid: int) -> None:
    """Tell the metrics endpoint, if there is one, that the forked worker ``pid`` exited."""
    for hook in _worker_exit_hooks:
        hook(pid)


def _remove_directory(directory: str, creator_pid: int) -> None:
    if os.getpid() == creator_pid:  # not in a forked child that exits through Python
        shutil.rmtree(directory, ignore_errors=True)
