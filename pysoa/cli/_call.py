"""``pysoa call SERVICE ACTION [BODY_JSON]``: call one action and print its response body, or its errors."""

import argparse
import json
import sys
from typing import (
    Any,
    Dict,
    List,
    TextIO,
)

import attr

from pysoa.cli._errors import (
    EXIT_ERRORS,
    EXIT_OK,
    UsageError,
)
from pysoa.cli._output import (
    print_errors,
    print_json,
)
from pysoa.cli._response import outcome
from pysoa.client.client import Client


__all__ = (
    'add_call_arguments',
    'run_call',
)


def add_call_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('service', metavar='SERVICE', help='the service to call')
    parser.add_argument('action', metavar='ACTION', help='the action to call')
    parser.add_argument(
        'body',
        metavar='BODY_JSON',
        nargs='?',
        default=None,
        help='the request body, a JSON object (default: {}); - reads it from standard input',
    )
    parser.add_argument(
        '--context',
        metavar='KEY=VALUE',
        action='append',
        default=[],
        help='add KEY to the request context; VALUE is read as JSON if it is JSON, else as a string (repeatable)',
    )
    parser.add_argument(
        '--switch',
        metavar='N',
        type=int,
        action='append',
        default=[],
        help='turn on switch N for the request (repeatable)',
    )
    parser.add_argument('--json', action='store_true', help='print the whole job response as JSON')


def run_call(client: Client, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    job = client.call_actions(
        args.service,
        [{'action': args.action, 'body': _body(args.body)}],
        raise_job_errors=False,
        raise_action_errors=False,
        timeout=args.timeout,
        switches=args.switch,
        context=_context(args.context),
    )
    errors, body = outcome(job)
    if args.json:
        print_json(attr.asdict(job), out)
    elif not errors:
        print_json(body, out)
    if errors:
        print_errors(errors, err)
        return EXIT_ERRORS
    return EXIT_OK


def _body(text: Any) -> Dict[str, Any]:
    if text is None:
        return {}
    if text == '-':
        text = sys.stdin.read()
    try:
        body = json.loads(text)
    except ValueError as e:
        raise UsageError(f'BODY_JSON is not valid JSON ({e}): write a JSON object, such as \'{{"id": 42}}\'') from None
    if not isinstance(body, dict):
        raise UsageError(f'BODY_JSON must be a JSON object ({{...}}), not {type(body).__name__}')
    return body


def _context(items: List[str]) -> Dict[str, Any]:
    context: Dict[str, Any] = {}
    for item in items:
        key, separator, value = item.partition('=')
        if not separator or not key:
            raise UsageError(f'--context {item}: write KEY=VALUE')
        try:
            context[key] = json.loads(value)
        except ValueError:
            context[key] = value
    return context
