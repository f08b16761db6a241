"""
Server action handling: finding the action for a name (the action class map, the built-in ``status`` and
``introspect`` actions), turning what an action raises into its response, and action middleware.
"""

from typing import (
    Any,
    Callable,
    Dict,
    List,
    Optional,
)

from conformity import fields

from pysoa.common.errors import Error
from pysoa.common.types import ActionResponse
from pysoa.server.action import Action
from pysoa.server.action.introspection import IntrospectionAction
from pysoa.server.action.status import BaseStatusAction
from pysoa.server.errors import ActionError
from pysoa.server.middleware import (
    ServerMiddleware,
    ServerMiddlewareActionTask,
)
from pysoa.server.server import Server
from pysoa.server.types import EnrichedActionRequest
from pysoa.version import __version__
from tests.unit.server.services import (
    MIDDLEWARE_PATH,
    EchoAction,
    action,
    job_request,
    make_server,
    make_server_class,
    raising,
    shared_log,
)


def run_action(server: Server, name: str, /, **body: Any) -> ActionResponse:
    """Run one action in a job through ``process_job`` and return its response."""
    response = server.process_job(job_request(action(name, **body)))
    assert response.errors == []
    [action_response] = response.actions
    return action_response


# Finding the action ---------------------------------------------------------------------------------------------------


def test_mapped_action_class_is_built_with_the_server_settings() -> None:
    built_with: List[Any] = []

    class SettingsAction(Action):
        def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
            built_with.append(self.settings)
            return {'ok': True}

    server = make_server({'settings': SettingsAction})

    assert run_action(server, 'settings') == ActionResponse(action='settings', body={'ok': True})
    assert built_with == [server.settings]
    assert built_with[0] is server.settings


def test_any_factory_returning_a_callable_can_be_mapped() -> None:
    def factory(settings: Any) -> Callable[[EnrichedActionRequest], ActionResponse]:
        return lambda request: ActionResponse(action=request.action, body={'factory': True, **request.body})

    server = make_server({'plain': factory})

    assert run_action(server, 'plain', x=1) == ActionResponse(action='plain', body={'factory': True, 'x': 1})


def test_a_new_action_object_serves_each_request() -> None:
    instances: List[Action] = []

    class CountingAction(Action):
        def run(self, request: EnrichedActionRequest) -> None:
            instances.append(self)

    server = make_server({'count': CountingAction})
    server.process_job(job_request(action('count'), action('count')))

    assert len(instances) == 2
    assert instances[0] is not instances[1]


def test_status_is_built_in() -> None:
    response = run_action(make_server(), 'status', verbose=False)

    assert response.errors == []
    assert response.body['pysoa'] == __version__
    assert 'healthcheck' not in response.body


def test_introspect_is_built_in() -> None:
    response = run_action(make_server({'echo': EchoAction}), 'introspect')

    assert response.body['action_names'] == ['echo', 'introspect', 'status']


def test_mapped_status_action_replaces_the_built_in_one() -> None:
    def my_status(settings: Any) -> Callable[[EnrichedActionRequest], ActionResponse]:
        return lambda request: ActionResponse(action='status', body={'mine': True})

    assert run_action(make_server({'status': my_status}), 'status').body == {'mine': True}


def test_mapped_introspect_action_replaces_the_built_in_one() -> None:
    def my_introspect(settings: Any) -> Callable[[EnrichedActionRequest], ActionResponse]:
        return lambda request: ActionResponse(action='introspect', body={'mine': True})

    assert run_action(make_server({'introspect': my_introspect}), 'introspect').body == {'mine': True}


def test_introspection_action_attribute_is_called_with_the_server() -> None:
    called_with: List[Server] = []

    def introspection(server: Server) -> Callable[[EnrichedActionRequest], ActionResponse]:
        called_with.append(server)
        return lambda request: ActionResponse(action='introspect', body={'custom': True})

    server_class = make_server_class({}, introspection_action=staticmethod(introspection))
    server = make_server(server_class=server_class)

    assert run_action(server, 'introspect').body == {'custom': True}
    assert called_with == [server]


def test_get_action_factory_returns_the_mapped_factory() -> None:
    server = make_server({'echo': EchoAction})

    assert server.get_action_factory('echo') is EchoAction


def test_get_action_factory_builds_introspection_for_this_server() -> None:
    server = make_server()

    factory = server.get_action_factory('introspect')

    assert factory is not None
    introspection = factory(server.settings)
    assert isinstance(introspection, IntrospectionAction)
    assert introspection.server is server


def test_get_action_factory_returns_a_status_action_class_cached_per_server_class() -> None:
    server_class = make_server_class()
    other_class = make_server_class()

    first: Optional[Any] = make_server(server_class=server_class).get_action_factory('status')
    second = make_server(server_class=server_class).get_action_factory('status')
    other = make_server(server_class=other_class).get_action_factory('status')

    assert isinstance(first, type) and issubclass(first, BaseStatusAction)
    assert second is first
    assert other is not first


def test_get_action_factory_returns_none_for_an_unknown_action() -> None:
    assert make_server().get_action_factory('missing') is None


def test_unknown_action_is_a_caller_error_on_the_action_field() -> None:
    response = make_server().process_job(job_request(action('missing')))

    assert response.errors == []
    assert response.actions == [
        ActionResponse(
            action='missing',
            errors=[
                Error(
                    code='UNKNOWN',
                    message='The action "missing" was not found on this server.',
                    field='action',
                    is_caller_error=True,
                )
            ],
        )
    ]


def test_action_class_map_may_be_any_mapping() -> None:
    class LazyMap:
        def __contains__(self, name: object) -> bool:
            return name == 'lazy'

        def __getitem__(self, name: str) -> Any:
            return EchoAction

    server = make_server(server_class=make_server_class({}, action_class_map=LazyMap()))

    assert run_action(server, 'lazy', a=1).body == {'a': 1}
    assert server.process_job(job_request(action('other'))).actions[0].errors[0].code == 'UNKNOWN'


# Outcomes -------------------------------------------------------------------------------------------------------------


def failed_action(server: Server, name: str) -> ActionResponse:
    response = server.process_job(job_request(action(name)))
    assert response.errors == []
    [action_response] = response.actions
    assert action_response.action == name
    assert action_response.body == {}
    return action_response


def test_action_error_becomes_the_action_response_errors_flagged_as_caller_errors() -> None:
    server = make_server(
        {
            'fail': raising(
                ActionError(
                    [
                        Error(code='ONE', message='First', field='a'),
                        Error(code='TWO', message='Second', is_caller_error=True),
                    ]
                )
            )
        }
    )

    assert failed_action(server, 'fail').errors == [
        Error(code='ONE', message='First', field='a', is_caller_error=True),
        Error(code='TWO', message='Second', is_caller_error=True),
    ]


def test_action_error_can_flag_its_errors_as_server_errors() -> None:
    errors = [Error(code='ONE', message='First', is_caller_error=True)]
    server = make_server({'fail': raising(ActionError(errors, set_is_caller_error_to=False))})

    assert failed_action(server, 'fail').errors == [Error(code='ONE', message='First', is_caller_error=False)]


def test_action_error_can_keep_each_error_flag_as_given() -> None:
    errors = [Error(code='ONE', message='First'), Error(code='TWO', message='Second', is_caller_error=True)]
    server = make_server({'fail': raising(ActionError(errors, set_is_caller_error_to=None))})

    assert failed_action(server, 'fail').errors == errors


def test_unexpected_exception_becomes_a_server_error_with_traceback() -> None:
    server = make_server({'crash': raising(ValueError('bad value'))})

    [error] = failed_action(server, 'crash').errors

    assert (error.code, error.message, error.field, error.variables, error.is_caller_error) == (
        'SERVER_ERROR',
        'Internal server error: bad value',
        None,
        None,
        False,
    )
    assert error.traceback is not None
    assert error.traceback.startswith('Traceback (most recent call last):')
    assert 'ValueError: bad value' in error.traceback


def test_exception_creating_the_action_becomes_a_server_error() -> None:
    def broken_factory(settings: Any) -> Any:
        raise RuntimeError('cannot build')

    [error] = failed_action(make_server({'broken': broken_factory}), 'broken').errors

    assert (error.code, error.message) == ('SERVER_ERROR', 'Internal server error: cannot build')


def test_invalid_response_body_becomes_a_server_error_describing_the_problem() -> None:
    class BadResponseAction(Action):
        response_schema = fields.Dictionary({'count': fields.Integer()})

        def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
            return {'count': 'many'}

    [error] = failed_action(make_server({'bad_response': BadResponseAction}), 'bad_response').errors

    assert error.code == 'SERVER_ERROR'
    assert error.message == (
        'Internal server error: bad_response had an invalid response:\n\tcount INVALID: Not an integer'
    )
    assert error.is_caller_error is False


def test_invalid_request_body_becomes_caller_errors_from_the_action_schema() -> None:
    class SchemaAction(Action):
        request_schema = fields.Dictionary({'name': fields.UnicodeString()})

        def run(self, request: EnrichedActionRequest) -> None:
            return None

    response = make_server({'schema': SchemaAction}).process_job(job_request(action('schema', name=5)))

    assert response.actions[0].errors == [
        Error(code='INVALID', message='Not a unicode string', field='name', is_caller_error=True),
    ]


# Action middleware ----------------------------------------------------------------------------------------------------


def server_with_recording_middleware(*names: str, actions: Optional[Dict[str, Any]] = None) -> Server:
    return make_server(actions, middleware=[{'path': MIDDLEWARE_PATH, 'kwargs': {'name': n}} for n in names])


def test_first_configured_action_middleware_is_outermost() -> None:
    server = server_with_recording_middleware('outer', 'inner')
    log = shared_log(server)

    response = server.process_job(job_request(action('echo', a=1)))

    assert [entry for entry in log if ' action ' in entry] == [
        "outer action echo in, body {'a': 1}",
        "inner action echo in, body {'a': 1, 'outer': True}",
        "inner action echo out, body {'a': 1, 'outer': True, 'inner': True}",
        "outer action echo out, body {'a': 1, 'outer': True, 'inner': True, 'inner_out': True}",
    ]
    assert response.actions[0].body == {'a': 1, 'outer': True, 'inner': True, 'inner_out': True, 'outer_out': True}


def test_action_middleware_wraps_every_action_of_the_job() -> None:
    server = server_with_recording_middleware('only')
    log = shared_log(server)

    server.process_job(job_request(action('echo', n=1), action('echo', n=2)))

    assert [entry for entry in log if ' in,' in entry and ' action ' in entry] == [
        "only action echo in, body {'n': 1}",
        "only action echo in, body {'n': 2}",
    ]


def test_job_middleware_wraps_all_action_middleware() -> None:
    server = server_with_recording_middleware('first', 'second')
    log = shared_log(server)

    server.process_job(job_request(action('echo')))

    assert [entry.split(',')[0] for entry in log] == [
        'first job in',
        'second job in',
        'first action echo in',
        'second action echo in',
        'second action echo out',
        'first action echo out',
        'second job out',
        'first job out',
    ]


def test_action_middleware_is_not_run_for_unknown_actions() -> None:
    server = server_with_recording_middleware('only')
    log = shared_log(server)

    server.process_job(job_request(action('missing')))

    assert [entry for entry in log if ' action ' in entry] == []


class RejectingMiddleware(ServerMiddleware):
    """Action middleware that rejects every action."""

    def action(self, process_action: ServerMiddlewareActionTask) -> ServerMiddlewareActionTask:
        def reject(request: EnrichedActionRequest) -> ActionResponse:
            raise ActionError([Error(code='DENIED', message='No')])

        return reject


def test_action_error_from_action_middleware_becomes_the_action_errors() -> None:
    server = make_server(middleware=[{'path': 'tests.unit.server.test_server_actions:RejectingMiddleware'}])

    assert failed_action(server, 'echo').errors == [Error(code='DENIED', message='No', is_caller_error=True)]
