"""``StubServer``, ``StubClientTransport`` (and its schema), ``StubClientSettings`` and ``StubClient``."""

from typing import Any

import pytest
from conformity import fields
from conformity.settings import Settings
from pymetrics.recorders.noop import noop_metrics

from pysoa.client.client import Client
from pysoa.client.errors import CallActionError
from pysoa.common.errors import Error
from pysoa.common.transport.local import LocalClientTransport
from pysoa.common.types import ActionResponse
from pysoa.server.server import Server
from pysoa.test.stub_service import (
    StubClient,
    StubClientSettings,
    StubClientTransport,
    StubClientTransportSchema,
    StubServer,
    stub_action,
)

from .stub_helpers import (
    SvcServer,
    local_service,
)


NOT_FOUND = Error(code='NOT_FOUND', message='No such user', field='id')


# StubServer ---------------------------------------------------------------------------------------------------------


def test_stub_server_is_a_server() -> None:
    assert issubclass(StubServer, Server)


def test_stub_server_stub_action_adds_an_action_to_that_server_only() -> None:
    transport = StubClientTransport('users')
    other_transport = StubClientTransport('users')

    transport.server.stub_action('get_user', body={'id': 1})

    assert 'get_user' in transport.server.action_class_map
    assert 'get_user' not in other_transport.server.action_class_map
    assert 'get_user' not in type(transport.server).action_class_map
    assert StubServer.action_class_map == {}


@pytest.mark.parametrize(
    ('action', 'class_name'),
    [
        ('get_user', 'GetUser'),
        ('get-user.v2', 'GetUserV2'),
        ('getUser', 'GetUser'),
        ('status', 'Status'),
    ],
)
def test_generated_action_classes_are_named_in_camel_case(action: str, class_name: str) -> None:
    transport = StubClientTransport('users', action_map={action: {'body': {}}})

    assert transport.server.action_class_map[action].__name__ == class_name


def test_generated_action_returns_the_body_whatever_the_request() -> None:
    client = StubClient({'users': {'get_user': {'body': {'id': 1}}}})

    assert client.call_action('users', 'get_user', {'anything': object()}).body == {'id': 1}


def test_generated_action_without_body_returns_an_empty_body() -> None:
    client = StubClient()
    client.stub_action('users', 'get_user')

    assert client.call_action('users', 'get_user') == ActionResponse(action='get_user', body={})


def test_generated_action_returns_a_fresh_copy_of_the_body_each_time() -> None:
    client = StubClient({'users': {'get_user': {'body': {'user': {'id': 1}}}}})

    client.call_action('users', 'get_user').body['user']['id'] = 2

    assert client.call_action('users', 'get_user').body == {'user': {'id': 1}}


@pytest.mark.parametrize(
    'errors',
    [
        [NOT_FOUND],
        [{'code': 'NOT_FOUND', 'message': 'No such user', 'field': 'id'}],
    ],
)
def test_generated_action_raises_its_errors_as_an_action_error(errors: Any) -> None:
    client = StubClient({'users': {'get_user': {'errors': errors}}})

    with pytest.raises(CallActionError) as info:
        client.call_action('users', 'get_user')

    [error] = info.value.actions[0].errors
    assert (error.code, error.message, error.field, error.is_caller_error) == ('NOT_FOUND', 'No such user', 'id', True)


# StubClientTransport ------------------------------------------------------------------------------------------------


def test_transport_is_a_local_transport_to_a_generated_stub_server() -> None:
    transport = StubClientTransport('user_accounts')

    assert isinstance(transport, LocalClientTransport)
    assert isinstance(transport.server, StubServer)
    assert type(transport.server).__name__ == 'UserAccountsServer'
    assert transport.server.service_name == 'user_accounts'


def test_transport_defaults() -> None:
    transport = StubClientTransport()

    assert transport.service_name == 'test'
    assert type(transport.server).__name__ == 'TestServer'
    assert transport.metrics is noop_metrics
    assert set(transport.server.action_class_map) == set()


def test_transport_action_map_gives_bodies_and_errors() -> None:
    client = Client(
        {
            'users': {
                'transport': {
                    'path': 'pysoa.test.stub_service:StubClientTransport',
                    'kwargs': {'action_map': {'get_user': {'body': {'id': 1}}, 'delete_user': {'errors': [NOT_FOUND]}}},
                }
            }
        }
    )

    assert client.call_action('users', 'get_user').body == {'id': 1}
    assert client.call_action('users', 'delete_user', raise_action_errors=False).errors[0].code == 'NOT_FOUND'


def test_transport_stub_action_adds_an_action() -> None:
    client = StubClient({'users': {}})
    transport = client._get_handler('users').transport
    assert isinstance(transport, StubClientTransport)

    transport.stub_action('get_user', body={'id': 2})

    assert client.call_action('users', 'get_user').body == {'id': 2}


def test_transport_schema_accepts_bodies_and_error_objects_or_dicts() -> None:
    assert StubClientTransportSchema().errors({}) == []
    assert (
        StubClientTransportSchema().errors(
            {
                'action_map': {
                    'a': {'body': {'x': 1}},
                    'b': {'errors': [NOT_FOUND, {'code': 'C', 'message': 'M'}]},
                    'c': {
                        'errors': [
                            {
                                'code': 'C',
                                'message': 'M',
                                'field': 'f',
                                'traceback': 't',
                                'variables': {'v': 1},
                                'denied_permissions': ['p'],
                            }
                        ]
                    },
                    'd': {},
                }
            }
        )
        == []
    )


@pytest.mark.parametrize(
    'action_map',
    [
        {'a': {'body': 'not a dict'}},
        {'a': {'errors': [{'message': 'no code'}]}},
        {'a': {'errors': [{'code': 'C', 'message': 'M', 'unknown': 1}]}},
        {'a': {'errors': ['not an error']}},
        {'a': {'bogus': 1}},
        {1: {'body': {}}},
    ],
)
def test_transport_schema_rejects_malformed_action_maps(action_map: Any) -> None:
    assert StubClientTransportSchema().errors({'action_map': action_map}) != []


def test_transport_schema_is_a_conformity_dictionary_class() -> None:
    assert issubclass(StubClientTransportSchema, fields.Dictionary)


def test_transport_schema_instances_default_to_the_stub_transport_kwargs_schema() -> None:
    schema = StubClientTransportSchema()

    assert set(schema.contents) == {'action_map'}
    assert schema.optional_keys == frozenset({'action_map'})
    assert schema.allow_extra_keys is False


def test_stub_transport_kwargs_are_validated_by_a_transport_schema_instance() -> None:
    schema = StubClientTransport._conformity_initialization_schema  # type: ignore[attr-defined]

    assert isinstance(schema, StubClientTransportSchema)


def test_transport_schema_can_be_subclassed_to_accept_more_kwargs() -> None:
    class ExtendedSchema(StubClientTransportSchema):
        contents = {**StubClientTransportSchema.contents, 'latency': fields.Integer()}

    schema = ExtendedSchema()

    assert schema.errors({'latency': 5, 'action_map': {'a': {'body': {}}}}) == []
    assert schema.errors({'latency': 'slow'}) != []


def test_client_with_a_malformed_action_map_is_improperly_configured() -> None:
    with pytest.raises(Settings.ImproperlyConfigured):
        StubClient({'users': {'get_user': {'bogus': 1}}})


# StubClientSettings and StubClient ----------------------------------------------------------------------------------


def test_stub_client_settings_default_to_the_stub_transport() -> None:
    settings = StubClientSettings({})

    assert settings['transport']['path'] == 'pysoa.test.stub_service:StubClientTransport'
    assert settings['transport']['object'] is StubClientTransport


def test_stub_client_is_a_client_with_stub_settings() -> None:
    client = StubClient()

    assert isinstance(client, Client)
    assert client.settings_class is StubClientSettings


def test_stub_client_serves_its_service_action_map() -> None:
    client = StubClient(
        {
            'users': {'get_user': {'body': {'id': 1}}},
            'billing': {'charge': {'errors': [{'code': 'DECLINED', 'message': 'Declined'}]}},
        }
    )

    assert client.call_action('users', 'get_user').body == {'id': 1}
    assert client.call_action('billing', 'charge', raise_action_errors=False).errors[0].code == 'DECLINED'
    assert client.call_action('users', 'unknown', raise_action_errors=False).errors[0].code == 'UNKNOWN'


def test_stub_client_ignores_other_arguments() -> None:
    client = StubClient({'users': {'get_user': {'body': {'id': 1}}}}, expansion_config={'ignored': True})

    assert client.call_action('users', 'get_user').body == {'id': 1}


def test_stub_client_stub_action_creates_unknown_services_on_the_fly() -> None:
    client = StubClient()

    client.stub_action('users', 'get_user', body={'id': 1})
    client.stub_action('users', 'delete_user', errors=[NOT_FOUND])

    assert client.call_action('users', 'get_user').body == {'id': 1}
    assert client.call_action('users', 'delete_user', raise_action_errors=False).errors[0].code == 'NOT_FOUND'


def test_stub_client_stub_action_adds_to_configured_services() -> None:
    client = StubClient({'users': {'get_user': {'body': {'id': 1}}}})
    client.call_action('users', 'get_user')

    client.stub_action('users', 'get_user', body={'id': 2})

    assert client.call_action('users', 'get_user').body == {'id': 2}


def test_stub_client_cannot_stub_a_service_with_another_transport() -> None:
    client = StubClient()
    client.settings['svc'] = StubClientSettings(local_service(SvcServer))

    with pytest.raises(TypeError):
        client.stub_action('svc', 'get_user')


def test_patching_stub_takes_precedence_over_the_stub_client() -> None:
    client = StubClient({'users': {'get_user': {'body': {'canned': True}}, 'echo': {'body': {'echo': True}}}})

    with stub_action('users', 'get_user', body={'patched': True}):
        response = client.call_actions('users', [{'action': 'get_user'}, {'action': 'echo'}])
        client.stub_action('users', 'later', body={'later': True})
        assert client.call_action('users', 'later').body == {'later': True}

    assert [action.body for action in response.actions] == [{'patched': True}, {'echo': True}]
