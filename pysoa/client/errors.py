"""The exceptions a :class:`pysoa.client.client.Client` raises (transport errors aside)."""

from typing import (
    List,
    Optional,
)

from pysoa.common.errors import (
    Error,
    PySOAError,
)
from pysoa.common.types import ActionResponse


__all__ = (
    'CallActionError',
    'CallJobError',
    'ImproperlyConfigured',
    'InvalidExpansionKey',
    'PySOAClientError',
)


class PySOAClientError(PySOAError):
    """The base class of client errors other than transport errors."""


class ImproperlyConfigured(PySOAClientError):
    """Raised when the client has no configuration for the called service, or it is invalid."""


class InvalidExpansionKey(PySOAClientError):
    """Raised when a call asks for an expansion that the client's expansion configuration does not define."""


class CallJobError(PySOAClientError):
    """
    Raised by the ``call_*`` methods when a job response has job-level errors.

    :param errors: The job's :class:`pysoa.common.errors.Error` objects, also available as ``errors``.
    """

    def __init__(self, errors: Optional[List[Error]] = None) -> None:
        self.errors: List[Error] = errors or []
        super().__init__(self.errors)

    def __str__(self) -> str:
        return 'Error executing job:\n' + '\n'.join(repr(e) for e in self.errors)

    __repr__ = __str__


class CallActionError(PySOAClientError):
    """
    Raised by the ``call_*`` methods when one or more actions of a job returned errors.

    :param actions: The :class:`pysoa.common.types.ActionResponse` objects that have errors, also available as
                    ``actions``.
    """

    def __init__(self, actions: Optional[List[ActionResponse]] = None) -> None:
        self.actions: List[ActionResponse] = actions or []
        super().__init__(self.actions)

    def __str__(self) -> str:
        return 'Error calling action(s):\n' + '\n'.join(f'{a.action}: {a.errors!r}' for a in self.actions)
