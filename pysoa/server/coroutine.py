"""Coroutine middleware: wrap every coroutine an action runs through ``request.run_coroutine``."""

import logging
from typing import (
    Any,
    TypeVar,
)
from typing import (
    Coroutine as _Coroutine,
)

from conformity import fields


__all__ = (
    'Coroutine',
    'CoroutineMiddleware',
    'DefaultCoroutineMiddleware',
    'MiddlewareCoroutine',
)

_T = TypeVar('_T')

Coroutine = _Coroutine[Any, Any, Any]
"""The type of the coroutines passed to ``request.run_coroutine``."""

MiddlewareCoroutine = _Coroutine[Any, Any, Any]
"""The type of the coroutines coroutine middleware returns."""

_logger = logging.getLogger('pysoa.server.coroutine')


@fields.ClassConfigurationSchema.provider(fields.Dictionary({}))
class CoroutineMiddleware:
    """
    The base class of coroutine middleware, configured in the server settings' ``coroutine_middleware`` list.

    When an action calls ``request.run_coroutine(coroutine)``, every middleware's :meth:`before_run_coroutine` is
    called in the action's thread, in configured order; then the coroutine is wrapped by every middleware's
    :meth:`coroutine` (the first configured outermost) and scheduled on the server's event loop thread.
    """

    def before_run_coroutine(self) -> None:
        """Called in the caller's thread before the coroutine is scheduled; the default does nothing."""

    def coroutine(self, coroutine: Coroutine) -> MiddlewareCoroutine:
        """Return a coroutine that runs ``coroutine`` (awaiting it exactly once); the default returns it as is."""
        return coroutine


@fields.ClassConfigurationSchema.provider(fields.Dictionary({}))
class DefaultCoroutineMiddleware(CoroutineMiddleware):
    """Logs any exception a coroutine raises (logger ``pysoa.server.coroutine``) before passing it on."""

    def coroutine(self, coroutine: Coroutine) -> MiddlewareCoroutine:
        async def log_exceptions() -> Any:
            try:
                return await coroutine
            except Exception:
                _logger.exception('Error occurred while awaiting coroutine in request.run_coroutine')
                raise

        return log_exceptions()
