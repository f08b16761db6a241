"""
The request objects job middleware and actions receive (``EnrichedJobRequest``, ``EnrichedActionRequest``),
running another action of the same server with ``call_local_action``, and the client every request carries.
"""

from typing import (
    Any,
    Callable,
    Dict,
    List,
    Optional,
)

import attr
import pytest

from pysoa.client.client import Client
from pysoa.common.errors import Error
from pysoa.common.types import (
    ActionRequest,
    ActionResponse,
    JobRequest,
)
from pysoa.server.action import Action
from pysoa.server.errors import ActionError
from pysoa.server.internal.types import RequestSwitchSet
from pysoa.server.server import Server
from pysoa.server.types import (
    EnrichedActionRequest,
    EnrichedJobRequest,
)
from tests.unit.server.services import (
    MIDDLEWARE_PATH,
    EchoAction,
    RecordingMiddleware,
    action,
    job_request,
    make_server,
    make_server_class,
)


LOCAL_TRANSPORT_PATH = 'pysoa.common.transport.local:LocalClientTransport'


# EnrichedJobRequest / EnrichedActionRequest ---------------------------------------------------------------------------


def test_enriched_job_request_adds_client_and_run_coroutine_after_the_job_request_fields() -> None:
    assert [a.name for a in attr.fields(EnrichedJobRequest)] == [
        'control',
        'context',
        'actions',
        'client',
        'run_coroutine',
    ]
    assert issubclass(EnrichedJobRequest, JobRequest)


def test_enriched_job_request_defaults() -> None:
    request = EnrichedJobRequest()

    assert (request.control, request.context, request.actions, request.run_coroutine) == ({}, {}, [], None)
    assert request.client is None  # typed Client, since every request a server builds has one


def test_enriched_job_request_converts_action_dicts_to_action_requests() -> None:
    request = EnrichedJobRequest(actions=[{'action': 'a', 'body': {'x': 1}}, {'action': 'b'}])

    assert request.actions == [ActionRequest(action='a', body={'x': 1}), ActionRequest(action='b')]


def test_enriched_action_request_fields_in_order() -> None:
    assert [a.name for a in attr.fields(EnrichedActionRequest)] == [
        'action',
        'body',
        'switches',
        'context',
        'control',
        'client',
        'run_coroutine',
    ]
    assert issubclass(EnrichedActionRequest, ActionRequest)


def test_enriched_action_request_defaults() -> None:
    request = EnrichedActionRequest(action='a')

    assert request.body == {}
    assert request.switches == RequestSwitchSet()
    assert isinstance(request.switches, RequestSwitchSet)
    assert (request.context, request.control, request.run_coroutine) == ({}, {}, None)
    assert request.client is None  # typed Client, since every request a server builds has one
    assert request._server is None


def test_enriched_action_request_default_containers_are_not_shared() -> None:
    first, second = EnrichedActionRequest(action='a'), EnrichedActionRequest(action='b')
    first.body['x'] = 1
    first.context['y'] = 2
    first.control['z'] = 3

    assert (second.body, second.context, second.control) == ({}, {}, {})


def test_switches_given_as_a_list_become_a_request_switch_set() -> None:
    request = EnrichedActionRequest(action='a', switches=[1, 5])

    assert isinstance(request.switches, RequestSwitchSet)
    assert request.switches == frozenset({1, 5})
    assert request.switches.is_active(5)
    assert not request.switches.is_active(2)


def test_server_reference_is_not_an_attrs_field() -> None:
    request = EnrichedActionRequest(action='a')
    request._server = object()  # type: ignore[assignment]

    assert '_server' not in attr.asdict(request)
    assert 'server' not in repr(request)
    assert request == EnrichedActionRequest(action='a')


def test_server_sets_itself_on_every_action_request() -> None:
    seen: List[Any] = []

    class ServerAction(Action):
        def run(self, request: EnrichedActionRequest) -> None:
            seen.append(request._server)

    server = make_server({'server': ServerAction})
    server.process_job(job_request(action('server'), action('server')))

    assert seen == [server, server]


def test_server_builds_action_requests_with_its_request_class() -> None:
    @attr.s
    class CustomRequest(EnrichedActionRequest):
        extra: str = attr.ib(default='custom')

    seen: List[Any] = []

    class InspectAction(Action):
        def run(self, request: EnrichedActionRequest) -> None:
            seen.append(request)

    server = make_server(server_class=make_server_class({'inspect': InspectAction}, request_class=CustomRequest))
    server.process_job(job_request(action('inspect')))

    [request] = seen
    assert type(request) is CustomRequest
    assert request.extra == 'custom'


# call_local_action ----------------------------------------------------------------------------------------------------


class DoubleAction(Action):
    """Doubles ``value``."""

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        return {'doubled': request.body['value'] * 2}


class CaptureRequestAction(Action):
    """Keeps the requests it gets in ``requests``."""

    requests: List[EnrichedActionRequest] = []

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        self.requests.append(request)
        return {}


class FailingAction(Action):
    def run(self, request: EnrichedActionRequest) -> None:
        raise ActionError([Error(code='FAILED', message='It failed', field='value')])


def returning_errors(settings: Any) -> Callable[[EnrichedActionRequest], ActionResponse]:
    """An action that returns (rather than raises) an error."""
    return lambda request: ActionResponse(action=request.action, errors=[Error(code='SOFT', message='Returned')])


@pytest.fixture
def captured() -> List[EnrichedActionRequest]:
    CaptureRequestAction.requests = []
    return CaptureRequestAction.requests


def local_request(server: Optional[Server] = None, **kwargs: Any) -> EnrichedActionRequest:
    """A request as the server would give an action of ``server``."""
    kwargs.setdefault('context', {'correlation_id': 'corr', 'switches': [3]})
    kwargs.setdefault('switches', [3])
    request = EnrichedActionRequest(action='caller', body={'caller': True}, **kwargs)
    if server is None:
        server = make_server(
            {
                'double': DoubleAction,
                'capture': CaptureRequestAction,
                'fail': FailingAction,
                'soft': returning_errors,
            }
        )
    request._server = server
    return request


def test_call_local_action_returns_the_other_action_response() -> None:
    response = local_request().call_local_action('double', {'value': 21})

    assert response == ActionResponse(action='double', body={'doubled': 42})


def test_call_local_action_copies_every_other_field_of_the_request(captured: List[EnrichedActionRequest]) -> None:
    def run_coroutine(coroutine: Any) -> Any:
        raise AssertionError('not called')

    client = Client({})
    request = local_request(control={'continue_on_error': True}, client=client, run_coroutine=run_coroutine)

    request.call_local_action('capture', {'nested': True})

    [nested] = captured
    assert type(nested) is EnrichedActionRequest
    assert (nested.action, nested.body) == ('capture', {'nested': True})
    assert nested.switches == frozenset({3})
    assert nested.context == {'correlation_id': 'corr', 'switches': [3]}
    assert nested.control == {'continue_on_error': True}
    assert nested.client is client
    assert nested.run_coroutine is run_coroutine
    assert nested._server is request._server


def test_call_local_action_copies_fields_of_request_subclasses(captured: List[EnrichedActionRequest]) -> None:
    @attr.s
    class CustomRequest(EnrichedActionRequest):
        tenant: str = attr.ib(default='none')

    request = CustomRequest(action='caller', tenant='acme')
    request._server = make_server({'capture': CaptureRequestAction})

    request.call_local_action('capture', {})

    [nested] = captured
    assert type(nested) is CustomRequest
    assert nested.tenant == 'acme'


def test_call_local_action_adds_the_given_context_to_a_copy(captured: List[EnrichedActionRequest]) -> None:
    request = local_request()

    request.call_local_action('capture', {}, context={'extra': 'value', 'correlation_id': 'override'})

    assert captured[0].context == {'correlation_id': 'override', 'switches': [3], 'extra': 'value'}
    assert request.context == {'correlation_id': 'corr', 'switches': [3]}


def test_call_local_action_leaves_the_calling_request_unchanged() -> None:
    request = local_request()

    request.call_local_action('double', {'value': 1})

    assert (request.action, request.body) == ('caller', {'caller': True})


def test_call_local_action_can_run_the_built_in_actions() -> None:
    response = local_request().call_local_action('introspect', {'action_name': 'double'})

    assert response.body['action_names'] == ['double']


def test_call_local_action_raises_an_unknown_action_error_that_is_not_a_caller_error() -> None:
    with pytest.raises(ActionError) as exc_info:
        local_request().call_local_action('missing', {})

    assert exc_info.value.errors == [
        Error(
            code='UNKNOWN',
            message='The action "missing" was not found on this server.',
            field='action',
            is_caller_error=False,
        )
    ]


def test_call_local_action_can_return_the_unknown_action_error() -> None:
    response = local_request().call_local_action('missing', {}, raise_action_errors=False)

    assert response == ActionResponse(
        action='missing',
        errors=[
            Error(
                code='UNKNOWN',
                message='The action "missing" was not found on this server.',
                field='action',
                is_caller_error=False,
            )
        ],
    )


NO_SERVER_ERROR = Error(
    code='SERVER_ERROR',
    message="No `_server` attribute set on action request object (and can't make request without it)",
    is_caller_error=False,
)


def test_call_local_action_without_a_server_raises_a_server_error() -> None:
    with pytest.raises(ActionError) as exc_info:
        EnrichedActionRequest(action='caller').call_local_action('double', {'value': 1})

    assert exc_info.value.errors == [NO_SERVER_ERROR]


def test_call_local_action_without_a_server_can_return_the_server_error() -> None:
    response = EnrichedActionRequest(action='caller').call_local_action('double', {}, raise_action_errors=False)

    assert response == ActionResponse(action='double', errors=[NO_SERVER_ERROR])


def test_call_local_action_reraises_the_action_error_of_the_action_unchanged() -> None:
    with pytest.raises(ActionError) as exc_info:
        local_request().call_local_action('fail', {}, is_caller_error=False)

    assert exc_info.value.errors == [Error(code='FAILED', message='It failed', field='value', is_caller_error=True)]


def test_call_local_action_can_return_the_action_error_of_the_action() -> None:
    response = local_request().call_local_action('fail', {}, raise_action_errors=False)

    assert response == ActionResponse(
        action='fail',
        errors=[
            Error(code='FAILED', message='It failed', field='value', is_caller_error=True),
        ],
    )


def test_call_local_action_raises_returned_errors_as_server_errors_by_default() -> None:
    with pytest.raises(ActionError) as exc_info:
        local_request().call_local_action('soft', {})

    assert exc_info.value.errors == [Error(code='SOFT', message='Returned', is_caller_error=False)]


def test_call_local_action_raises_returned_errors_with_the_requested_caller_flag() -> None:
    with pytest.raises(ActionError) as exc_info:
        local_request().call_local_action('soft', {}, is_caller_error=True)

    assert exc_info.value.errors == [Error(code='SOFT', message='Returned', is_caller_error=True)]


def test_call_local_action_can_return_returned_errors_unchanged() -> None:
    response = local_request().call_local_action('soft', {}, raise_action_errors=False, is_caller_error=True)

    assert response.errors == [Error(code='SOFT', message='Returned', is_caller_error=False)]


def test_call_local_action_runs_no_middleware() -> None:
    class CallingAction(Action):
        def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
            return request.call_local_action('echo', {'inner': True}).body

    server = make_server(
        {'calling': CallingAction, 'echo': EchoAction},
        middleware=[{'path': MIDDLEWARE_PATH, 'kwargs': {'name': 'mw'}}],
    )
    [middleware] = server.middleware
    assert isinstance(middleware, RecordingMiddleware)

    response = server.process_job(job_request(action('calling')))

    assert response.actions[0].body == {'inner': True, 'mw_out': True}
    assert [entry for entry in middleware.log if ' action ' in entry] == [
        'mw action calling in, body {}',
        "mw action calling out, body {'inner': True}",
    ]


def test_call_local_action_records_no_metrics() -> None:
    server = make_server({'soft': returning_errors})
    request = local_request(server)

    request.call_local_action('soft', {}, raise_action_errors=False)
    request.call_local_action('missing', {}, raise_action_errors=False)

    assert server.metrics.get_all_metrics() == []  # type: ignore[attr-defined]


# The client of a request ----------------------------------------------------------------------------------------------


class ClientAction(Action):
    """Keeps the clients of its requests in ``clients``."""

    clients: List[Client] = []

    def run(self, request: EnrichedActionRequest) -> None:
        assert request.client is not None
        self.clients.append(request.client)


@pytest.fixture
def clients() -> List[Client]:
    ClientAction.clients = []
    return ClientAction.clients


def test_request_client_carries_the_request_context_and_the_calling_service(clients: List[Client]) -> None:
    server = make_server({'client': ClientAction})

    server.process_job(
        job_request(
            action('client'),
            correlation_id='corr-7',
            switches=[2, 9],
            context={'caller': 'tests', 'custom': 1},
        )
    )

    [client] = clients
    assert isinstance(client, Client)
    assert client.context == {
        'correlation_id': 'corr-7',
        'switches': [2, 9],
        'caller': 'tests',
        'custom': 1,
        'calling_service': 'test_service',
    }


def test_request_client_is_configured_from_client_routing(clients: List[Client]) -> None:
    routing = {
        'other': {
            'transport': {
                'path': LOCAL_TRANSPORT_PATH,
                'kwargs': {
                    'server_class': make_server_class(service_name='other'),
                    'server_settings': {},
                },
            }
        }
    }
    server = make_server({'client': ClientAction}, client_routing=routing)

    server.process_job(job_request(action('client')))

    [client] = clients
    assert set(client.settings) == {'other'}


def test_one_client_serves_all_actions_of_a_job_and_each_job_gets_its_own(clients: List[Client]) -> None:
    server = make_server({'client': ClientAction})

    server.process_job(job_request(action('client'), action('client')))
    server.process_job(job_request(action('client')))

    assert clients[0] is clients[1]
    assert clients[2] is not clients[0]


def test_nested_calls_through_the_request_client_carry_correlation_id_switches_and_calling_service() -> None:
    class ContextAction(Action):
        def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
            return {'context': request.context}

    class ForwardingAction(Action):
        def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
            assert request.client is not None
            return request.client.call_action('inner', 'context').body

    inner_server_class = make_server_class({'context': ContextAction}, service_name='inner')
    routing = {
        'inner': {
            'transport': {
                'path': LOCAL_TRANSPORT_PATH,
                'kwargs': {
                    'server_class': inner_server_class,
                    'server_settings': {},
                },
            }
        }
    }
    server = make_server({'forward': ForwardingAction}, client_routing=routing)

    response = server.process_job(job_request(action('forward'), correlation_id='corr-5', switches=[4]))

    assert response.actions[0].errors == []
    nested_context = response.actions[0].body['context']
    assert nested_context['correlation_id'] == 'corr-5'
    assert nested_context['switches'] == [4]
    assert nested_context['calling_service'] == 'test_service'


def test_make_client_copies_the_context_adds_extra_context_and_calling_service() -> None:
    server = make_server()
    context = {'correlation_id': 'c', 'calling_service': 'someone_else'}

    client = server.make_client(context, extra_context={'extra': True})

    assert client.context == {'correlation_id': 'c', 'calling_service': 'test_service', 'extra': True}
    assert context == {'correlation_id': 'c', 'calling_service': 'someone_else'}


def test_make_client_uses_the_client_class_and_passes_keyword_arguments() -> None:
    class CustomClient(Client):
        pass

    server = make_server(server_class=make_server_class(client_class=CustomClient))

    client = server.make_client({}, expansion_config={'type_routes': {}, 'type_expansions': {}})

    assert type(client) is CustomClient
    assert client.expansion_converter is not None
