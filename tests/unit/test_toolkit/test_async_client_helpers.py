"""``pysoa.test.aio``: calling the service under test in-process with the AsyncClient, from asyncio tests."""

import pytest

from pysoa.client.aio import AsyncClient
from pysoa.client.errors import CallActionError
from pysoa.common.errors import Error
from pysoa.test.aio import (
    call_local_action,
    local_async_client,
)
from pysoa.test.stub_service import stub_action
from tests.unit.client.services import (
    SERVER_SETTINGS,
    MainServer,
)
from tests.unit.client_aio.support import run_async


@run_async
async def test_the_local_client_calls_the_service_of_the_server_class() -> None:
    async with local_async_client(MainServer) as client:
        response = await client.call_action('svc', 'square', {'number': 6})

    assert isinstance(client, AsyncClient)
    assert response.body == {'square': 36}


@run_async
async def test_the_local_client_runs_the_server_with_the_given_settings() -> None:
    async with local_async_client(MainServer, SERVER_SETTINGS) as client:
        errors = await client.call_action('svc', 'forbidden', raise_job_errors=False)

    # with raise_job_errors=False a failed job gives its errors, which call_action's type does not say
    assert [e.code for e in errors if isinstance(e, Error)] == ['FORBIDDEN']  # type: ignore[attr-defined]


@run_async
async def test_call_local_action_returns_the_response_of_one_call() -> None:
    response = await call_local_action(MainServer, 'echo', {'hello': 'world'}, switches=[5])

    assert response.body == {'hello': 'world'}


@run_async
async def test_call_local_action_raises_the_actions_errors() -> None:
    with pytest.raises(CallActionError):
        await call_local_action(MainServer, 'fail')


@run_async
async def test_stub_action_reaches_the_local_client() -> None:
    with stub_action('svc', 'get_user', body={'name': 'Ada'}):
        response = await call_local_action(MainServer, 'get_user')

    assert response.body == {'name': 'Ada'}


def test_a_class_that_is_not_a_server_is_refused() -> None:
    with pytest.raises(TypeError, match='must be a Server subclass with a service_name'):
        local_async_client(dict)  # type: ignore[arg-type]
