"""
Two services in one process, talking through the local transport: the layers a call passes through, in order, and
the context that travels with it into nested calls.
"""

import asyncio
from typing import (
    Any,
    Dict,
    List,
    Optional,
    Tuple,
)

import pytest
from conformity import fields

from pysoa.client.client import Client
from pysoa.client.middleware import (
    ClientMiddleware,
    ClientRequestMiddlewareTask,
    ClientResponseMiddlewareTask,
)
from pysoa.common.types import (
    ActionResponse,
    JobRequest,
    JobResponse,
)
from pysoa.server.action.base import Action
from pysoa.server.middleware import (
    ServerMiddleware,
    ServerMiddlewareActionTask,
    ServerMiddlewareJobTask,
)
from pysoa.server.server import Server
from pysoa.server.types import (
    EnrichedActionRequest,
    EnrichedJobRequest,
)


EVENTS: List[Tuple[str, ...]] = []


@pytest.fixture(autouse=True)
def clear_events() -> None:
    EVENTS.clear()


@fields.ClassConfigurationSchema.provider(fields.Dictionary({'name': fields.UnicodeString()}))
class RecordingClientMiddleware(ClientMiddleware):
    def __init__(self, name: str) -> None:
        self.name = name

    def request(self, send_request: ClientRequestMiddlewareTask) -> ClientRequestMiddlewareTask:
        def wrapper(request_id: int, meta: Dict[str, Any], job_request: JobRequest, expiry: Optional[int]) -> None:
            EVENTS.append(('client request', self.name, job_request.actions[0].action))
            send_request(request_id, meta, job_request, expiry)
            EVENTS.append(('client request sent', self.name))

        return wrapper

    def response(self, get_response: ClientResponseMiddlewareTask) -> ClientResponseMiddlewareTask:
        def wrapper(timeout: Optional[int]) -> Tuple[Optional[int], Optional[JobResponse]]:
            request_id, response = get_response(timeout)
            if response is not None:
                EVENTS.append(('client response', self.name, response.actions[0].action))
            return request_id, response

        return wrapper


@fields.ClassConfigurationSchema.provider(fields.Dictionary({'name': fields.UnicodeString()}))
class RecordingServerMiddleware(ServerMiddleware):
    def __init__(self, name: str) -> None:
        self.name = name

    def job(self, process_job: ServerMiddlewareJobTask) -> ServerMiddlewareJobTask:
        def wrapper(job_request: EnrichedJobRequest) -> JobResponse:
            EVENTS.append(('server job', self.name, job_request.context['correlation_id']))
            response = process_job(job_request)
            EVENTS.append(('server job done', self.name))
            return response

        return wrapper

    def action(self, process_action: ServerMiddlewareActionTask) -> ServerMiddlewareActionTask:
        def wrapper(request: EnrichedActionRequest) -> ActionResponse:
            EVENTS.append(('server action', self.name, request.action))
            response = process_action(request)
            EVENTS.append(('server action done', self.name, request.action))
            return response

        return wrapper


class WhoAmIAction(Action):
    """Reports the context and switches the users service received."""

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        EVENTS.append(('users action', request.action))
        return {
            'correlation_id': request.context['correlation_id'],
            'calling_service': request.context.get('calling_service'),
            'tenant': request.context.get('tenant'),
            'switches': sorted(request.switches),
        }


class UsersServer(Server):
    service_name = 'users'
    action_class_map = {'whoami': WhoAmIAction}


class PlaceOrderAction(Action):
    """Calls the users service through the request's client, as a service does."""

    request_schema = fields.Dictionary({'item': fields.UnicodeString()})

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        EVENTS.append(('orders action', request.action))
        assert request.client is not None
        caller = request.client.call_action('users', 'whoami').body
        return {'item': request.body['item'], 'caller': caller, 'own_correlation_id': request.context['correlation_id']}


class PriceAction(Action):
    """Computes on the server's event loop thread."""

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        async def price() -> int:
            await asyncio.sleep(0)
            return 1250

        assert request.run_coroutine is not None
        return {'price': request.run_coroutine(price()).result(timeout=5)}


def users_settings() -> Dict[str, Any]:
    return {
        'middleware': [{'path': f'{__name__}:RecordingServerMiddleware', 'kwargs': {'name': 'users-job'}}],
    }


class OrdersServer(Server):
    service_name = 'orders'
    action_class_map = {'place_order': PlaceOrderAction, 'price': PriceAction}


def orders_settings() -> Dict[str, Any]:
    return {
        'middleware': [
            {'path': f'{__name__}:RecordingServerMiddleware', 'kwargs': {'name': 'outer'}},
            {'path': f'{__name__}:RecordingServerMiddleware', 'kwargs': {'name': 'inner'}},
        ],
        'client_routing': {
            'users': {
                'transport': {
                    'path': 'pysoa.common.transport.local:LocalClientTransport',
                    'kwargs': {'server_class': UsersServer, 'server_settings': users_settings()},
                },
            },
        },
    }


def make_client(**kwargs: Any) -> Client:
    return Client(
        {
            'orders': {
                'transport': {
                    'path': 'pysoa.common.transport.local:LocalClientTransport',
                    'kwargs': {'server_class': OrdersServer, 'server_settings': orders_settings()},
                },
                'middleware': [
                    {'path': f'{__name__}:RecordingClientMiddleware', 'kwargs': {'name': 'first'}},
                    {'path': f'{__name__}:RecordingClientMiddleware', 'kwargs': {'name': 'second'}},
                ],
            },
        },
        **kwargs,
    )


def test_a_call_passes_through_every_middleware_layer_in_configured_order() -> None:
    make_client().call_action('orders', 'place_order', {'item': 'book'}, correlation_id='corr-1')

    assert EVENTS == [
        ('client request', 'first', 'place_order'),
        ('client request', 'second', 'place_order'),
        ('server job', 'outer', 'corr-1'),
        ('server job', 'inner', 'corr-1'),
        ('server action', 'outer', 'place_order'),
        ('server action', 'inner', 'place_order'),
        ('orders action', 'place_order'),
        # the nested call to the users service runs inside the orders action
        ('server job', 'users-job', 'corr-1'),
        ('server action', 'users-job', 'whoami'),
        ('users action', 'whoami'),
        ('server action done', 'users-job', 'whoami'),
        ('server job done', 'users-job'),
        ('server action done', 'inner', 'place_order'),
        ('server action done', 'outer', 'place_order'),
        ('server job done', 'inner'),
        ('server job done', 'outer'),
        # the local transport runs the server while the request is being sent
        ('client request sent', 'second'),
        ('client request sent', 'first'),
        ('client response', 'second', 'place_order'),
        ('client response', 'first', 'place_order'),
    ]


def test_nested_call_carries_the_callers_correlation_id_switches_and_context() -> None:
    client = make_client(context={'tenant': 'acme', 'switches': [7]})

    body = client.call_action('orders', 'place_order', {'item': 'book'}, correlation_id='corr-2', switches=[3]).body

    assert body['own_correlation_id'] == 'corr-2'
    assert body['caller'] == {
        'correlation_id': 'corr-2',
        'calling_service': 'orders',
        'tenant': 'acme',
        'switches': [3, 7],
    }


def test_each_top_level_call_gets_a_fresh_correlation_id_that_its_nested_calls_share() -> None:
    client = make_client()

    first = client.call_action('orders', 'place_order', {'item': 'a'}).body
    second = client.call_action('orders', 'place_order', {'item': 'b'}).body

    assert first['own_correlation_id'] != second['own_correlation_id']
    assert first['caller']['correlation_id'] == first['own_correlation_id']
    assert second['caller']['correlation_id'] == second['own_correlation_id']


def test_response_context_echoes_the_correlation_id() -> None:
    response = make_client().call_actions('orders', [{'action': 'price'}], correlation_id='corr-3')

    assert response.context == {'correlation_id': 'corr-3'}


def test_async_action_completes_under_the_local_transport() -> None:
    assert make_client().call_action('orders', 'price').body == {'price': 1250}


def test_schema_violation_in_the_outer_service_never_reaches_the_nested_one() -> None:
    with pytest.raises(Client.CallActionError) as info:
        make_client().call_action('orders', 'place_order', {'item': 42})

    assert [(e.code, e.field, e.is_caller_error) for e in info.value.actions[0].errors] == [('INVALID', 'item', True)]
    assert ('users action', 'whoami') not in EVENTS
