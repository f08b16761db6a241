"""
The ``--fork`` supervisor's judgement of its workers: the limits (``--hung-worker-timeout``, ``--startup-timeout``,
``--shutdown-timeout``), when a worker has outlived one of them, and what its caller is told once it is gone.
"""

import contextlib
import io
import signal
from dataclasses import dataclass
from typing import (
    TYPE_CHECKING,
    Optional,
    Type,
)

from pysoa.common.constants import (
    ERROR_CODE_JOB_TIMEOUT,
    ERROR_CODE_SERVER_ERROR,
)
from pysoa.common.errors import Error
from pysoa.server.internal._command_line import (
    DEFAULT_SHUTDOWN_TIMEOUT,
    DEFAULT_STARTUP_TIMEOUT,
)
from pysoa.server.internal._startup import (
    load_django_server_settings,
    load_settings_module,
    parse_server_arguments,
)
from pysoa.server.internal._worker_state import (
    WorkerPhase,
    WorkerStatus,
)
from pysoa.server.settings import ServerSettings


if TYPE_CHECKING:
    from pysoa.server.server import Server


__all__ = (
    'DEFAULT_SHUTDOWN_TIMEOUT',
    'DEFAULT_STARTUP_TIMEOUT',
    'HUNG_WORKER_TIMEOUT_MARGIN',
    'Kill',
    'UnavailableSettingsError',
    'WatchdogLimits',
    'default_hung_worker_timeout',
    'exited_error',
    'judge_worker',
    'load_server_settings',
    'shutdown_kill',
)

#: Seconds added to ``harakiri.timeout + harakiri.shutdown_grace`` for the default hung-worker timeout: by then a
#: worker whose signal handlers can run has been stopped by harakiri.
HUNG_WORKER_TIMEOUT_MARGIN = 10.0


@dataclass(frozen=True)
class WatchdogLimits:
    """The supervisor's limits, in seconds; 0 turns one off."""

    hung_worker_timeout: float
    """How long a worker may handle one request."""
    startup_timeout: float
    """How long a new worker may take to report that it is ready."""
    shutdown_timeout: float
    """How long workers may take to stop once the supervisor is told to stop."""


@dataclass(frozen=True)
class Kill:
    """Why the supervisor kills a worker: the reason as a metric tag, a log line, and the error for its caller."""

    reason: str
    description: str
    error: Optional[Error]
    """What the caller of the worker's request is told; ``None`` for a worker that handles none."""


class UnavailableSettingsError(Exception):
    """The supervisor could not load the server settings; the message says why."""


def load_server_settings(server_class: Type['Server']) -> ServerSettings:
    """
    The settings the workers' servers load, from the same command line, as :meth:`Server.main` does.

    :raises UnavailableSettingsError: If they cannot be loaded (each worker then fails to start, and reports why).
    """
    try:
        with contextlib.redirect_stderr(io.StringIO()):  # a usage error is the workers' to report
            arguments = parse_server_arguments(
                server_class.service_name or server_class.__name__, server_class.use_django
            )
        if server_class.use_django:
            data = load_django_server_settings()
        else:
            data = load_settings_module(arguments.settings)
        return server_class.settings_class(data)
    except SystemExit:
        raise UnavailableSettingsError('the command line is not valid') from None
    except Exception as e:
        raise UnavailableSettingsError(f'{type(e).__name__}: {e}') from e


def default_hung_worker_timeout(settings: Optional[ServerSettings]) -> float:
    """
    ``harakiri.timeout + harakiri.shutdown_grace + 10`` seconds of the settings (or of the default settings if they
    could not be loaded), or 0 (no limit) if harakiri is off: then requests may legitimately run for ever.
    """
    harakiri = settings['harakiri'] if settings is not None else ServerSettings.defaults['harakiri']
    if not harakiri['timeout']:
        return 0.0
    return float(harakiri['timeout'] + harakiri['shutdown_grace']) + HUNG_WORKER_TIMEOUT_MARGIN


def _seconds(value: float) -> str:
    return f'{value:g} second{"" if value == 1 else "s"}'


def judge_worker(
    status: Optional[WorkerStatus],
    previous: Optional[WorkerStatus],
    started_at: float,
    now: float,
    limits: WatchdogLimits,
) -> Optional[Kill]:
    """
    Whether to kill a running worker, given its slot's status now and at the previous look (``None``: unreadable,
    or no previous look) and when it was started (all on the :func:`time.monotonic` clock). A busy worker is killed
    only if the previous look saw the very same request, so one torn or stale reading never kills a worker.
    """
    if status is None:
        return None
    if status.phase == WorkerPhase.STARTING:
        if limits.startup_timeout and now - started_at > limits.startup_timeout:
            return Kill(
                'startup', f'did not report ready within {_seconds(limits.startup_timeout)} (--startup-timeout)', None
            )
    elif status.phase == WorkerPhase.BUSY:
        busy_for = now - status.since
        if (
            limits.hung_worker_timeout
            and busy_for > limits.hung_worker_timeout
            and previous is not None
            and previous.sequence == status.sequence
        ):
            return Kill(
                'hung',
                f'has been handling one request for {_seconds(round(busy_for, 1))}, more than '
                f'{_seconds(limits.hung_worker_timeout)} (--hung-worker-timeout)',
                Error(
                    code=ERROR_CODE_JOB_TIMEOUT,
                    message=f'The server process handling this job hung: it was still busy after '
                    f'{_seconds(limits.hung_worker_timeout)} and was killed. The job may have been partly '
                    f'carried out.',
                    is_caller_error=False,
                ),
            )
    return None


def shutdown_kill(limits: WatchdogLimits) -> Kill:
    """Why a worker still running ``limits.shutdown_timeout`` seconds after the stop signal is killed."""
    return Kill(
        'shutdown',
        f'was still running {_seconds(limits.shutdown_timeout)} after the stop signal (--shutdown-timeout)',
        Error(
            code=ERROR_CODE_JOB_TIMEOUT,
            message=f'The server process handling this job was still busy {_seconds(limits.shutdown_timeout)} after '
            f'the service was told to stop, and was killed. The job may have been partly carried out.',
            is_caller_error=False,
        ),
    )


def exited_error(exit_code: Optional[int]) -> Error:
    """The error for the caller of a request whose worker exited on its own before answering."""
    if exit_code is not None and exit_code < 0:
        try:
            how = f'was killed by {signal.Signals(-exit_code).name}'
        except ValueError:
            how = f'was killed by signal {-exit_code}'
    else:
        how = f'exited with status {exit_code}'
    return Error(
        code=ERROR_CODE_SERVER_ERROR,
        message=f'The server process handling this job {how} before responding. The job may have been partly '
        f'carried out.',
        is_caller_error=False,
    )
