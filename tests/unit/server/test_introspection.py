"""
The built-in ``introspect`` action (``IntrospectionAction``): documentation of the service and of each action with
its request and response schemas, switched actions listed per switch, and single-action queries.
"""

import enum
from typing import (
    Any,
    Callable,
    Dict,
    Optional,
)

import pytest
from conformity import fields

from pysoa.common.errors import Error
from pysoa.common.types import ActionResponse
from pysoa.server.action import Action
from pysoa.server.action.introspection import IntrospectionAction
from pysoa.server.action.switched import SwitchedAction
from pysoa.server.errors import ActionError
from pysoa.server.server import Server
from pysoa.server.types import EnrichedActionRequest
from tests.unit.server.services import (
    action,
    job_request,
    make_server,
    make_server_class,
)


class Switch(enum.IntEnum):
    NEW_SEARCH = 7


class DescribedAction(Action):
    """This docstring loses to the description."""

    description = 'Adds two numbers.'
    request_schema = fields.Dictionary({'a': fields.Integer(), 'b': fields.Integer()})
    response_schema = fields.Dictionary({'sum': fields.Integer()})

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        return {'sum': request.body['a'] + request.body['b']}


class DocstringAction(Action):
    """
    Documented by its docstring.

        Indented detail.
    """

    def run(self, request: EnrichedActionRequest) -> None:
        return None


class UndocumentedAction(Action):
    def run(self, request: EnrichedActionRequest) -> None:
        return None


class SearchV1(Action):
    """Old search."""

    request_schema = fields.Dictionary({'query': fields.UnicodeString()})

    def run(self, request: EnrichedActionRequest) -> None:
        return None


class SearchV2(Action):
    """New search."""

    response_schema = fields.Dictionary({'hits': fields.Integer()})

    def run(self, request: EnrichedActionRequest) -> None:
        return None


class SearchV3(Action):
    """Newest search."""

    def run(self, request: EnrichedActionRequest) -> None:
        return None


class SearchAction(SwitchedAction):
    switch_to_action_map = (
        (Switch.NEW_SEARCH, SearchV2),
        (SwitchedAction.DEFAULT_ACTION, SearchV1),
    )


class SearchWithoutDefaultAction(SwitchedAction):
    switch_to_action_map = (
        (5, SearchV3),
        (Switch.NEW_SEARCH, SearchV2),
        (3, SearchV1),
    )


def plain_factory(settings: Any) -> Callable[[EnrichedActionRequest], ActionResponse]:
    """A plain function can be an action too."""
    return lambda request: ActionResponse(action=request.action)


class DocumentedServer(Server):
    """
    A service for introspection tests.

    It has several actions.
    """

    service_name = 'introspected'
    action_class_map = {
        'add': DescribedAction,
        'docstring': DocstringAction,
        'undocumented': UndocumentedAction,
        'search': SearchAction,
        'search_without_default': SearchWithoutDefaultAction,
        'plain': plain_factory,
    }


def info(documentation: Optional[str], action_class: Any = None) -> Dict[str, Any]:
    request_schema = getattr(action_class, 'request_schema', None)
    response_schema = getattr(action_class, 'response_schema', None)
    return {
        'documentation': documentation,
        'request_schema': request_schema.introspect() if request_schema is not None else None,
        'response_schema': response_schema.introspect() if response_schema is not None else None,
    }


def introspect(server: Optional[Server] = None, **body: Any) -> Dict[str, Any]:
    if server is None:
        server = make_server(server_class=DocumentedServer)
    response = IntrospectionAction(server)(EnrichedActionRequest(action='introspect', body=body))
    assert response.errors == []
    return response.body


# The whole service ----------------------------------------------------------------------------------------------------


def test_introspection_describes_the_service_and_every_action() -> None:
    server = make_server(server_class=DocumentedServer)
    status_class = server.get_action_factory('status')

    assert introspect(server) == {
        'documentation': 'A service for introspection tests.\n\nIt has several actions.',
        'action_names': [
            'add',
            'docstring',
            'introspect',
            'plain',
            'search[DEFAULT]',
            'search[switch:7]',
            'search_without_default[DEFAULT]',
            'search_without_default[switch:5]',
            'search_without_default[switch:7]',
            'status',
            'undocumented',
        ],
        'actions': {
            'add': info('Adds two numbers.', DescribedAction),
            'docstring': info('Documented by its docstring.\n\n    Indented detail.'),
            'introspect': info(IntrospectionAction.description, IntrospectionAction),
            'plain': info('A plain function can be an action too.'),
            'search[DEFAULT]': info('Old search.', SearchV1),
            'search[switch:7]': info('New search.', SearchV2),
            'search_without_default[DEFAULT]': info('Old search.', SearchV1),
            'search_without_default[switch:5]': info('Newest search.', SearchV3),
            'search_without_default[switch:7]': info('New search.', SearchV2),
            'status': info(status_class.description, status_class),  # type: ignore[union-attr]
            'undocumented': info(None),
        },
    }


def test_action_description_wins_over_its_docstring() -> None:
    assert introspect()['actions']['add']['documentation'] == 'Adds two numbers.'


def test_action_schemas_are_introspected() -> None:
    schemas = introspect()['actions']['add']

    assert schemas['request_schema'] == {
        'type': 'dictionary',
        'contents': {'a': {'type': 'integer'}, 'b': {'type': 'integer'}},
        'optional_keys': [],
        'allow_extra_keys': False,
    }
    assert schemas['response_schema'] == DescribedAction.response_schema.introspect()


def test_service_description_wins_over_its_docstring() -> None:
    class DescribedServer(DocumentedServer):
        """Not this."""

        description = 'The described service.'

    assert introspect(make_server(server_class=DescribedServer))['documentation'] == 'The described service.'


def test_service_without_documentation_has_none() -> None:
    assert introspect(make_server(server_class=make_server_class()))['documentation'] is None


def test_built_in_actions_are_listed_unless_the_service_maps_those_names() -> None:
    def my_status(settings: Any) -> Callable[[EnrichedActionRequest], ActionResponse]:
        """My own status."""
        return lambda request: ActionResponse(action='status')

    server = make_server(server_class=make_server_class({'status': my_status}))

    body = introspect(server)

    assert body['action_names'] == ['introspect', 'status']
    assert body['actions']['status'] == info('My own status.')


def test_switched_action_without_default_lists_its_last_pair_as_default() -> None:
    names = introspect()['action_names']

    assert [n for n in names if n.startswith('search_without_default')] == [
        'search_without_default[DEFAULT]',
        'search_without_default[switch:5]',
        'search_without_default[switch:7]',
    ]
    assert 'search_without_default[switch:3]' not in names


def test_introspection_through_the_server_returns_the_same_description() -> None:
    server = make_server(server_class=DocumentedServer)

    response = server.process_job(job_request(action('introspect')))

    assert response.actions[0].errors == []
    assert response.actions[0].body == introspect(server)


# One action -----------------------------------------------------------------------------------------------------------


def test_single_action_query_returns_only_that_action_without_service_documentation() -> None:
    assert introspect(action_name='add') == {
        'action_names': ['add'],
        'actions': {'add': info('Adds two numbers.', DescribedAction)},
    }


def test_single_action_query_can_ask_for_a_built_in_action() -> None:
    assert introspect(action_name='introspect')['action_names'] == ['introspect']


def test_single_action_query_can_ask_for_one_switch_of_a_switched_action() -> None:
    assert introspect(action_name='search[switch:7]') == {
        'action_names': ['search[switch:7]'],
        'actions': {'search[switch:7]': info('New search.', SearchV2)},
    }


def test_single_action_query_can_ask_for_the_default_of_a_switched_action() -> None:
    assert introspect(action_name='search[DEFAULT]') == {
        'action_names': ['search[DEFAULT]'],
        'actions': {'search[DEFAULT]': info('Old search.', SearchV1)},
    }


def test_single_action_query_for_an_unknown_switch_gives_the_default_of_a_switched_action() -> None:
    assert introspect(action_name='search[switch:99]') == {
        'action_names': ['search[switch:99]'],
        'actions': {'search[switch:99]': info('Old search.', SearchV1)},
    }


def test_single_action_query_for_an_unknown_switch_gives_the_last_pair_of_a_switched_action_without_default() -> None:
    assert introspect(action_name='search_without_default[switch:99]')['actions'] == {
        'search_without_default[switch:99]': info('Old search.', SearchV1),
    }


def test_single_action_query_for_the_switch_of_the_pair_listed_as_default_gives_that_pair() -> None:
    assert introspect(action_name='search_without_default[switch:3]')['actions'] == {
        'search_without_default[switch:3]': info('Old search.', SearchV1),
    }


@pytest.mark.parametrize('action_name', ['add[DEFAULT]', 'add[switch:7]'])
def test_single_action_query_for_a_variant_of_an_action_that_is_not_switched_gives_the_action(
    action_name: str,
) -> None:
    assert introspect(action_name=action_name) == {
        'action_names': [action_name],
        'actions': {action_name: info('Adds two numbers.', DescribedAction)},
    }


def test_single_action_query_for_a_switched_action_returns_all_its_switches() -> None:
    assert introspect(action_name='search') == {
        'action_names': ['search[DEFAULT]', 'search[switch:7]'],
        'actions': {
            'search[DEFAULT]': info('Old search.', SearchV1),
            'search[switch:7]': info('New search.', SearchV2),
        },
    }


def test_switched_action_query_does_not_include_actions_sharing_its_prefix() -> None:
    assert sorted(introspect(action_name='search')['actions']) == ['search[DEFAULT]', 'search[switch:7]']


UNDEFINED = Error(code='INVALID', message='Action not defined in service', field='action_name', is_caller_error=True)


@pytest.mark.parametrize('action_name', ['missing', 'searc', 'missing[DEFAULT]', 'missing[switch:7]', 'searc[DEFAULT]'])
def test_query_for_an_undefined_action_is_an_invalid_action_name(action_name: str) -> None:
    server = make_server(server_class=DocumentedServer)

    with pytest.raises(ActionError) as exc_info:
        IntrospectionAction(server)(EnrichedActionRequest(action='introspect', body={'action_name': action_name}))

    assert exc_info.value.errors == [UNDEFINED]


def test_query_for_an_undefined_action_through_the_server_is_a_caller_error() -> None:
    server = make_server(server_class=DocumentedServer)

    response = server.process_job(job_request(action('introspect', action_name='missing')))

    assert response.actions == [ActionResponse(action='introspect', errors=[UNDEFINED])]


def test_blank_action_name_is_rejected_by_the_request_schema() -> None:
    server = make_server(server_class=DocumentedServer)

    with pytest.raises(ActionError) as exc_info:
        IntrospectionAction(server)(EnrichedActionRequest(action='introspect', body={'action_name': ''}))

    assert [(e.code, e.field, e.is_caller_error) for e in exc_info.value.errors] == [('INVALID', 'action_name', True)]


# Construction ---------------------------------------------------------------------------------------------------------


def test_introspection_needs_a_server_instance() -> None:
    with pytest.raises(TypeError):
        IntrospectionAction(make_server().settings)  # type: ignore[arg-type]


def test_introspection_keeps_the_server_and_its_settings() -> None:
    server = make_server()

    introspection = IntrospectionAction(server)

    assert introspection.server is server
    assert introspection.settings is server.settings
