"""The command line of ``pysoa``: its subcommands and the options they share."""

import argparse
import math
from typing import (
    Callable,
    TextIO,
)

from pysoa.cli._call import (
    add_call_arguments,
    run_call,
)
from pysoa.cli._introspect import (
    add_introspect_arguments,
    run_introspect,
)
from pysoa.cli._status import (
    add_status_arguments,
    run_status,
)
from pysoa.client.client import Client
from pysoa.common.transport.redis_gateway.url_settings import REDIS_URL_ENVIRONMENT_VARIABLE
from pysoa.version import __version__


__all__ = (
    'Command',
    'build_parser',
)

Command = Callable[[Client, argparse.Namespace, TextIO, TextIO], int]
"""What a subcommand runs: ``command(client, arguments, stdout, stderr) -> exit status``."""

_DESCRIPTION = """\
Call PySOA services from a terminal or a script.

exit statuses:
  0  success (status: the service is healthy)
  1  the action or job returned errors (status: a health check found errors)
  2  usage error: the command line, or the settings it names, cannot be used
  3  no answer within the timeout, or a transport error
"""

_WHERE = f"""\
Where the service is: --redis URL (default: ${REDIS_URL_ENVIRONMENT_VARIABLE}), --settings MODULE, or --local
SERVER_CLASS_PATH. URLs: redis://[user:password@]host[:port][/db], rediss://... (TLS),
redis+sentinel://host[:port][,host[:port]...][/db][?service=NAME]."""


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'{text!r} is not a number of seconds') from None
    if not 0 < seconds < math.inf:
        raise argparse.ArgumentTypeError(f'{text!r} is not a positive number of seconds')
    return seconds


def _common_options() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    where = parent.add_argument_group('where the service is', _WHERE)
    where.add_argument(
        '--redis',
        metavar='URL',
        default=None,
        help=f'the Redis the service takes requests from (default: the {REDIS_URL_ENVIRONMENT_VARIABLE} environment '
        f'variable)',
    )
    where.add_argument(
        '--settings',
        metavar='MODULE',
        default=None,
        help='a settings module (or module:VARIABLE) with the client settings: SOA_CLIENT_SETTINGS, or '
        "SOA_SERVER_SETTINGS' client_routing, or failing those its Redis transport; with --local, the "
        "server's SOA_SERVER_SETTINGS",
    )
    where.add_argument(
        '--local',
        metavar='SERVER_CLASS_PATH',
        default=None,
        help='run the service in this process instead: the import path of its server class (module:ClassName)',
    )
    parent.add_argument(
        '--timeout',
        metavar='SECONDS',
        type=_seconds,
        default=5.0,
        help='how long to wait for the answer (default: 5; a fraction is rounded up to whole seconds)',
    )
    return parent


def build_parser() -> argparse.ArgumentParser:
    """The parser of the ``pysoa`` command line; each subcommand sets ``command`` (a :data:`Command`)."""
    parser = argparse.ArgumentParser(
        prog='pysoa',
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument('--version', action='version', version=f'PySOA {__version__}')
    subcommands = parser.add_subparsers(title='commands', dest='command_name', metavar='COMMAND')
    subcommands.required = True
    common = _common_options()
    for name, add_arguments, command, summary in (
        (
            'call',
            add_call_arguments,
            run_call,
            'call an action; print its response body as JSON, or its errors (code, field, message) one per line',
        ),
        (
            'status',
            add_status_arguments,
            run_status,
            'call the status action; print the versions and health checks; exit 0 if healthy (a probe)',
        ),
        (
            'introspect',
            add_introspect_arguments,
            run_introspect,
            "print a service's actions, with their documentation and request and response schemas",
        ),
    ):
        subparser = subcommands.add_parser(
            name,
            parents=[common],
            help=summary,
            description=f'{summary}.\n\n{_DESCRIPTION}',
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        add_arguments(subparser)
        subparser.set_defaults(command=command)
    return parser
