"""The example service's actions."""

import asyncio
from typing import (
    Any,
    Dict,
    Iterable,
    cast,
)

from conformity import fields

from pysoa.common.errors import Error
from pysoa.common.types import ActionResponse
from pysoa.server.action.base import Action
from pysoa.server.errors import ActionError
from pysoa.server.types import EnrichedActionRequest


class SquareAction(Action):
    """Squares a number."""

    request_schema = fields.Dictionary({'number': fields.Integer(description='The number to square')})
    response_schema = fields.Dictionary({'square': fields.Integer(description='The number squared')})

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        return {'square': request.body['number'] ** 2}


class GreetAction(Action):
    """Greets someone by name; shows the field errors a request schema produces."""

    request_schema = fields.Dictionary(
        {
            'name': fields.UnicodeString(min_length=1, max_length=40, description='Who to greet'),
            'language': fields.Constant('en', 'fr', 'es', description='The language of the greeting'),
        },
        optional_keys=('language',),
    )
    response_schema = fields.Dictionary({'greeting': fields.UnicodeString()})

    GREETINGS = {'en': 'Hello', 'fr': 'Bonjour', 'es': 'Hola'}

    def validate(self, request: EnrichedActionRequest) -> None:
        if request.body['name'].lower() == 'nobody':
            raise ActionError([Error(code='NOT_FOUND', message='There is nobody to greet', field='name')])

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        greeting = self.GREETINGS[request.body.get('language', 'en')]
        return {'greeting': f'{greeting}, {request.body["name"]}!'}


class SumOfSquaresAction(Action):
    """Adds up the squares of some numbers by calling the `square` action through `request.client`."""

    request_schema = fields.Dictionary({'numbers': fields.List(fields.Integer(), min_length=1)})
    response_schema = fields.Dictionary({'sum': fields.Integer(), 'correlation_id': fields.UnicodeString()})

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        assert request.client is not None
        # With the default error handling, failures raise: every result is a response.
        responses = cast(
            Iterable[ActionResponse],
            request.client.call_actions_parallel(
                'example',
                [{'action': 'square', 'body': {'number': n}} for n in request.body['numbers']],
            ),
        )
        return {
            'sum': sum(response.body['square'] for response in responses),
            'correlation_id': request.context['correlation_id'],
        }


class SlowEchoAction(Action):
    """Echoes a message after a pause, computed by a coroutine on the server's event loop."""

    request_schema = fields.Dictionary(
        {
            'message': fields.UnicodeString(),
            'delay_seconds': fields.Float(gte=0, lte=5),
        }
    )

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        async def echo() -> str:
            await asyncio.sleep(request.body['delay_seconds'])
            message: str = request.body['message']
            return message

        assert request.run_coroutine is not None
        return {'echo': request.run_coroutine(echo()).result(timeout=10)}
