"""
The command line of a service: one parser for every option, whether the service runs through
:mod:`pysoa.server.standalone` or :meth:`pysoa.server.server.Server.main`, so that ``--help`` lists them all and an
unknown option is a usage error.
"""

import argparse
import os
import sys
from typing import (
    Optional,
    Sequence,
)

from pysoa.server.internal._metrics_endpoint import metrics_address


__all__ = (
    'DEFAULT_SHUTDOWN_TIMEOUT',
    'DEFAULT_STARTUP_TIMEOUT',
    'parse_service_arguments',
    'program_name',
    'service_argument_parser',
)


#: Seconds a forked worker has to report that it is ready (``--startup-timeout``).
DEFAULT_STARTUP_TIMEOUT = 60.0
#: Seconds forked workers have to stop after a stop signal before they are killed (``--shutdown-timeout``).
DEFAULT_SHUTDOWN_TIMEOUT = 30.0


def program_name() -> str:
    """How the service was run, for usage and error messages: ``python -m my_service``, or the script's name."""
    main_spec = getattr(sys.modules.get('__main__'), '__spec__', None)
    if main_spec is not None and main_spec.name:
        name = main_spec.name
        if name.endswith('.__main__'):
            name = name[: -len('.__main__')]
        return f'python -m {name}'
    return os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else 'python -m <service>'


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < float('inf'):
        raise argparse.ArgumentTypeError(f'expected a number of seconds (0 or more), got {text!r}')
    return value


def service_argument_parser(service_name: Optional[str], use_django: bool) -> argparse.ArgumentParser:
    """
    The parser of a service's command line.

    :param service_name: The service's name, for the description (``None`` if not known yet).
    :param use_django: Whether ``-s/--settings`` names the Django settings module (optional when
                       ``DJANGO_SETTINGS_MODULE`` is set) rather than the server settings module (required).
    """
    parser = argparse.ArgumentParser(
        prog=program_name(),
        description=f'Run the {service_name} PySOA service.' if service_name else 'Run a PySOA service.',
    )
    if use_django:
        parser.add_argument(
            '-s',
            '--settings',
            required='DJANGO_SETTINGS_MODULE' not in os.environ,
            metavar='MODULE',
            help='the Django settings module, whose SOA_SERVER_SETTINGS are the server settings (default: '
            '$DJANGO_SETTINGS_MODULE)',
        )
    else:
        parser.add_argument(
            '-s',
            '--settings',
            required=True,
            metavar='MODULE',
            help='the settings module (its SOA_SERVER_SETTINGS or settings variable holds the server settings)',
        )
    parser.add_argument(
        '-d',
        '--daemon',
        action='store_true',
        help='run the server process as a daemon (fork once; the parent prints the PID and exits)',
    )
    parser.add_argument(
        '-f',
        '--fork-processes',
        '--fork',
        dest='fork_processes',
        type=int,
        default=0,
        metavar='N',
        help='the number of worker processes to fork (more than 1 to fork; capped at 5 per CPU)',
    )
    parser.add_argument('--no-respawn', action='store_true', help='with --fork, do not restart workers that exit')
    parser.add_argument(
        '--hung-worker-timeout',
        type=_seconds,
        default=None,
        metavar='SECONDS',
        help='with --fork, kill (and replace) a worker that handles one request for longer, and send its caller a '
        'JOB_TIMEOUT error (default: harakiri timeout + shutdown grace + 10 seconds, off if harakiri is off; '
        '0: off)',
    )
    parser.add_argument(
        '--startup-timeout',
        type=_seconds,
        default=DEFAULT_STARTUP_TIMEOUT,
        metavar='SECONDS',
        help='with --fork, kill (and replace) a worker that is not ready this long after it started (default: '
        '%(default)g; 0: off)',
    )
    parser.add_argument(
        '--shutdown-timeout',
        type=_seconds,
        default=DEFAULT_SHUTDOWN_TIMEOUT,
        metavar='SECONDS',
        help='with --fork, kill the workers still running this long after a stop signal (default: %(default)g; '
        '0: wait for them)',
    )
    parser.add_argument(
        '--metrics-port',
        type=metrics_address,
        default=None,
        metavar='[HOST:]PORT',
        help='serve the metrics of the pysoa.contrib.prometheus recorder over HTTP on this port (of every interface '
        'unless HOST is given), for Prometheus to scrape; with --fork, the supervisor serves those of all workers',
    )
    parser.add_argument(
        '--use-file-watcher',
        nargs='?',
        const='',
        default=None,
        metavar='MODULE[,MODULE...]',
        help='restart the server when its code changes (development only); optionally only for modules whose names '
        'start with these comma-separated prefixes',
    )
    return parser


def parse_service_arguments(
    service_name: Optional[str],
    use_django: bool,
    argv: Optional[Sequence[str]] = None,
) -> argparse.Namespace:
    """
    Parse the service's command line (by default ``sys.argv[1:]``). A missing required option, an invalid value or
    an unknown option prints the usage and exits with status 2.
    """
    return service_argument_parser(service_name, use_django).parse_args(argv)
