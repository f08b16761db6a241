"""
``pysoa status SERVICE``: call the ``status`` action, print the versions and health checks, and exit 0 if healthy: a
container liveness or readiness probe.
"""

import argparse
from typing import (
    Any,
    Iterable,
    Mapping,
    TextIO,
)

from pysoa.cli._errors import (
    EXIT_ERRORS,
    EXIT_OK,
)
from pysoa.cli._output import (
    print_errors,
    print_json,
)
from pysoa.cli._response import outcome
from pysoa.client.client import Client


__all__ = (
    'add_status_arguments',
    'run_status',
)


def add_status_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('service', metavar='SERVICE', help='the service to check')
    parser.add_argument('--verbose', action='store_true', help="also print the health checks' diagnostics")
    parser.add_argument('--json', action='store_true', help='print the status response body as JSON')


def run_status(client: Client, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    job = client.call_actions(
        args.service,
        [{'action': 'status', 'body': {'verbose': True}}],
        raise_job_errors=False,
        raise_action_errors=False,
        timeout=args.timeout,
    )
    errors, body = outcome(job)
    if errors:
        print_errors(errors, err)
        return EXIT_ERRORS
    health = body.get('healthcheck') or {}
    if args.json:
        print_json(body, out)
    else:
        _print_status(args.service, body, health, args.verbose, out)
    return EXIT_ERRORS if health.get('errors') else EXIT_OK


def _print_status(service: str, body: Mapping[str, Any], health: Mapping[str, Any], verbose: bool, out: TextIO) -> None:
    build = f' (build {body["build"]})' if body.get('build') else ''
    out.write(f'{service} {body.get("version", "(no version)")}{build}\n')
    versions = ', '.join(f'{name} {body[name]}' for name in ('pysoa', 'conformity', 'python') if body.get(name))
    if versions:
        out.write(f'  {versions}\n')
    errors, warnings = health.get('errors') or [], health.get('warnings') or []
    out.write(f'{_health(errors, warnings)}\n')
    _print_problems('error', errors, out)
    _print_problems('warning', warnings, out)
    if verbose and health.get('diagnostics'):
        out.write('diagnostics:\n')
        print_json(health['diagnostics'], out)


def _health(errors: Iterable[Any], warnings: Iterable[Any]) -> str:
    error_count, warning_count = len(list(errors)), len(list(warnings))
    if not error_count and not warning_count:
        return 'healthy'
    counts = ', '.join(
        f'{count} {name}{"s" if count > 1 else ""}'
        for count, name in ((error_count, 'error'), (warning_count, 'warning'))
        if count
    )
    return f'{"unhealthy" if error_count else "healthy"}: {counts}'


def _print_problems(kind: str, problems: Iterable[Any], out: TextIO) -> None:
    for problem in problems:
        code, description = [*problem, '', ''][:2]
        out.write(f'  {kind} {code}: {" ".join(str(description).split())}\n')
