"""
``stub_action`` reaches the AsyncClient too: a stubbed action is answered by its mock, mixed jobs send only their real
actions, errors and receive failures are raised as for real ones, and an unconfigured service can be stubbed.
"""

import asyncio

import pytest

from pysoa.client.aio import AsyncClient
from pysoa.client.errors import (
    CallActionError,
    CallJobError,
    ImproperlyConfigured,
)
from pysoa.common.errors import Error
from pysoa.common.transport.errors import MessageReceiveTimeout
from pysoa.server.errors import JobError
from pysoa.test.stub_service import stub_action
from tests.unit.client_aio.support import (
    local_config,
    run_async,
)


@run_async
async def test_a_stubbed_action_is_answered_by_its_mock_with_the_request_body() -> None:
    async with AsyncClient(local_config()) as client:
        with stub_action('svc', 'get_user', body={'name': 'Ada'}) as get_user:
            response = await client.call_action('svc', 'get_user', {'id': 1})

    assert response.body == {'name': 'Ada'}
    assert get_user.call_count == 1
    assert get_user.call_body == {'id': 1}


@run_async
async def test_a_service_without_settings_can_be_stubbed() -> None:
    async with AsyncClient({}) as client:
        with stub_action('billing', 'charge', body={'charged': True}):
            response = await client.call_action('billing', 'charge')

    assert response.body == {'charged': True}


@run_async
async def test_a_real_action_of_an_unconfigured_stubbed_service_raises_improperly_configured() -> None:
    async with AsyncClient({}) as client:
        with stub_action('billing', 'charge', body={}):
            with pytest.raises(ImproperlyConfigured, match='Unrecognized service name "billing"'):
                await client.call_actions('billing', [{'action': 'charge'}, {'action': 'refund'}])


@run_async
async def test_a_mixed_job_runs_its_real_actions_and_merges_the_responses_in_order() -> None:
    async with AsyncClient(local_config()) as client:
        with stub_action('svc', 'get_user', body={'name': 'Ada'}):
            response = await client.call_actions(
                'svc',
                [
                    {'action': 'square', 'body': {'number': 5}},
                    {'action': 'get_user'},
                    {'action': 'echo', 'body': {'real': True}},
                ],
            )

    assert [(a.action, a.body) for a in response.actions] == [
        ('square', {'square': 25}),
        ('get_user', {'name': 'Ada'}),
        ('echo', {'real': True}),
    ]


@run_async
async def test_stubbed_action_errors_raise_call_action_error() -> None:
    async with AsyncClient(local_config()) as client:
        with stub_action('svc', 'get_user', errors=[Error(code='NOT_FOUND', message='No such user')]):
            with pytest.raises(CallActionError) as raised:
                await client.call_action('svc', 'get_user')

    assert [e.code for e in raised.value.actions[0].errors] == ['NOT_FOUND']


@run_async
async def test_a_stub_raising_job_error_raises_call_job_error() -> None:
    async with AsyncClient(local_config()) as client:
        with stub_action('svc', 'get_user', side_effect=JobError([Error(code='DOWN', message='Down')])):
            with pytest.raises(CallJobError) as raised:
                await client.call_action('svc', 'get_user')

    assert [e.code for e in raised.value.errors] == ['DOWN']


@run_async
async def test_a_stub_raising_a_receive_timeout_raises_it_when_the_response_is_awaited() -> None:
    async with AsyncClient(local_config()) as client:
        with stub_action('svc', 'get_user', side_effect=MessageReceiveTimeout('too slow')):
            with pytest.raises(MessageReceiveTimeout, match='too slow'):
                await client.call_action('svc', 'get_user')


@run_async
async def test_parallel_calls_mix_stubbed_and_real_jobs() -> None:
    async with AsyncClient(local_config()) as client:
        with stub_action('other', 'get_user', body={'name': 'Ada'}):
            results = await client.call_jobs_parallel(
                [
                    {'service_name': 'svc', 'actions': [{'action': 'square', 'body': {'number': 3}}]},
                    {'service_name': 'other', 'actions': [{'action': 'get_user'}]},
                ]
            )

    assert [r.actions[0].body for r in results] == [{'square': 9}, {'name': 'Ada'}]  # type: ignore[union-attr]


@run_async
async def test_stubbed_requests_sent_with_send_request_are_collected_with_their_ids() -> None:
    async with AsyncClient(local_config()) as client:
        with stub_action('svc', 'get_user', body={'name': 'Ada'}):
            stubbed_id = await client.send_request('svc', [{'action': 'get_user'}])
            real_id = await client.send_request('svc', [{'action': 'echo', 'body': {'real': 1}}])
            responses = {request_id: r async for request_id, r in client.get_all_responses('svc')}

    assert stubbed_id <= 0 < real_id
    assert {request_id: r.actions[0].body for request_id, r in responses.items()} == {
        stubbed_id: {'name': 'Ada'},
        real_id: {'real': 1},
    }


@run_async
async def test_concurrent_calls_each_reach_the_stub_with_their_own_body() -> None:
    async with AsyncClient(local_config()) as client:
        with stub_action('svc', 'get_user', side_effect=lambda body: {'id': body['id']}) as get_user:
            responses = await asyncio.gather(*(client.call_action('svc', 'get_user', {'id': n}) for n in range(20)))

    assert [r.body['id'] for r in responses] == list(range(20))
    assert get_user.call_count == 20


@run_async
async def test_once_the_stub_stops_the_real_action_answers_again() -> None:
    async with AsyncClient(local_config()) as client:
        with stub_action('svc', 'echo', body={'stubbed': True}):
            stubbed = await client.call_action('svc', 'echo', {'real': True})
        real = await client.call_action('svc', 'echo', {'real': True})

    assert (stubbed.body, real.body) == ({'stubbed': True}, {'real': True})
