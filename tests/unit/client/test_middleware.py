"""Client middleware: configuration, the order it runs in, and what it may change."""

from typing import (
    Any,
    Dict,
    List,
)

import pytest

from pysoa.client.client import Client
from pysoa.client.middleware import ClientMiddleware
from pysoa.client.settings import ClientSettings

from .services import (
    MODULE,
    MainServer,
    OtherServer,
    local_service,
    recorder_of,
    transport_of,
)


def client_with_middleware(*middleware: Dict[str, Any]) -> Client:
    """A client whose ``svc`` settings have the given middleware, then the recording middleware (innermost)."""
    config = {'svc': local_service(MainServer), 'other': local_service(OtherServer)}
    config['svc']['middleware'] = [*middleware, *config['svc']['middleware']]
    return Client(config)


def trail(name: str) -> Dict[str, Any]:
    return {'path': f'{MODULE}:TrailMiddleware', 'kwargs': {'name': name}}


# Configuration ------------------------------------------------------------------------------------------------------


def test_middleware_is_instantiated_with_its_kwargs_in_configured_order() -> None:
    client = client_with_middleware(trail('outer'), trail('inner'))

    client.call_action('svc', 'echo')

    names = [getattr(m, 'name', None) for m in client.handlers['svc'].middleware]
    assert names == ['outer', 'inner', None]


def test_middleware_kwargs_are_validated_against_the_schema_it_provides() -> None:
    with pytest.raises(ClientSettings.ImproperlyConfigured) as exc_info:
        client_with_middleware({'path': f'{MODULE}:TrailMiddleware', 'kwargs': {'name': 7}})

    assert 'name' in str(exc_info.value)


def test_middleware_kwargs_schema_rejects_unknown_keys() -> None:
    with pytest.raises(ClientSettings.ImproperlyConfigured):
        client_with_middleware({'path': f'{MODULE}:TrailMiddleware', 'kwargs': {'name': 'x', 'colour': 'red'}})


def test_middleware_must_extend_client_middleware() -> None:
    with pytest.raises(ClientSettings.ImproperlyConfigured):
        client_with_middleware({'path': 'pysoa.server.middleware:ServerMiddleware'})


def test_base_middleware_takes_no_kwargs_and_changes_nothing() -> None:
    client = client_with_middleware({'path': 'pysoa.client.middleware:ClientMiddleware'})

    response = client.call_actions('svc', [{'action': 'echo', 'body': {'a': 1}}])

    assert type(client.handlers['svc'].middleware[0]) is ClientMiddleware
    assert response.actions[0].body == {'a': 1}


def test_middleware_applies_only_to_the_service_it_is_configured_for() -> None:
    client = client_with_middleware(trail('svc only'))

    response = client.call_actions('other', [{'action': 'headers'}])

    assert 'trail' not in response.actions[0].body['context']
    assert 'trail' not in response.context


# Order --------------------------------------------------------------------------------------------------------------


def test_first_configured_request_middleware_runs_first() -> None:
    client = client_with_middleware(trail('outer'), trail('inner'))

    response = client.call_action('svc', 'headers')

    assert response.body['context']['trail'] == ['outer', 'inner']


def test_first_configured_response_middleware_runs_last() -> None:
    client = client_with_middleware(trail('outer'), trail('inner'))

    response = client.call_actions('svc', [{'action': 'echo'}])

    assert response.context['trail'] == ['inner', 'outer']


def test_inner_middleware_sees_what_outer_middleware_did() -> None:
    client = client_with_middleware(trail('outer'), trail('inner'))

    client.call_action('svc', 'echo')

    [(_, meta, job_request, _)] = recorder_of(client, 'svc').requests
    assert meta['trail'] == ['outer', 'inner']
    assert job_request.context['trail'] == ['outer', 'inner']


def test_response_middleware_wraps_get_all_responses_too() -> None:
    client = client_with_middleware(trail('outer'), trail('inner'))
    client.send_request('svc', [{'action': 'echo'}])

    [(_, response)] = list(client.get_all_responses('svc'))

    assert response.context['trail'] == ['inner', 'outer']


# What middleware may change -----------------------------------------------------------------------------------------


def test_request_middleware_changes_to_meta_travel_to_the_transport() -> None:
    client = client_with_middleware(trail('only'))

    client.call_action('svc', 'echo')

    [(_, meta, _, _)] = transport_of(client, 'svc').sent
    assert meta['trail'] == ['only']
    assert 'client_version' in meta


def test_request_middleware_can_change_the_job_request() -> None:
    client = client_with_middleware({'path': f'{MODULE}:SwitchAddingMiddleware'})

    response = client.call_actions('svc', [{'action': 'headers'}], switches=[1])

    assert sorted(response.actions[0].body['context']['switches']) == [1, 42]
    assert [action.body for action in response.actions[1:]] == [{'added_by': 'middleware'}]


def test_request_middleware_runs_once_per_request_of_a_parallel_call() -> None:
    client = client_with_middleware(trail('only'))

    results: List[Any] = list(client.call_actions_parallel('svc', [{'action': 'headers'}] * 3))

    assert [result.body['context']['trail'] for result in results] == [['only']] * 3
