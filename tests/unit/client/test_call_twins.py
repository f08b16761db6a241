"""
Each blocking ``call_*`` method is its ``call_*_future`` twin followed by a wait for the result: same parameters, its
own documentation, and the twin of the instance's class is the one called.
"""

import ast
import inspect
import typing
from typing import (
    Any,
    List,
    Optional,
)

import pytest

from pysoa.client import _expansion_runner as expansion_runner
from pysoa.client._blocking import blocking_twin
from pysoa.client.client import Client
from pysoa.client.future import FutureSOAResponse
from pysoa.common.types import ActionResponse


TWINS = ['call_action', 'call_actions', 'call_actions_parallel', 'call_jobs_parallel']


@pytest.mark.parametrize('name', TWINS)
def test_a_blocking_method_takes_the_parameters_of_its_future_twin(name: str) -> None:
    blocking = inspect.signature(getattr(Client, name))
    future = inspect.signature(getattr(Client, f'{name}_future'))

    assert blocking.parameters == future.parameters


@pytest.mark.parametrize('name', TWINS)
def test_a_blocking_method_returns_what_its_future_twin_resolves_to(name: str) -> None:
    future_return = typing.get_type_hints(getattr(Client, f'{name}_future'))['return']

    assert inspect.signature(getattr(Client, name)).return_annotation == typing.get_args(future_return)[0]
    assert typing.get_type_hints(getattr(Client, name))['return'] == typing.get_args(future_return)[0]


@pytest.mark.parametrize('name', TWINS)
def test_a_blocking_method_has_its_own_name_and_documentation(name: str) -> None:
    method = getattr(Client, name)

    assert (method.__name__, method.__qualname__) == (name, f'Client.{name}')
    assert method.__doc__ != getattr(Client, f'{name}_future').__doc__


class WaitRecordingFuture(FutureSOAResponse[ActionResponse]):
    """A future already holding its response, which records how long it was asked to wait."""

    def __init__(self) -> None:
        super().__init__(self._respond)
        self.waits: List[Optional[int]] = []

    def _respond(self, receive_timeout: Optional[int]) -> ActionResponse:
        self.waits.append(receive_timeout)
        return ActionResponse(action='recorded')


class RecordingClient(Client):
    """A client whose ``call_action_future`` returns a :class:`WaitRecordingFuture` without sending anything."""

    def __init__(self) -> None:
        super().__init__({})
        self.future = WaitRecordingFuture()

    def call_action_future(self, *args: Any, **kwargs: Any) -> FutureSOAResponse[ActionResponse]:
        return self.future


def test_a_blocking_call_uses_the_future_twin_of_the_instance_class() -> None:
    client = RecordingClient()

    assert client.call_action('svc', 'anything') == ActionResponse(action='recorded')


def test_a_blocking_call_waits_no_longer_than_its_timeout_given_by_keyword() -> None:
    client = RecordingClient()

    client.call_action('svc', 'anything', timeout=5)

    assert client.future.waits == [5]


def test_a_blocking_call_waits_no_longer_than_its_timeout_given_by_position() -> None:
    client = RecordingClient()

    client.call_action('svc', 'anything', None, None, True, True, 5)

    assert client.future.waits == [5]


def test_a_blocking_call_without_timeout_waits_as_long_as_the_transport_does() -> None:
    client = RecordingClient()

    client.call_action('svc', 'anything')

    assert client.future.waits == [None]


def test_a_future_method_without_a_timeout_parameter_cannot_have_a_blocking_twin() -> None:
    def call_x_future(self: Any, service_name: str) -> FutureSOAResponse[ActionResponse]:
        raise AssertionError('never called')

    with pytest.raises(TypeError, match='timeout'):
        blocking_twin(call_x_future, 'Blocking.')


def test_the_expansion_runner_does_not_import_the_client_module() -> None:
    tree = ast.parse(inspect.getsource(expansion_runner))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}

    assert 'pysoa.client.client' not in imported
