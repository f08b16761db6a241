"""
The messages that travel between clients and servers: jobs of actions, and their responses.

Each class converts to its wire form with ``attr.asdict(obj, dict_factory=UnicodeKeysDict)`` and back with
``Class(**wire_dict)``; nested errors and actions given as dicts are converted to their classes on construction.
"""

from typing import (
    Any,
    Dict,
    Iterable,
    List,
    Mapping,
    Union,
)

import attr

from pysoa.common.errors import Error


__all__ = (
    'ActionRequest',
    'ActionResponse',
    'Body',
    'Context',
    'Control',
    'JobRequest',
    'JobResponse',
    'UnicodeKeysDict',
    'str_key',
)

Body = Dict[str, Any]
"""The type of action request and response bodies."""

Context = Dict[str, Any]
"""The type of job request and response context headers."""

Control = Dict[str, Any]
"""The type of job request control headers."""


class UnicodeKeysDict(Dict[str, Any]):
    """
    A ``dict`` whose keys set through ``d[key] = value`` or ``setdefault`` are always ``str`` (bytes are decoded as
    UTF-8, anything else goes through ``str()``). Used as the ``dict_factory`` for converting messages to dicts.
    """

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(str_key(key), value)

    def setdefault(self, key: Any, default: Any = None) -> Any:
        return super().setdefault(str_key(key), default)


def str_key(key: Any) -> str:
    """Return ``key`` as a ``str``: ``bytes`` are decoded as UTF-8, anything else goes through ``str()``."""
    if isinstance(key, str):
        return key
    if isinstance(key, bytes):
        return key.decode('utf-8')
    return str(key)


def _to_errors(errors: Iterable[Union[Error, Mapping[str, Any]]]) -> List[Error]:
    return [e if isinstance(e, Error) else Error(**e) for e in errors]


@attr.s
class ActionRequest:
    """
    A request that the server run one action.

    :param action: The name of the action to run.
    :param body: The action's input.
    """

    action: str = attr.ib()
    body: Body = attr.ib(factory=dict)


def _to_action_requests(actions: Iterable[Union[ActionRequest, Mapping[str, Any]]]) -> List[ActionRequest]:
    return [a if isinstance(a, ActionRequest) else ActionRequest(**a) for a in actions]


@attr.s
class ActionResponse:
    """
    The result of running one action.

    :param action: The name of the action that ran.
    :param errors: The errors the action produced; empty if it succeeded.
    :param body: The action's output.
    """

    action: str = attr.ib()
    errors: List[Error] = attr.ib(factory=list, converter=_to_errors)
    body: Body = attr.ib(factory=dict)


def _to_action_responses(actions: Iterable[Union[ActionResponse, Mapping[str, Any]]]) -> List[ActionResponse]:
    return [a if isinstance(a, ActionResponse) else ActionResponse(**a) for a in actions]


@attr.s
class JobRequest:
    """
    A request that the server run a job: one or more actions, run in order, sharing control and context headers.

    :param control: The control header (``continue_on_error``, ``suppress_response``, ...).
    :param context: The context header (``correlation_id``, ``switches``, ...), chained into nested calls.
    :param actions: The actions to run; a job must contain at least one.
    """

    control: Control = attr.ib(factory=dict)
    context: Context = attr.ib(factory=dict)
    actions: List[ActionRequest] = attr.ib(factory=list, converter=_to_action_requests)


@attr.s
class JobResponse:
    """
    The result of running a job.

    :param errors: Job-level errors; when present, ``actions`` may be shorter than the request's actions, or empty.
    :param context: The response context header.
    :param actions: The responses of the actions that ran, in request order.
    """

    errors: List[Error] = attr.ib(factory=list, converter=_to_errors)
    context: Context = attr.ib(factory=dict)
    actions: List[ActionResponse] = attr.ib(factory=list, converter=_to_action_responses)
