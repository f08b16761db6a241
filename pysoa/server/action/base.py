"""The base class of most actions: request and response validation around a ``run`` method."""

import abc
from typing import (
    TYPE_CHECKING,
    Optional,
)

from conformity import fields

from pysoa.common._fast_validation import schema_errors
from pysoa.common.errors import Error
from pysoa.common.types import (
    ActionResponse,
    Body,
)
from pysoa.server.errors import (
    ActionError,
    ResponseValidationError,
)
from pysoa.server.types import (
    ActionInterface,
    EnrichedActionRequest,
)


if TYPE_CHECKING:
    from pysoa.server.settings import ServerSettings


__all__ = ('Action',)


class Action(ActionInterface):
    """
    The base class for actions. Subclass it, implement :meth:`run`, and optionally set the class attributes
    :attr:`description`, :attr:`request_schema` and :attr:`response_schema`, and override :meth:`validate`.

    Calling an action instance with a request (which the server does for you) runs these steps, in order:

    1. If :attr:`request_schema` is set, the request body is validated against it. Every problem becomes an
       :class:`pysoa.common.errors.Error` with the Conformity error code and message, ``field`` set to the dotted
       path of the offending body field and ``is_caller_error=True``, and they are raised together as an
       :class:`pysoa.server.errors.ActionError` without running anything else.
    2. :meth:`validate` is called; it can raise :class:`pysoa.server.errors.ActionError` to reject the request.
    3. :meth:`run` is called and returns the response body (or ``None`` for an empty body).
    4. If :attr:`response_schema` is set and :meth:`run` returned a body, the body is validated against it; problems
       raise :class:`pysoa.server.errors.ResponseValidationError`, which the server reports to the caller as a
       ``SERVER_ERROR``, because an invalid response is a bug in the action rather than in the request.
    5. The body is returned in an :class:`pysoa.common.types.ActionResponse`.

    Example::

        class SquareAction(Action):
            description = 'Squares a number.'
            request_schema = fields.Dictionary({'number': fields.Integer()})
            response_schema = fields.Dictionary({'square': fields.Integer()})

            def run(self, request):
                return {'square': request.body['number'] ** 2}
    """

    description: Optional[str] = None
    """Human-readable documentation of the action, used by introspection (the class docstring if this is unset)."""

    request_schema: Optional[fields.Dictionary] = None
    """The Conformity schema the request body must match; ``None`` accepts any body."""

    response_schema: Optional[fields.Dictionary] = None
    """The Conformity schema the response body must match; ``None`` accepts any body."""

    def __init__(self, settings: Optional['ServerSettings'] = None) -> None:
        """
        :param settings: The settings of the server running the action, available to the action as ``self.settings``.
        """
        self.settings = settings

    @abc.abstractmethod
    def run(self, request: EnrichedActionRequest) -> Optional[Body]:
        """
        Do the action's work. Called only once the request body has passed :attr:`request_schema` and
        :meth:`validate`.

        :param request: The request, with its body, switches, context, control header and a client for calling
                        other services.

        :return: The response body, or ``None`` for an empty body.

        :raises ActionError: To fail the action with errors for the caller.
        """

    def validate(self, request: EnrichedActionRequest) -> None:
        """
        A hook for validation that a schema cannot express (cross-field rules, permissions, existence checks, ...). It
        runs after the request body has passed :attr:`request_schema` and before :meth:`run`. The default does
        nothing.

        :param request: The request.

        :raises ActionError: To reject the request.
        """

    def __call__(self, action_request: EnrichedActionRequest) -> ActionResponse:
        """
        Validate the request, run the action, validate its response and return it.

        :param action_request: The request.

        :return: The action's response.

        :raises ActionError: If the request body fails :attr:`request_schema`, or :meth:`validate` or :meth:`run`
                             reject the request.
        :raises ResponseValidationError: If the response body fails :attr:`response_schema`.
        """
        if self.request_schema is not None:
            errors = schema_errors(self.request_schema, action_request.body)
            if errors:
                raise ActionError(
                    [Error(code=e.code, message=e.message, field=e.pointer, is_caller_error=True) for e in errors],
                    set_is_caller_error_to=None,
                )

        self.validate(action_request)

        body = self.run(action_request)
        if body is None:
            # No body to validate: the response body is empty.
            return ActionResponse(action=action_request.action)

        if self.response_schema is not None:
            errors = schema_errors(self.response_schema, body)
            if errors:
                raise ResponseValidationError(action_request.action, errors)

        return ActionResponse(action=action_request.action, body=body)
