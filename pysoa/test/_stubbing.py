"""
The machinery behind :class:`pysoa.test.stub_service.stub_action` (private: use that class).

A started stub is a :class:`StubRegistration` activated in the client's stub registry
(:mod:`pysoa.client._stub_registry`), which every :class:`pysoa.client.client.Client` consults while it is not empty:
the client answers the stubbed actions of each job with the stubs' mocks, at send time, and sends the other actions to
the real service. Nothing of the ``Client`` class is replaced. This module turns what a mock returns or raises into
the action's answer, and keeps the contract registries (the requests the stubs received and the responses they gave).
"""

import contextlib
from typing import (
    Any,
    Callable,
    Dict,
    Iterator,
    List,
    Tuple,
)
from unittest import mock

import attr

from pysoa.client._stub_registry import (
    StubAnswer,
    stub_registry,
)
from pysoa.common.transport.errors import (
    MessageReceiveError,
    MessageReceiveTimeout,
)
from pysoa.common.types import (
    ActionRequest,
    ActionResponse,
    Body,
    JobResponse,
)
from pysoa.server.errors import (
    ActionError,
    JobError,
)


__all__ = (
    'StubRegistration',
    'activate',
    'deactivate',
    'get_stubbed_requests',
    'get_stubbed_responses',
    'patchings_entered',
)

# Contract registries -----------------------------------------------------------------------------------------------

_stubbed_requests: List[Dict[str, Any]] = []
_stubbed_responses: List[Dict[str, Any]] = []


def get_stubbed_requests() -> List[Dict[str, Any]]:
    """The process-global list of ``{'service', 'action', 'body'}`` requests the stubs received, oldest first."""
    return _stubbed_requests


def get_stubbed_responses() -> List[Dict[str, Any]]:
    """The process-global list of ``{'service', 'action', 'body'}`` responses the stubs returned, oldest first."""
    return _stubbed_responses


# Stubs ---------------------------------------------------------------------------------------------------------------


def _answer_of(request: ActionRequest, result: Any) -> StubAnswer:
    """The answer a mock's return value gives."""
    if isinstance(result, JobResponse):
        return StubAnswer(response=result.actions[0] if result.actions else None, job_errors=result.errors)
    if isinstance(result, dict):
        return StubAnswer(response=ActionResponse(action=request.action, body=result))
    if isinstance(result, ActionResponse):
        return StubAnswer(response=result)
    return StubAnswer(response=ActionResponse(action=request.action))


@attr.s(eq=False)
class StubRegistration:
    """One active stub: the action it answers and the mock that answers it (a stub of the client's stub registry)."""

    service: str = attr.ib()
    action: str = attr.ib()
    mock: Callable[[Body], Any] = attr.ib()
    register_request_schema_contract: bool = attr.ib(default=True)
    register_response_schema_contract: bool = attr.ib(default=True)

    def answer(self, request: ActionRequest) -> StubAnswer:
        """Call the mock with the request's body and record the call in the contract registries."""
        body = request.body or {}
        if self.register_request_schema_contract:
            _stubbed_requests.append({'service': self.service, 'action': request.action, 'body': body})
        try:
            result = self.mock(body)
        except ActionError as e:
            answer = StubAnswer(response=ActionResponse(action=request.action, errors=e.errors))
        except JobError as e:
            answer = StubAnswer(job_errors=e.errors, job_failed=True)
        except (MessageReceiveError, MessageReceiveTimeout) as e:
            answer = StubAnswer(receive_error=e)
        else:
            answer = _answer_of(request, result)
        if answer.response is not None and self.register_response_schema_contract:
            _stubbed_responses.append({'service': self.service, 'action': request.action, 'body': answer.response.body})
        return answer


def activate(registration: StubRegistration) -> None:
    """Start answering the registration's action with its mock, in every client."""
    stub_registry.activate(registration)


def deactivate(registration: StubRegistration) -> None:
    """Stop answering the registration's action with its mock."""
    stub_registry.deactivate(registration)


@contextlib.contextmanager
def patchings_entered(
    patchings: List[Any],
    args: Tuple[Any, ...],
    kwargs: Dict[str, Any],
) -> Iterator[Tuple[Tuple[Any, ...], Dict[str, Any]]]:
    """
    Enter every patching of a decorated function, as ``mock.patch`` decorators do: each one's ``__enter__`` result
    is added as a keyword (``attribute_name`` set, e.g. ``patch.multiple``) or appended positionally (``new`` left
    as ``mock.DEFAULT``); they are exited in reverse order, whatever happens.
    """
    extra_args = []
    with contextlib.ExitStack() as stack:
        for patching in patchings:
            value = stack.enter_context(patching)
            if patching.attribute_name is not None:
                kwargs.update(value)
            elif patching.new is mock.DEFAULT:
                extra_args.append(value)
        yield (*args, *extra_args), kwargs
