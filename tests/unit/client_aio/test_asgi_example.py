"""
The documented web application example (``example_service/asgi.py``): an ASGI route calling the example service with
the AsyncClient, driven here as an ASGI server would drive it, with the service in-process.
"""

import asyncio
import json
from typing import (
    Any,
    Dict,
    List,
    MutableMapping,
    Tuple,
)

from example_service.asgi import (
    Application,
    make_app,
)
from pysoa.common.errors import Error
from pysoa.test.stub_service import stub_action
from tests.unit.client_aio.support import run_async


LOCAL_SETTINGS = {
    'example': {
        'transport': {
            'path': 'pysoa.common.transport.local:LocalClientTransport',
            'kwargs': {'server_class': 'example_service.server:ExampleServer', 'server_settings': {}},
        }
    }
}


class Lifespan:
    """Starts the application (ASGI lifespan startup) and, on exit, stops it, as an ASGI server does."""

    def __init__(self, app: Application) -> None:
        self.app = app
        self.to_app: asyncio.Queue[Dict[str, Any]] = asyncio.Queue()
        self.from_app: asyncio.Queue[MutableMapping[str, Any]] = asyncio.Queue()

    async def __aenter__(self) -> 'Lifespan':
        self.task = asyncio.ensure_future(self.app({'type': 'lifespan'}, self.to_app.get, self.from_app.put))
        await self.to_app.put({'type': 'lifespan.startup'})
        assert (await self.from_app.get())['type'] == 'lifespan.startup.complete'
        return self

    async def __aexit__(self, *_: Any) -> None:
        await self.to_app.put({'type': 'lifespan.shutdown'})
        assert (await self.from_app.get())['type'] == 'lifespan.shutdown.complete'
        await self.task


async def get(app: Application, path: str, query: str = '') -> Tuple[int, Any]:
    """Send ``GET path?query`` to the application; return the status and the JSON body of its response."""
    sent: List[MutableMapping[str, Any]] = []

    async def receive() -> Dict[str, Any]:
        return {'type': 'http.request', 'body': b'', 'more_body': False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {'type': 'http', 'method': 'GET', 'path': path, 'query_string': query.encode(), 'headers': []}
    await app(scope, receive, send)
    start, body = sent
    return start['status'], json.loads(body['body'])


@run_async
async def test_the_route_answers_with_the_body_of_the_services_response() -> None:
    app = make_app(LOCAL_SETTINGS)
    async with Lifespan(app):
        assert await get(app, '/square', 'number=7') == (200, {'square': 49})


@run_async
async def test_requests_handled_at_once_share_the_client_and_each_get_their_answer() -> None:
    app = make_app(LOCAL_SETTINGS)
    async with Lifespan(app):
        answers = await asyncio.gather(*(get(app, '/square', f'number={n}') for n in range(20)))

    assert answers == [(200, {'square': n * n}) for n in range(20)]


@run_async
async def test_a_request_the_route_cannot_read_gets_status_400() -> None:
    app = make_app(LOCAL_SETTINGS)
    async with Lifespan(app):
        status, body = await get(app, '/square', 'number=seven')

    assert (status, [e['field'] for e in body['errors']]) == (400, ['number'])


@run_async
async def test_an_unknown_page_gets_status_404() -> None:
    app = make_app(LOCAL_SETTINGS)
    async with Lifespan(app):
        assert (await get(app, '/cube', 'number=2'))[0] == 404


@run_async
async def test_errors_of_the_service_are_answered_with_status_400() -> None:
    app = make_app(LOCAL_SETTINGS)
    refusal = Error(code='TOO_BIG', message='Too big to square', field='number')
    async with Lifespan(app):
        with stub_action('example', 'square', errors=[refusal]):
            status, body = await get(app, '/square', 'number=10000')

    assert (status, body) == (400, {'errors': [{'code': 'TOO_BIG', 'message': 'Too big to square', 'field': 'number'}]})
