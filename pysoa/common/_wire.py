"""
The one place that converts jobs and their responses from their classes (:mod:`pysoa.common.types`) to their wire
form, the plain dicts that transports send.

The wire form is a copy, made as PySOA 1.x's ``attr.asdict`` made it (see :func:`copy_message`), so that a transport
that hands messages over without serializing them (the local transport) never lets a server and its caller share a
dict or list; written out by hand, it costs a fraction of ``attr.asdict``.
"""

from typing import (
    Any,
    Dict,
    Tuple,
)

import attr

from pysoa.common.errors import Error
from pysoa.common.types import (
    ActionResponse,
    JobRequest,
    JobResponse,
)


__all__ = (
    'copy_message',
    'error_to_dict',
    'job_request_to_dict',
    'job_response_to_dict',
)

_IS_CALLER_ERROR_ADDED_IN: Tuple[int, ...] = attr.fields(Error).is_caller_error.metadata['added_in_version']


def job_request_to_dict(job_request: JobRequest) -> Dict[str, Any]:
    """The wire form of a job request."""
    return {
        'control': copy_message(job_request.control),
        'context': copy_message(job_request.context),
        'actions': [{'action': action.action, 'body': copy_message(action.body)} for action in job_request.actions],
    }


def error_to_dict(error: Error, with_is_caller_error: bool = True) -> Dict[str, Any]:
    """The wire form of an error; clients older than 0.70.0 do not know ``is_caller_error``."""
    wire: Dict[str, Any] = {
        'code': error.code,
        'message': error.message,
        'field': error.field,
        'traceback': error.traceback,
        'variables': copy_message(error.variables),
        'denied_permissions': copy_message(error.denied_permissions),
    }
    if with_is_caller_error:
        wire['is_caller_error'] = error.is_caller_error
    return wire


def _action_response_to_dict(action: ActionResponse, with_is_caller_error: bool) -> Dict[str, Any]:
    return {
        'action': action.action,
        'errors': [error_to_dict(error, with_is_caller_error) for error in action.errors],
        'body': copy_message(action.body),
    }


def job_response_to_dict(
    job_response: JobResponse,
    client_version: Tuple[int, ...] = _IS_CALLER_ERROR_ADDED_IN,
) -> Dict[str, Any]:
    """
    The wire form of a job response, leaving out the attributes added in versions newer than the client's (a client
    older than 0.70.0 would reject errors carrying ``is_caller_error``).
    """
    with_is_caller_error = client_version >= _IS_CALLER_ERROR_ADDED_IN
    return {
        'errors': [error_to_dict(error, with_is_caller_error) for error in job_response.errors],
        'context': copy_message(job_response.context),
        'actions': [_action_response_to_dict(action, with_is_caller_error) for action in job_response.actions],
    }


_SHARED_TYPES = frozenset({str, int, float, bool, type(None), bytes})


def copy_message(value: Any) -> Any:
    """
    A copy of a message part as PySOA 1.x's ``attr.asdict`` made it: dicts (of any dict class) become new plain dicts,
    lists, tuples and sets become new lists, attrs instances become dicts, and everything else is shared.
    """
    value_type = type(value)
    if value_type is dict:
        return {key: copy_message(item) for key, item in value.items()}
    if value_type is list:
        return [copy_message(item) for item in value]
    if value_type in _SHARED_TYPES:
        return value
    if isinstance(value, dict):
        return {key: copy_message(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [copy_message(item) for item in value]
    if attr.has(value_type):
        return {name: copy_message(item) for name, item in attr.asdict(value, recurse=False).items()}
    return value
