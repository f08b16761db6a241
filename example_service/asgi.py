"""
A web application calling the example service from an asyncio route, with the
:class:`~pysoa.client.aio.AsyncClient`. It is a bare ASGI application, so it needs no web framework (the documentation
shows the same route in Starlette and FastAPI); serve it with any ASGI server, for instance
``uvicorn example_service.asgi:app``.

``GET /square?number=7`` answers ``{"square": 49}``; a number the service refuses gets status 400 with the service's
errors. One client serves every request: it is made when the server starts (the ASGI ``lifespan`` startup) and
closed when it stops, and requests handled at once share its connections.
"""

import json
from typing import (
    Any,
    Awaitable,
    Callable,
    Dict,
    List,
    Mapping,
    MutableMapping,
    Tuple,
)
from urllib.parse import parse_qs

from example_service.settings import CLIENT_SETTINGS
from pysoa.client.aio import AsyncClient
from pysoa.client.errors import CallActionError


__all__ = (
    'app',
    'make_app',
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Application = Callable[[Scope, Receive, Send], Awaitable[None]]


def make_app(client_settings: Mapping[str, Any] = CLIENT_SETTINGS) -> Application:
    """The application, calling the services in ``client_settings`` (by default the example service over Redis)."""
    clients: Dict[str, AsyncClient] = {}

    async def square(query: Dict[str, List[str]]) -> Tuple[int, Any]:
        try:
            number = int(query['number'][0])
        except (KeyError, ValueError):
            return 400, {'errors': [{'code': 'INVALID', 'message': 'Give an integer: ?number=7', 'field': 'number'}]}
        try:
            response = await clients['client'].call_action('example', 'square', {'number': number}, timeout=5)
        except CallActionError as failure:
            errors = [
                {'code': error.code, 'message': error.message, 'field': error.field}
                for action in failure.actions
                for error in action.errors
            ]
            return 400, {'errors': errors}
        return 200, response.body

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope['type'] == 'lifespan':
            while True:
                message = await receive()
                if message['type'] == 'lifespan.startup':
                    clients['client'] = AsyncClient(client_settings)
                    await send({'type': 'lifespan.startup.complete'})
                elif message['type'] == 'lifespan.shutdown':
                    await clients.pop('client').close()
                    await send({'type': 'lifespan.shutdown.complete'})
                    return
        elif scope['type'] == 'http':
            if scope['method'] == 'GET' and scope['path'] == '/square':
                status, body = await square(parse_qs(scope['query_string'].decode('latin-1')))
            else:
                status, body = 404, {'errors': [{'code': 'NOT_FOUND', 'message': 'No such page', 'field': None}]}
            await _respond(send, status, body)

    return app


async def _respond(send: Send, status: int, body: Any) -> None:
    content = json.dumps(body).encode('utf-8')
    await send(
        {
            'type': 'http.response.start',
            'status': status,
            'headers': [(b'content-type', b'application/json'), (b'content-length', str(len(content)).encode())],
        }
    )
    await send({'type': 'http.response.body', 'body': content})


app = make_app()
"""The application calling the example service over the Redis that ``example_service.settings`` names."""
