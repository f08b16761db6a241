"""
Expansions through the AsyncClient, against the in-process services of the synchronous client's expansion tests:
objects with a ``_type`` are filled in with related objects fetched in bulk, nested expansions included.
"""

from typing import (
    Any,
    Dict,
    List,
)

import pytest

from pysoa.client.aio import AsyncClient
from pysoa.client.errors import (
    CallActionError,
    CallJobError,
    InvalidExpansionKey,
)
from tests.unit.client.services import (
    ADDRESSES,
    EXPANSION_CONFIG,
    PEOPLE,
    VENUES,
    EventsServer,
    PlacesServer,
)
from tests.unit.client_aio.support import (
    local_service,
    run_async,
)


def expanding_client() -> AsyncClient:
    return AsyncClient(
        {'events': local_service(EventsServer), 'places': local_service(PlacesServer)},
        expansion_config=EXPANSION_CONFIG,
    )


async def get_events(client: AsyncClient, *ids: str, **kwargs: Any) -> List[Dict[str, Any]]:
    response = await client.call_action('events', 'get_events', {'ids': list(ids)}, **kwargs)
    events: List[Dict[str, Any]] = response.body['events']
    return events


@run_async
async def test_an_expansion_fills_in_the_object_fetched_from_the_route_service() -> None:
    async with expanding_client() as client:
        [event] = await get_events(client, 'e3', expansions={'event': ['venue']})

    assert event == {'_type': 'event', 'id': 'e3', 'venue_id': 'v2', 'venue': VENUES['v2']}


@run_async
async def test_nested_expansions_fill_in_the_objects_of_the_objects_fetched() -> None:
    async with expanding_client() as client:
        [event] = await get_events(client, 'e1', expansions={'event': ['venue.address']})

    assert event['venue'] == dict(VENUES['v1'], address=ADDRESSES['a1'])


@run_async
async def test_recursive_expansions_stop_at_values_already_fetched_as_the_synchronous_client_does() -> None:
    async with expanding_client() as client:
        [event] = await get_events(client, 'e1', expansions={'event': ['host.friend'], 'person': ['friend']})

    assert event['host'] == dict(PEOPLE['alice'], friend=PEOPLE['bob'])


@run_async
async def test_calls_without_expansions_leave_the_objects_as_they_are() -> None:
    async with expanding_client() as client:
        [event] = await get_events(client, 'e3')

    assert 'venue' not in event


@run_async
async def test_an_unknown_expansion_raises_invalid_expansion_key() -> None:
    async with expanding_client() as client:
        with pytest.raises(InvalidExpansionKey, match='Invalid key in expansion request: nope'):
            await get_events(client, 'e3', expansions={'event': ['nope']})


@run_async
async def test_a_failed_expansion_that_asks_to_raise_raises_call_action_error() -> None:
    async with expanding_client() as client:
        with pytest.raises(CallActionError) as raised:
            await get_events(client, 'e4', expansions={'event': ['venue']})

    assert [e.code for e in raised.value.actions[0].errors] == ['NOT_FOUND']


@run_async
async def test_a_job_error_of_an_expansion_that_asks_to_raise_raises_call_job_error() -> None:
    async with expanding_client() as client:
        with pytest.raises(CallJobError):
            await get_events(client, 'e6', expansions={'event': ['secret']})


@run_async
async def test_parallel_calls_expand_the_objects_of_every_job() -> None:
    async with expanding_client() as client:
        results = await client.call_actions_parallel(
            'events',
            [{'action': 'get_events', 'body': {'ids': ['e1']}}, {'action': 'get_events', 'body': {'ids': ['e3']}}],
            expansions={'event': ['venue']},
        )

    assert [r.body['events'][0]['venue']['id'] for r in results] == ['v1', 'v2']  # type: ignore[union-attr]
