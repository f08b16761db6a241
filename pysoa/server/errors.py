"""The exceptions that actions and server middleware raise to produce error responses."""

from typing import (
    Iterable,
    List,
    Optional,
)

import attr
from conformity.error import Error as ConformityError

from pysoa.common.errors import (
    Error,
    PySOAError,
)


__all__ = (
    'ActionError',
    'JobError',
    'PySOAServerError',
    'ResponseValidationError',
)


class PySOAServerError(PySOAError):
    """The base class of server-side exceptions."""


def _with_caller_flag(errors: Iterable[Error], is_caller_error: Optional[bool]) -> List[Error]:
    if is_caller_error is None:
        return list(errors)
    return [
        e if e.is_caller_error == is_caller_error else attr.evolve(e, is_caller_error=is_caller_error) for e in errors
    ]


class JobError(PySOAServerError):
    """
    Raised by job middleware (or an action) to fail the whole job: the response carries these errors and no actions.

    :param errors: The job errors.
    :param set_is_caller_error_to: The ``is_caller_error`` value to give every error (``None`` leaves them as they
                                   are); by default job errors are the server's fault.
    """

    def __init__(self, errors: Iterable[Error], set_is_caller_error_to: Optional[bool] = False) -> None:
        self.errors = _with_caller_flag(errors, set_is_caller_error_to)
        super().__init__(self.errors)


class ActionError(PySOAServerError):
    """
    Raised by an action (or action middleware) to fail that action: its response carries these errors.

    :param errors: The action errors.
    :param set_is_caller_error_to: The ``is_caller_error`` value to give every error (``None`` leaves them as they
                                   are); by default action errors are the caller's fault.
    """

    def __init__(self, errors: Iterable[Error], set_is_caller_error_to: Optional[bool] = True) -> None:
        self.errors = _with_caller_flag(errors, set_is_caller_error_to)
        super().__init__(self.errors)


class ResponseValidationError(PySOAServerError):
    """
    Raised when an action returns a body that does not match its ``response_schema``: a bug in the action, reported
    to the caller as a ``SERVER_ERROR``.

    :param action: The name of the action.
    :param errors: The Conformity validation errors.
    """

    def __init__(self, action: str, errors: List[ConformityError]) -> None:
        self.action = action
        self.errors = errors
        super().__init__(action, errors)

    def __str__(self) -> str:
        lines = (f'{e.pointer} {e.code}: {e.message}' for e in self.errors)
        return '{} had an invalid response:\n\t{}'.format(self.action, '\n\t'.join(lines))
