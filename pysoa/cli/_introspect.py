"""``pysoa introspect SERVICE [ACTION]``: print the actions of a service, their documentation and schemas."""

import argparse
import textwrap
from typing import (
    Any,
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
from pysoa.cli._schema_text import schema_lines
from pysoa.client.client import Client


__all__ = (
    'add_introspect_arguments',
    'run_introspect',
)

_INDENT = '    '
_WIDTH = 100


def add_introspect_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('service', metavar='SERVICE', help='the service to describe')
    parser.add_argument(
        'action',
        metavar='ACTION',
        nargs='?',
        default=None,
        help='describe only this action (NAME[switch:N] for one variant of a switched action)',
    )
    parser.add_argument('--json', action='store_true', help='print the introspect response body as JSON')


def run_introspect(client: Client, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    request = {'action_name': args.action} if args.action else {}
    job = client.call_actions(
        args.service,
        [{'action': 'introspect', 'body': request}],
        raise_job_errors=False,
        raise_action_errors=False,
        timeout=args.timeout,
    )
    errors, body = outcome(job)
    if errors:
        print_errors(errors, err)
        return EXIT_ERRORS
    if args.json:
        print_json(body, out)
    else:
        _print_introspection(args.service, body, out)
    return EXIT_OK


def _print_introspection(service: str, body: Mapping[str, Any], out: TextIO) -> None:
    if 'documentation' in body:  # the whole service, not one action
        out.write(f'Service {service}\n')
        _print_text(body.get('documentation'), _INDENT, out)
        out.write('\n')
    actions = body.get('actions') or {}
    for name in body.get('action_names') or sorted(actions):
        action = actions.get(name) or {}
        out.write(f'{name}\n')
        _print_text(action.get('documentation'), _INDENT, out)
        for side in ('request', 'response'):
            out.write(f'{_INDENT}{side}:\n')
            for line in schema_lines(action.get(f'{side}_schema')):
                out.write(f'{_INDENT * 2}{line}\n')
        out.write('\n')


def _print_text(text: Any, indent: str, out: TextIO) -> None:
    """Print documentation indented, its plain paragraphs wrapped (indented ones, examples say, as they are)."""
    if not text:
        return
    for paragraph in str(text).strip().split('\n\n'):
        if paragraph[:1].isspace() or paragraph.lstrip().startswith(('*', '-', '>>>')):
            out.write(textwrap.indent(paragraph, indent) + '\n')
        else:
            out.write(
                textwrap.fill(' '.join(paragraph.split()), _WIDTH, initial_indent=indent, subsequent_indent=indent)
                + '\n'
            )
