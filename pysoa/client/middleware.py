"""Client middleware: wrap the sending of every request and the receiving of every response."""

from typing import (
    Any,
    Callable,
    Dict,
    Optional,
    Tuple,
)

from conformity import fields

from pysoa.common.types import (
    JobRequest,
    JobResponse,
)


__all__ = (
    'ClientMiddleware',
    'ClientRequestMiddlewareTask',
    'ClientResponseMiddlewareTask',
)

ClientRequestMiddlewareTask = Callable[[int, Dict[str, Any], JobRequest, Optional[int]], None]
"""Sends a request: ``(request_id, meta, job_request, message_expiry_in_seconds) -> None``."""

ClientResponseMiddlewareTask = Callable[[Optional[int]], Tuple[Optional[int], Optional[JobResponse]]]
"""Receives a response: ``(receive_timeout_in_seconds) -> (request_id, job_response)``, ``(None, None)`` if none."""


@fields.ClassConfigurationSchema.provider(fields.Dictionary({}))
class ClientMiddleware:
    """
    The base class of client middleware, configured in a service's client settings ``middleware`` list as
    ``{'path': 'module:Class', 'kwargs': {...}}`` (subclasses declare their kwargs schema with
    ``@ClassConfigurationSchema.provider``).

    Each method takes the next step and returns a callable doing this middleware's work around it. The first
    configured middleware is the outermost. Request middleware may change ``meta`` (it travels with the message) and
    the :class:`pysoa.common.types.JobRequest`.
    """

    def request(self, send_request: ClientRequestMiddlewareTask) -> ClientRequestMiddlewareTask:
        """Wrap the sending of a request; the default changes nothing."""
        return send_request

    def response(self, get_response: ClientResponseMiddlewareTask) -> ClientResponseMiddlewareTask:
        """Wrap the receiving of a response; the default changes nothing."""
        return get_response
