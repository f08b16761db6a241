"""The error model shared by clients and servers, and the root of every PySOA exception."""

from typing import (
    Any,
    Dict,
    List,
    Optional,
)

import attr


__all__ = (
    'Error',
    'PySOAError',
)


@attr.s(frozen=True)
class Error:
    """
    An error as it travels between server and client, either for a whole job or for a single action.

    :param code: The machine-readable error code (see :mod:`pysoa.common.constants`).
    :param message: The human-readable error message.
    :param field: For a validation error, the dotted path of the offending job attribute or action request field;
                  ``None`` otherwise.
    :param traceback: The formatted traceback of the exception behind this error, if any.
    :param variables: Variables pertinent to this error, if any.
    :param denied_permissions: The permissions that were missing, if the error is the result of insufficient
                               privileges and the service reports them.
    :param is_caller_error: ``True`` if the caller did something wrong (an invalid request, for example), ``False``
                            if the error is a problem in the server or service.
    """

    code: str = attr.ib()
    message: str = attr.ib()
    field: Optional[str] = attr.ib(default=None)
    traceback: Optional[str] = attr.ib(default=None)
    variables: Optional[Dict[str, Any]] = attr.ib(default=None)
    denied_permissions: Optional[List[str]] = attr.ib(default=None)
    is_caller_error: bool = attr.ib(default=False, metadata={'added_in_version': (0, 70, 0)})


class PySOAError(Exception):
    """The base class of every exception PySOA raises."""
