"""Logging of job requests and responses, with sensitive values censored and formatting deferred."""

import logging
from typing import (
    Any,
    Iterable,
    Type,
)

from pysoa.common.logging import RecursivelyCensoredDictWrapper
from pysoa.common.types import JobResponse


__all__ = (
    'RequestLogger',
    'make_censoring_wrapper_class',
)


def make_censoring_wrapper_class(extra_fields_to_redact: Iterable[str]) -> Type[RecursivelyCensoredDictWrapper]:
    """Return a :class:`RecursivelyCensoredDictWrapper` subclass that also censors ``extra_fields_to_redact``."""
    extra = frozenset(extra_fields_to_redact)
    if not extra:
        return RecursivelyCensoredDictWrapper
    return type(
        'RecursivelyCensoredDictWrapper',
        (RecursivelyCensoredDictWrapper,),
        {'SENSITIVE_FIELDS': RecursivelyCensoredDictWrapper.SENSITIVE_FIELDS | extra},
    )


class _Loggable:
    """Defers censoring until a handler formats the record; non-dict messages are shown with ``repr``."""

    __slots__ = ('_value', '_wrapper_class')

    def __init__(self, value: Any, wrapper_class: Type[RecursivelyCensoredDictWrapper]) -> None:
        self._value = value
        self._wrapper_class = wrapper_class

    def __str__(self) -> str:
        try:
            if isinstance(self._value, dict):
                return str(self._wrapper_class(self._value))
            return repr(self._value)
        except RecursionError:
            # Deserializers accept nesting deeper than censoring and repr can recurse; a handler must not fail on it.
            return f'<{type(self._value).__name__} nested too deeply to log>'


class RequestLogger:
    """
    Logs ``Job request: ...`` and ``Job response: ...`` on the job logger: at the success level for successful jobs,
    at the error level for jobs with errors (re-logging the request at the error level if the success-level request
    line was filtered out).
    """

    def __init__(
        self,
        job_logger: logging.Logger,
        success_level: int,
        error_level: int,
        wrapper_class: Type[RecursivelyCensoredDictWrapper],
    ) -> None:
        self.job_logger = job_logger
        self.success_level = success_level
        self.error_level = error_level
        self.wrapper_class = wrapper_class

    def loggable(self, value: Any) -> _Loggable:
        """Wrap a message for lazy, censored logging."""
        return _Loggable(value, self.wrapper_class)

    def log_request(self, job_request: Any) -> None:
        if self.job_logger.isEnabledFor(self.success_level):
            self.job_logger.log(self.success_level, 'Job request: %s', self.loggable(job_request))

    def log_response(self, job_request: Any, job_response: JobResponse, response_dict: Any) -> None:
        if job_response.errors or any(action.errors for action in job_response.actions):
            if self.error_level > self.success_level and not self.job_logger.isEnabledFor(self.success_level):
                self.job_logger.log(self.error_level, 'Job request: %s', self.loggable(job_request))
            self.job_logger.log(self.error_level, 'Job response: %s', self.loggable(response_dict))
        elif self.job_logger.isEnabledFor(self.success_level):
            self.job_logger.log(self.success_level, 'Job response: %s', self.loggable(response_dict))
