"""Server middleware: wrap the processing of every job and every action."""

from typing import Callable

from conformity import fields

from pysoa.common.types import (
    ActionResponse,
    JobResponse,
)
from pysoa.server.types import (
    EnrichedActionRequest,
    EnrichedJobRequest,
)


__all__ = (
    'ServerMiddleware',
    'ServerMiddlewareActionTask',
    'ServerMiddlewareJobTask',
)

ServerMiddlewareJobTask = Callable[[EnrichedJobRequest], JobResponse]
ServerMiddlewareActionTask = Callable[[EnrichedActionRequest], ActionResponse]


@fields.ClassConfigurationSchema.provider(fields.Dictionary({}))
class ServerMiddleware:
    """
    The base class of server middleware, configured in the server settings' ``middleware`` list as
    ``{'path': 'module:Class', 'kwargs': {...}}`` (subclasses declare their kwargs schema with
    ``@ClassConfigurationSchema.provider``).

    Each method takes the next step and returns a callable doing this middleware's work around it. The first
    configured middleware is the outermost: it sees the request first and the response last.
    """

    def job(self, process_job: ServerMiddlewareJobTask) -> ServerMiddlewareJobTask:
        """Wrap the processing of a whole job; the default changes nothing."""
        return process_job

    def action(self, process_action: ServerMiddlewareActionTask) -> ServerMiddlewareActionTask:
        """Wrap the processing of each action; the default changes nothing."""
        return process_action
