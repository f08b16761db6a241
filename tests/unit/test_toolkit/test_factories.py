"""The factory_boy factories of :mod:`pysoa.test.factories` and the ``mock`` of :mod:`pysoa.test.compatibility`."""

import sys
import unittest.mock
from types import ModuleType
from typing import Type

import pytest

from pysoa.common.errors import Error
from pysoa.common.transport.local import LocalServerTransport
from pysoa.common.types import (
    ActionResponse,
    Body,
)
from pysoa.server.action.base import Action
from pysoa.server.errors import ActionError
from pysoa.server.server import Server
from pysoa.server.settings import ServerSettings
from pysoa.server.types import EnrichedActionRequest
from pysoa.test import compatibility
from pysoa.test.assertions import raises_error_codes
from pysoa.test.factories import (
    ActionFactory,
    ServerFactory,
    ServerSettingsFactory,
)
from pysoa.test.server import BaseServerTestCase


LOCAL_SERVER_TRANSPORT_PATH = 'pysoa.common.transport.local:LocalServerTransport'


class UsersServer(Server):
    service_name = 'users'


class UsersServerFactory(ServerFactory):
    class Meta:
        model = UsersServer


def run_action(action_class: Type[Action], body: Body) -> ActionResponse:
    """Run an action (named ``generated``) as a server would."""
    return action_class(ServerSettingsFactory())(EnrichedActionRequest(action='generated', body=body))


# ServerSettingsFactory ------------------------------------------------------------------------------------------------


def test_server_settings_factory_builds_default_server_settings_with_the_local_transport() -> None:
    settings = ServerSettingsFactory()

    assert isinstance(settings, ServerSettings)
    assert settings['transport']['path'] == LOCAL_SERVER_TRANSPORT_PATH
    assert settings['client_routing'] == {}


def test_server_settings_factory_uses_the_given_data() -> None:
    settings = ServerSettingsFactory(data={'extra_fields_to_redact': {'ssn'}, 'request_log_success_level': 'DEBUG'})

    assert settings['extra_fields_to_redact'] == {'ssn'}
    assert settings['request_log_success_level'] == 'DEBUG'


def test_server_settings_factory_always_uses_the_local_transport() -> None:
    redis_transport = {'path': 'pysoa.common.transport.redis_gateway.server:RedisServerTransport'}

    settings = ServerSettingsFactory(data={'transport': redis_transport})

    assert settings['transport']['path'] == LOCAL_SERVER_TRANSPORT_PATH


def test_server_settings_factory_does_not_change_the_given_data() -> None:
    data = {'extra_fields_to_redact': {'ssn'}}

    ServerSettingsFactory(data=data)

    assert data == {'extra_fields_to_redact': {'ssn'}}


def test_server_settings_factory_build_makes_the_same_settings() -> None:
    settings = ServerSettingsFactory.build(data={'extra_fields_to_redact': {'ssn'}})

    assert isinstance(settings, ServerSettings)
    assert settings['extra_fields_to_redact'] == {'ssn'}
    assert settings['transport']['path'] == LOCAL_SERVER_TRANSPORT_PATH


def test_server_settings_factory_from_module_uses_the_settings_variable_of_the_module(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    module = ModuleType('users_service_settings')
    module.settings = {'extra_fields_to_redact': {'from_module'}}  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, 'users_service_settings', module)

    settings = ServerSettingsFactory.from_module('users_service_settings')

    assert isinstance(settings, ServerSettings)
    assert settings['extra_fields_to_redact'] == {'from_module'}
    assert settings['transport']['path'] == LOCAL_SERVER_TRANSPORT_PATH


# ServerFactory --------------------------------------------------------------------------------------------------------


def test_server_factory_builds_the_server_with_settings_from_the_settings_factory() -> None:
    server = UsersServerFactory()

    assert isinstance(server, UsersServer)
    assert isinstance(server.settings, ServerSettings)
    assert isinstance(server.transport, LocalServerTransport)


def test_server_factory_passes_settings_data_to_the_settings_factory() -> None:
    server = UsersServerFactory(settings__data={'extra_fields_to_redact': {'ssn'}})

    assert server.settings['extra_fields_to_redact'] == {'ssn'}


def test_server_factory_needs_a_server_class_with_a_service_name() -> None:
    with pytest.raises(AttributeError, match='Server subclass must set service_name'):
        ServerFactory()


# ActionFactory --------------------------------------------------------------------------------------------------------


def test_action_factory_makes_an_action_class() -> None:
    assert issubclass(ActionFactory(), Action)


def test_action_factory_action_returns_the_body() -> None:
    response = run_action(ActionFactory(body={'id': 1, 'name': 'Ann'}), {'id': 1})

    assert response == ActionResponse('generated', body={'id': 1, 'name': 'Ann'})


def test_action_factory_action_returns_an_empty_body_by_default() -> None:
    response = run_action(ActionFactory(), {'id': 1})

    assert response == ActionResponse('generated', body={})


def test_action_factory_action_raises_the_exception() -> None:
    exception = ActionError([Error('NOT_FOUND', 'No such user')])

    with pytest.raises(ActionError) as raised:
        run_action(ActionFactory(body={'ignored': True}, exception=exception), {'id': 1})

    assert raised.value is exception


def test_action_factory_actions_serve_in_a_server() -> None:
    class GeneratedServer(Server):
        service_name = 'generated'
        action_class_map = {
            'get_user': ActionFactory(body={'name': 'Ann'}),
            'delete_user': ActionFactory(exception=ActionError([Error('FORBIDDEN', 'Not allowed')])),
        }

    class GeneratedTests(BaseServerTestCase):
        server_class = GeneratedServer
        server_settings = {}

    test_case = GeneratedTests()
    test_case.setup_pysoa()

    assert test_case.call_action('get_user', {'id': 1}).body == {'name': 'Ann'}
    with raises_error_codes('FORBIDDEN'):
        test_case.call_action('delete_user', {'id': 1})


# compatibility --------------------------------------------------------------------------------------------------------


def test_compatibility_mock_is_unittest_mock() -> None:
    assert compatibility.mock is unittest.mock
