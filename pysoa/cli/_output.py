"""How the ``pysoa`` command prints what services answer: JSON for values, one line per error."""

import datetime
import decimal
import json
from typing import (
    Any,
    Iterable,
    TextIO,
)

from pysoa.common.errors import Error


__all__ = (
    'print_errors',
    'print_json',
    'to_json_value',
)


def to_json_value(value: Any) -> Any:
    """
    ``value`` with everything JSON cannot hold made into something it can: dates and times in ISO 8601, decimals as
    strings (keeping their digits), sets and tuples as lists, keys as strings, anything else as its ``str()``.
    """
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        return {_json_key(key): to_json_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_json_value(item) for item in value]
    if isinstance(value, (datetime.date, datetime.time)):  # datetime.datetime is a date
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return str(value)


def _json_key(key: Any) -> Any:
    return key if isinstance(key, str) else str(to_json_value(key))


def print_json(value: Any, out: TextIO) -> None:
    """Print ``value`` as indented JSON, non-ASCII characters as they are."""
    out.write(json.dumps(to_json_value(value), indent=2, ensure_ascii=False) + '\n')


def print_errors(errors: Iterable[Error], out: TextIO) -> None:
    """Print each error on a line of its own: its code, its field (``-`` if none) and its message, tab-separated."""
    for error in errors:
        message = ' '.join(str(error.message).split())  # one line, whatever the message holds
        out.write(f'{error.code}\t{error.field or "-"}\t{message}\n')
