"""
The ``--fork`` supervisor's voice: answering the request of a worker that will never answer it, through a server
transport made from the server's settings (so the reply takes the worker's own send path: the same reply queue,
framing, protocol version and serializer), and counting what it does in the server's metrics.
"""

import contextlib
import copy
import os
import threading
from typing import (
    Optional,
)

from pymetrics.recorders.base import MetricsRecorder

from pysoa.common._metrics import (
    free_metrics,
    make_metrics_recorder,
)
from pysoa.common.errors import Error
from pysoa.common.transport.base import ServerTransport
from pysoa.common.types import JobResponse
from pysoa.server.internal._fork_templating import apply_fork_id_to_metrics_settings
from pysoa.server.internal._response_conversion import (
    client_version_from_meta,
    job_response_to_dict,
)
from pysoa.server.internal._worker_state import BusyRequest
from pysoa.server.settings import ServerSettings


__all__ = (
    'SUPERVISOR_FORK_ID',
    'WorkerReplier',
    'WorkerReplyError',
)

#: The fork id that the metrics configuration's ``{{fid}}`` markers become in the supervisor.
SUPERVISOR_FORK_ID = 'supervisor'

_MAX_ERROR_BYTES = 2000


class WorkerReplyError(Exception):
    """The supervisor could not answer a request for its worker; the message says why."""


class WorkerReplier:
    """
    Answers requests and counts events for the supervisor, from ``settings`` (``None`` if the supervisor could not
    load them: then nothing is counted and nothing can be answered); the metrics recorder is made the first time it
    is needed. Safe to use from several threads.

    :param service_name: The service whose requests the workers take.
    :param settings: The server's settings.
    """

    def __init__(self, service_name: str, settings: Optional[ServerSettings]) -> None:
        self.service_name = service_name
        self.settings = settings
        self._lock = threading.Lock()
        self._metrics: Optional[MetricsRecorder] = None

    def _get_metrics(self) -> MetricsRecorder:
        if self._metrics is None:
            self._metrics = free_metrics
            if self.settings is not None:
                # A copy: the workers forked later template the same configuration with their own fork ids.
                metrics_settings = copy.deepcopy(self.settings['metrics'])
                apply_fork_id_to_metrics_settings(metrics_settings, SUPERVISOR_FORK_ID)
                self._metrics = make_metrics_recorder(metrics_settings)
        return self._metrics

    def count(self, name: str, **tags: str) -> None:
        """Increment and publish the counter ``name``; a metrics failure is printed, never raised."""
        with self._lock:
            try:
                metrics = self._get_metrics()
                metrics.counter(name, 0, **tags).increment()
                metrics.publish_all()
            except Exception as e:
                print(f'Could not publish the supervisor metric {name}: {type(e).__name__}: {e}', flush=True)

    def answer(self, request: BusyRequest, error: Error, fork_lock: threading.Lock) -> None:
        """
        Send the caller of ``request`` a job response carrying ``error``, the way the worker would have sent it.

        The response is sent by a short-lived child process, so that the supervisor itself never holds a transport:
        workers forked later inherit none of its connections or locks, and answers sent at the same time do not wait
        for each other. Call it from a thread that blocks the supervisor's signals, which the child then never
        handles. ``fork_lock`` is the lock the supervisor holds while it forks a worker: a worker forked while the
        child runs must not inherit the end of the pipe that the child reports through, or the supervisor would never
        see it close.

        :raises WorkerReplyError: If the settings could not be loaded, or the transport could not be made or could
                                  not send the response.
        """
        settings = self.settings
        if settings is None:
            raise WorkerReplyError('the supervisor could not load the server settings')
        with fork_lock:
            read_end, write_end = os.pipe()
            pid = os.fork()
            if pid == 0:  # the child: whatever happens, it never returns into the supervisor's code
                status = 1
                try:
                    os.close(read_end)
                    self._send(settings, request, error)
                    status = 0
                except BaseException as e:
                    with contextlib.suppress(BaseException):
                        os.write(write_end, f'{type(e).__name__}: {e}'.encode('utf-8', 'replace')[:_MAX_ERROR_BYTES])
                finally:
                    os._exit(status)
            os.close(write_end)
        with os.fdopen(read_end, 'rb') as reader:
            failure = reader.read()  # until the child exits
        _pid, wait_status = os.waitpid(pid, 0)
        exit_code = os.waitstatus_to_exitcode(wait_status)
        if exit_code:
            raise WorkerReplyError(
                failure.decode('utf-8', 'replace') or f'the process sending the answer exited with status {exit_code}',
            )

    def _send(self, settings: ServerSettings, request: BusyRequest, error: Error) -> None:
        context = {'correlation_id': request.correlation_id} if request.correlation_id else {}
        body = job_response_to_dict(
            JobResponse(errors=[error], context=context),
            client_version_from_meta(request.meta),
        )
        transport_settings = settings['transport']
        # Between start_receiving() and stop_receiving(), which it is never told, a transport may start receiving
        # the next request as it sends a response: this one only sends.
        transport: ServerTransport = transport_settings['object'](
            self.service_name,
            free_metrics,
            1,
            **transport_settings.get('kwargs', {}),
        )
        transport.send_response_message(request.request_id, request.meta, body)
