"""
A logging filter that stamps every record with the PySOA request context (correlation ID, request ID, service name and
action name), so that log formats can refer to ``%(correlation_id)s``, ``%(request_id)s``, ``%(service_name)s`` and
``%(action_name)s``.
"""

import logging
from contextvars import ContextVar
from typing import (
    Any,
    Dict,
    Optional,
    Tuple,
)


__all__ = ('PySOALogContextFilter',)


# The stacks are immutable tuples held in context variables: a push or pop sets a new tuple, so every thread and every
# asyncio task works on its own stack and never sees another's changes.
_request_context_stack: ContextVar[Tuple[Dict[str, Any], ...]] = ContextVar(
    'pysoa_logging_request_context_stack',
    default=(),
)
_action_name_stack: ContextVar[Tuple[str, ...]] = ContextVar('pysoa_logging_action_name_stack', default=())

_NO_VALUE = '--'
_NO_SERVICE_NAME = 'unknown'
_NO_ACTION_NAME = '(n/a)'


class PySOALogContextFilter(logging.Filter):
    """
    Adds ``correlation_id``, ``request_id``, ``service_name`` and ``action_name`` attributes to every record it
    filters, and never rejects a record.

    The request context and action name come from per-thread, per-task stacks managed with the class methods below
    (the server pushes before handling a request or action and pops afterwards); the service name is process-wide.
    Missing values are logged as ``'--'`` (correlation and request IDs), ``'unknown'`` (service name) and
    ``'(n/a)'`` (action name).
    """

    _service_name: Optional[str] = None

    def __init__(self) -> None:
        super().__init__()

    def filter(self, record: logging.LogRecord) -> bool:
        """Sets the context attributes on the record and returns ``True``."""
        context_stack = _request_context_stack.get()
        if context_stack:
            context = context_stack[-1]
            record.correlation_id = context.get('correlation_id') or _NO_VALUE
            record.request_id = context.get('request_id') or _NO_VALUE
        else:
            record.correlation_id = _NO_VALUE
            record.request_id = _NO_VALUE

        record.service_name = PySOALogContextFilter._service_name or _NO_SERVICE_NAME

        action_stack = _action_name_stack.get()
        record.action_name = (action_stack[-1] if action_stack else None) or _NO_ACTION_NAME
        return True

    @classmethod
    def set_logging_request_context(cls, **context: Any) -> None:
        """Pushes a request context (typically holding ``correlation_id`` and ``request_id``) onto the stack."""
        _request_context_stack.set((*_request_context_stack.get(), context))

    @classmethod
    def clear_logging_request_context(cls) -> None:
        """Pops the most recently pushed request context; does nothing if the stack is empty."""
        stack = _request_context_stack.get()
        if stack:
            _request_context_stack.set(stack[:-1])

    @classmethod
    def get_logging_request_context(cls) -> Optional[Dict[str, Any]]:
        """Returns the most recently pushed request context, or ``None`` if there is none."""
        stack = _request_context_stack.get()
        return stack[-1] if stack else None

    @classmethod
    def set_logging_action_name(cls, action_name: str) -> None:
        """Pushes an action name onto the stack."""
        _action_name_stack.set((*_action_name_stack.get(), action_name))

    @classmethod
    def clear_logging_action_name(cls) -> None:
        """Pops the most recently pushed action name; does nothing if the stack is empty."""
        stack = _action_name_stack.get()
        if stack:
            _action_name_stack.set(stack[:-1])

    @classmethod
    def get_logging_action_name(cls) -> Optional[str]:
        """Returns the most recently pushed action name, or ``None`` if there is none."""
        stack = _action_name_stack.get()
        return stack[-1] if stack else None

    @classmethod
    def set_service_name(cls, service_name: str) -> None:
        """Sets the process-wide service name logged with every record (shared by all subclasses)."""
        PySOALogContextFilter._service_name = service_name
