"""The request objects actions and server middleware receive, and the action interface."""

import abc
import concurrent.futures
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Coroutine,
    Optional,
    TypeVar,
)

import attr

from pysoa.common.constants import (
    ERROR_CODE_SERVER_ERROR,
    ERROR_CODE_UNKNOWN,
)
from pysoa.common.errors import Error
from pysoa.common.types import (
    ActionRequest,
    ActionResponse,
    Body,
    Context,
    Control,
    JobRequest,
)
from pysoa.server.errors import ActionError
from pysoa.server.internal.types import RequestSwitchSet


if TYPE_CHECKING:
    from pysoa.client.client import Client
    from pysoa.server.server import Server
    from pysoa.server.settings import ServerSettings


__all__ = (
    'ActionInterface',
    'ActionType',
    'EnrichedActionRequest',
    'EnrichedJobRequest',
    'IntrospectionActionType',
    'RunCoroutineType',
)

_R = TypeVar('_R')

RunCoroutineType = Callable[[Coroutine[Any, Any, _R]], 'concurrent.futures.Future[_R]']
"""The type of ``request.run_coroutine``: schedules a coroutine on the server's event loop thread."""


_NO_CLIENT: Any = None
"""
The default ``client`` of a request built by hand (as a test may): typed ``Client`` all the same, because every
request a server builds has one, so that actions need not check for ``None`` before each nested call.
"""


@attr.s
class EnrichedJobRequest(JobRequest):
    """
    The job request as job middleware sees it: the wire request plus ``client``, a :class:`pysoa.client.client.Client`
    that makes nested calls carrying this request's context, and ``run_coroutine``. The server sets both; only a
    request built by hand (in a test, say) can lack them.
    """

    client: 'Client' = attr.ib(default=_NO_CLIENT)
    run_coroutine: Optional[RunCoroutineType[Any]] = attr.ib(default=None)


@attr.s
class EnrichedActionRequest(ActionRequest):
    """
    The request an action receives: the action name and body, the job's switches, context and control headers, a
    ``client`` for nested calls that carries this request's context, and ``run_coroutine`` to run a coroutine on the
    server's event loop thread (returns a ``concurrent.futures.Future``).

    ``client`` is typed :class:`~pysoa.client.client.Client`, not ``Optional``: the server gives every request it
    builds a client, so an action calls ``request.client.call_action(...)`` without checking for ``None``. Only a
    request built by hand without ``client=`` (in a unit test, say) has ``None``.
    """

    switches: RequestSwitchSet = attr.ib(factory=RequestSwitchSet, converter=RequestSwitchSet)
    context: Context = attr.ib(factory=dict)
    control: Control = attr.ib(factory=dict)
    client: 'Client' = attr.ib(default=_NO_CLIENT)
    run_coroutine: Optional[RunCoroutineType[Any]] = attr.ib(default=None)

    # Set by the server on every request it builds; not part of the attrs fields.
    _server: Optional['Server'] = None

    def call_local_action(
        self,
        action: str,
        body: Body,
        raise_action_errors: bool = True,
        is_caller_error: bool = False,
        context: Optional[Context] = None,
    ) -> ActionResponse:
        """
        Run another action of this server, in this process: no transport, serialization, middleware or job.

        :param action: The name of the action.
        :param body: The action's request body.
        :param raise_action_errors: Raise :class:`ActionError` if the action fails (otherwise return its response).
        :param is_caller_error: The ``is_caller_error`` value to give the errors of a failed action when raising.
        :param context: Values to add to (a copy of) this request's context for the nested action.

        :raises ActionError: If ``raise_action_errors`` and the action fails, is unknown, or there is no server.
        """
        server = self._server
        if server is None:
            return _local_action_failure(
                action,
                Error(
                    code=ERROR_CODE_SERVER_ERROR,
                    message="No `_server` attribute set on action request object (and can't make request without it)",
                    is_caller_error=False,
                ),
                raise_action_errors,
            )

        action_factory = server.get_action_factory(action)
        if action_factory is None:
            return _local_action_failure(
                action,
                Error(
                    code=ERROR_CODE_UNKNOWN,
                    message=f'The action "{action}" was not found on this server.',
                    field='action',
                    is_caller_error=False,
                ),
                raise_action_errors,
            )

        nested_context = dict(self.context)
        if context:
            nested_context.update(context)
        request = attr.evolve(self, action=action, body=body, context=nested_context)
        request._server = server

        try:
            response = action_factory(server.settings)(request)
        except ActionError as e:
            if raise_action_errors:
                raise
            return ActionResponse(action=action, errors=e.errors)

        if response.errors and raise_action_errors:
            raise ActionError(response.errors, set_is_caller_error_to=is_caller_error)
        return response


def _local_action_failure(action: str, error: Error, raise_action_errors: bool) -> ActionResponse:
    if raise_action_errors:
        raise ActionError([error], set_is_caller_error_to=None)
    return ActionResponse(action=action, errors=[error])


class ActionInterface(metaclass=abc.ABCMeta):
    """
    What the server calls: ``action_class(settings)(request) -> ActionResponse``. Any callable with that shape is a
    valid entry of ``Server.action_class_map``; :class:`pysoa.server.action.base.Action` is the usual one.
    """

    @abc.abstractmethod
    def __init__(self, settings: Optional['ServerSettings'] = None) -> None:
        """:param settings: The server's settings."""

    @abc.abstractmethod
    def __call__(self, action_request: EnrichedActionRequest) -> ActionResponse:
        """Run the action and return its response."""


ActionType = Callable[[Optional['ServerSettings']], Callable[[EnrichedActionRequest], ActionResponse]]
"""The type of the values of ``Server.action_class_map``."""

IntrospectionActionType = Callable[['Server'], Callable[[EnrichedActionRequest], ActionResponse]]
"""The type of ``Server.introspection_action``."""
