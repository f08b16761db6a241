"""
The statuses a service process exits with when it stops because it cannot go on, so that a supervisor (systemd's
``Restart=on-failure``, Kubernetes, ...) restarts it. A server stopped by ``SIGINT`` or ``SIGTERM``, and a forking
supervisor whose workers stopped because it was told to stop, exit with status 0.

Other statuses a service can exit with: 1 when a second stop signal forced it out (or when it failed to start, as
Python exits on any uncaught exception), 2 for a command-line usage error, and 99 when the double-import guard of
:mod:`pysoa.server.standalone` stopped it. :data:`pysoa.server.autoreload.NEED_RELOAD_EXIT_CODE` (3) only passes
between the processes of ``--use-file-watcher``.
"""

__all__ = (
    'HARAKIRI_EXIT_CODE',
    'HARAKIRI_FORCED_EXIT_CODE',
    'TRANSPORT_FAILURE_EXIT_CODE',
    'UNHANDLED_ERROR_EXIT_CODE',
    'WORKERS_FAILED_EXIT_CODE',
)

#: The server gave up after too many transport errors in a row (Redis unreachable, for instance).
TRANSPORT_FAILURE_EXIT_CODE = 4

#: An unexpected exception escaped the server's loop (outside any job, which turns errors into responses).
UNHANDLED_ERROR_EXIT_CODE = 5

#: Harakiri interrupted a request (or wait for one) that outlived ``harakiri.timeout``, and the server then stopped.
HARAKIRI_EXIT_CODE = 6

#: After harakiri, the server did not stop within ``harakiri.shutdown_grace`` seconds and was forced out.
HARAKIRI_FORCED_EXIT_CODE = 7

#: A ``--fork`` supervisor has no worker left: each one failed and was not restarted (its restart limit was reached,
#: or ``--no-respawn`` was given).
WORKERS_FAILED_EXIT_CODE = 8
