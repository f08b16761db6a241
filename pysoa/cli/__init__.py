"""
The ``pysoa`` command: call services from a terminal, a script or a container probe.

* ``pysoa call SERVICE ACTION [BODY_JSON]`` calls an action and prints its response body as JSON (its errors, one per
  line, if it fails);
* ``pysoa status SERVICE`` calls the ``status`` action, prints the versions and health checks, and exits 0 only if
  the service is healthy;
* ``pysoa introspect SERVICE [ACTION]`` prints the actions of the service with their documentation and schemas.

The service is found through ``--redis URL`` (or the ``PYSOA_REDIS_URL`` environment variable), ``--settings MODULE``
or ``--local SERVER_CLASS_PATH``. Exit statuses: 0 success, 1 errors in the response (or failed health checks),
2 usage error, 3 no answer or transport error. ``pysoa COMMAND --help`` tells the rest.
"""

import contextlib
import logging
import os
import sys
from typing import (
    Iterator,
    Optional,
    Sequence,
)

from pysoa.cli._errors import (
    EXIT_NO_ANSWER,
    EXIT_USAGE,
    UsageError,
)
from pysoa.cli._parser import build_parser
from pysoa.cli._target import client_for
from pysoa.common.transport.errors import (
    MessageReceiveTimeout,
    PySOATransportError,
)


__all__ = ('main',)


@contextlib.contextmanager
def _quiet_pysoa_logging() -> Iterator[None]:
    """
    Keep PySOA's log records (a transport logs the error it raises, with its traceback) out of the output: the
    command says what went wrong itself.
    """
    logger = logging.getLogger('pysoa')
    handler = logging.NullHandler()
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def main(argv: Optional[Sequence[str]] = None) -> int:
    """
    Run the ``pysoa`` command with ``argv`` (by default the process's arguments) and return its exit status. Output
    goes to ``sys.stdout``, messages to ``sys.stderr``.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    out, err = sys.stdout, sys.stderr
    try:
        with _quiet_pysoa_logging():
            client = client_for(args.service, args.redis, args.settings, args.local, os.environ)
            status: int = args.command(client, args, out, err)
        return status
    except UsageError as e:
        err.write(f'pysoa {args.command_name}: error: {e}\n')
        return EXIT_USAGE
    except MessageReceiveTimeout as e:
        err.write(f'pysoa {args.command_name}: no answer from service {args.service}: {e}\n')
        return EXIT_NO_ANSWER
    except PySOATransportError as e:
        err.write(
            f'pysoa {args.command_name}: transport error calling service {args.service}: {type(e).__name__}: '
            f'{" ".join(str(a) for a in e.args) or "(no details)"}\n',
        )
        return EXIT_NO_ANSWER
