"""
Server job processing: validating the job request, running its actions in order, job-level outcomes (job errors,
harakiri, crashes) and job middleware.
"""

from typing import (
    Any,
    Callable,
    Dict,
    List,
)

import pytest
from conformity import fields
from conformity.settings import Settings

from pysoa.common.errors import Error
from pysoa.common.types import (
    ActionResponse,
    JobResponse,
)
from pysoa.server.action import Action
from pysoa.server.errors import (
    ActionError,
    JobError,
)
from pysoa.server.middleware import (
    ServerMiddleware,
    ServerMiddlewareJobTask,
)
from pysoa.server.server import (
    HarakiriInterrupt,
    Server,
)
from pysoa.server.types import (
    EnrichedActionRequest,
    EnrichedJobRequest,
)
from tests.unit.server.services import (
    MIDDLEWARE_PATH,
    FailingAction,
    RecordingMiddleware,
    action,
    job_request,
    make_server,
    raising,
    run_job,
    shared_log,
)


def validation_errors(job: Any) -> List[Error]:
    server = make_server()
    response = server.process_job(job)
    assert response.actions == []
    assert response.context == {}
    return response.errors


class RecordingAction(Action):
    """Records the body of every request it runs, in ``ran``."""

    ran: List[Dict[str, Any]] = []

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        self.ran.append(request.body)
        return {'ran': True}


@pytest.fixture
def ran() -> List[Dict[str, Any]]:
    RecordingAction.ran = []
    return RecordingAction.ran


# Validation -----------------------------------------------------------------------------------------------------------


def test_valid_job_request_produces_no_job_errors() -> None:
    response = make_server().process_job(job_request(action('echo', value=1)))

    assert response == JobResponse(
        context={'correlation_id': 'correlation-1'},
        actions=[ActionResponse(action='echo', body={'value': 1})],
    )


def test_empty_action_list_is_invalid() -> None:
    job = job_request()
    job['actions'] = []

    assert validation_errors(job) == [
        Error(code='INVALID', message='List is shorter than 1', field='actions', is_caller_error=False),
    ]


def test_missing_correlation_id_points_at_context_correlation_id() -> None:
    job = job_request()
    del job['context']['correlation_id']

    assert validation_errors(job) == [
        Error(code='MISSING', message='Missing key: correlation_id', field='context.correlation_id'),
    ]


def test_missing_switches_points_at_context_switches() -> None:
    job = job_request()
    del job['context']['switches']

    assert validation_errors(job) == [Error(code='MISSING', message='Missing key: switches', field='context.switches')]


def test_non_integer_switch_points_at_the_switch() -> None:
    job = job_request(switches=[1, 'two'])  # type: ignore[list-item]

    assert validation_errors(job) == [Error(code='INVALID', message='Not an integer', field='context.switches.1')]


def test_non_string_correlation_id_is_invalid() -> None:
    job = job_request()
    job['context']['correlation_id'] = 123

    assert validation_errors(job) == [
        Error(code='INVALID', message='Not a unicode string', field='context.correlation_id'),
    ]


def test_missing_continue_on_error_points_at_control_continue_on_error() -> None:
    job = job_request()
    del job['control']['continue_on_error']

    assert validation_errors(job) == [
        Error(code='MISSING', message='Missing key: continue_on_error', field='control.continue_on_error'),
    ]


def test_non_boolean_suppress_response_is_invalid() -> None:
    job = job_request(control={'suppress_response': 'yes'})

    assert validation_errors(job) == [
        Error(code='INVALID', message='Not a boolean', field='control.suppress_response'),
    ]


def test_action_without_name_points_at_the_action_name() -> None:
    job = job_request(action('echo'), {'body': {}})

    assert validation_errors(job) == [Error(code='MISSING', message='Missing key: action', field='actions.1.action')]


def test_non_string_action_name_is_invalid() -> None:
    job = job_request({'action': 5})

    assert validation_errors(job) == [
        Error(code='INVALID', message='Not a unicode string', field='actions.0.action'),
    ]


def test_non_dict_action_body_is_invalid() -> None:
    job = job_request({'action': 'echo', 'body': ['not', 'a', 'dict']})

    assert validation_errors(job) == [Error(code='INVALID', message='Not a dict', field='actions.0.body')]


def test_extra_key_in_an_action_request_is_unknown() -> None:
    job = job_request({'action': 'echo', 'bodee': {}})

    assert validation_errors(job) == [Error(code='UNKNOWN', message='Extra keys present: bodee', field='actions.0')]


def test_extra_top_level_key_is_unknown_without_field() -> None:
    job = job_request()
    job['extra'] = True

    assert validation_errors(job) == [Error(code='UNKNOWN', message='Extra keys present: extra', field=None)]


def test_extra_control_and_context_keys_are_allowed() -> None:
    job = job_request(control={'timeout': 5, 'custom': 'x'}, context={'caller': 'me', 'custom': {'any': 'thing'}})

    assert make_server().process_job(job).errors == []


def test_non_dict_job_request_is_invalid() -> None:
    assert validation_errors(['not', 'a', 'dict']) == [Error(code='INVALID', message='Not a dict', field=None)]


def test_every_validation_problem_is_reported_at_once() -> None:
    job = {'control': {}, 'context': {'switches': []}, 'actions': []}

    assert sorted((e.field or '') for e in validation_errors(job)) == [
        'actions',
        'context.correlation_id',
        'control.continue_on_error',
    ]


def test_invalid_job_runs_no_action(ran: List[Dict[str, Any]]) -> None:
    server = make_server({'record': RecordingAction})
    job = job_request(action('record'))
    del job['context']['switches']

    response = server.process_job(job)

    assert response.errors
    assert ran == []


def test_validation_errors_reach_the_client_as_job_errors_without_is_caller_error_flag_set() -> None:
    job = job_request()
    job['actions'] = []

    response = run_job(make_server(), job)

    assert response == {
        'errors': [
            {
                'code': 'INVALID',
                'message': 'List is shorter than 1',
                'field': 'actions',
                'traceback': None,
                'variables': None,
                'denied_permissions': None,
                'is_caller_error': False,
            }
        ],
        'context': {},
        'actions': [],
    }


# Running actions ------------------------------------------------------------------------------------------------------


def test_actions_run_in_order_and_responses_keep_that_order(ran: List[Dict[str, Any]]) -> None:
    server = make_server({'record': RecordingAction})

    response = server.process_job(job_request(action('record', n=1), action('record', n=2), action('record', n=3)))

    assert ran == [{'n': 1}, {'n': 2}, {'n': 3}]
    assert [a.body for a in response.actions] == [{'ran': True}] * 3


def test_first_failing_action_stops_the_job_without_continue_on_error(ran: List[Dict[str, Any]]) -> None:
    server = make_server({'record': RecordingAction, 'fail': FailingAction})

    response = server.process_job(job_request(action('record', n=1), action('fail'), action('record', n=2)))

    assert ran == [{'n': 1}]
    assert [(a.action, [e.code for e in a.errors]) for a in response.actions] == [('record', []), ('fail', ['FAILED'])]


def test_continue_on_error_runs_every_action(ran: List[Dict[str, Any]]) -> None:
    server = make_server({'record': RecordingAction, 'fail': FailingAction})

    response = server.process_job(
        job_request(
            action('fail'),
            action('record', n=1),
            action('fail'),
            action('record', n=2),
            continue_on_error=True,
        )
    )

    assert ran == [{'n': 1}, {'n': 2}]
    assert [(a.action, [e.code for e in a.errors]) for a in response.actions] == [
        ('fail', ['FAILED']),
        ('record', []),
        ('fail', ['FAILED']),
        ('record', []),
    ]


def test_unknown_action_stops_the_job_without_continue_on_error(ran: List[Dict[str, Any]]) -> None:
    server = make_server({'record': RecordingAction})

    response = server.process_job(job_request(action('missing'), action('record', n=1)))

    assert [a.action for a in response.actions] == ['missing']
    assert ran == []


def test_crashing_action_stops_the_job_without_continue_on_error(ran: List[Dict[str, Any]]) -> None:
    server = make_server({'crash': raising(RuntimeError('boom')), 'record': RecordingAction})

    response = server.process_job(job_request(action('crash'), action('record', n=1)))

    assert [(a.action, [e.code for e in a.errors]) for a in response.actions] == [('crash', ['SERVER_ERROR'])]
    assert ran == []


def test_correlation_id_is_copied_into_the_response_context() -> None:
    response = make_server().process_job(job_request(correlation_id='abc-123', context={'other': 'not copied'}))

    assert response.context == {'correlation_id': 'abc-123'}


def test_every_action_sees_the_job_switches_context_and_control() -> None:
    seen: List[Any] = []

    class InspectingAction(Action):
        def run(self, request: EnrichedActionRequest) -> None:
            seen.append((request.action, set(request.switches), request.context, request.control))

    server = make_server({'inspect': InspectingAction})
    server.process_job(
        job_request(
            action('inspect'),
            action('inspect'),
            switches=[3, 7],
            context={'caller': 'me'},
            control={'extra': 1},
        )
    )

    expected_context = {'correlation_id': 'correlation-1', 'switches': [3, 7], 'caller': 'me'}
    expected_control = {'continue_on_error': False, 'extra': 1}
    assert seen == [('inspect', {3, 7}, expected_context, expected_control)] * 2


# Job-level outcomes ---------------------------------------------------------------------------------------------------


def test_job_error_from_an_action_replaces_the_whole_response(ran: List[Dict[str, Any]]) -> None:
    errors = [Error(code='JOB_BROKEN', message='Broken')]
    server = make_server({'record': RecordingAction, 'job_error': raising(JobError(errors))})

    response = server.process_job(job_request(action('record', n=1), action('job_error'), continue_on_error=True))

    # KEEP (spec 17.16): earlier action results and the correlation id are not returned.
    assert response == JobResponse(errors=[Error(code='JOB_BROKEN', message='Broken', is_caller_error=False)])
    assert ran == [{'n': 1}]


def test_job_error_keeps_the_caller_error_flag_it_was_given() -> None:
    errors = [Error(code='BAD_JOB', message='Your fault')]
    server = make_server({'job_error': raising(JobError(errors, set_is_caller_error_to=True))})

    response = server.process_job(job_request(action('job_error')))

    assert response.errors == [Error(code='BAD_JOB', message='Your fault', is_caller_error=True)]


def test_harakiri_in_an_action_times_the_action_out_and_stops_the_job(ran: List[Dict[str, Any]]) -> None:
    server = make_server({'slow': raising(HarakiriInterrupt()), 'record': RecordingAction})

    response = server.process_job(job_request(action('slow'), action('record', n=1), continue_on_error=True))

    assert response == JobResponse(
        context={'correlation_id': 'correlation-1'},
        actions=[
            ActionResponse(
                action='slow',
                errors=[
                    Error(
                        code='ACTION_TIMEOUT',
                        message='The action "slow" ran for too long and had to be interrupted.',
                        is_caller_error=False,
                    )
                ],
            )
        ],
    )
    assert ran == []


THIS_MODULE = 'tests.unit.server.test_server_jobs'


@fields.ClassConfigurationSchema.provider(
    fields.Dictionary({'raises': fields.Constant('harakiri', 'job_error', 'key_error', 'action_error')}),
)
class RaisingJobMiddleware(ServerMiddleware):
    """Job middleware that raises instead of processing the job."""

    def __init__(self, raises: str) -> None:
        self.raises = raises

    def job(self, process_job: ServerMiddlewareJobTask) -> ServerMiddlewareJobTask:
        def handle(request: EnrichedJobRequest) -> JobResponse:
            if self.raises == 'harakiri':
                raise HarakiriInterrupt()
            if self.raises == 'job_error':
                raise JobError([Error(code='NOPE', message='Not allowed')])
            if self.raises == 'action_error':
                raise ActionError([Error(code='X', message='Y')])
            raise KeyError('missing')

        return handle


def server_with_job_middleware_raising(raises: str) -> Server:
    return make_server(middleware=[{'path': f'{THIS_MODULE}:RaisingJobMiddleware', 'kwargs': {'raises': raises}}])


def test_harakiri_in_job_middleware_times_the_job_out() -> None:
    server = server_with_job_middleware_raising('harakiri')

    response = server.process_job(job_request())

    assert response == JobResponse(
        errors=[
            Error(
                code='JOB_TIMEOUT',
                message='The service job ran for too long and had to be interrupted (probably a middleware issue).',
                is_caller_error=False,
            )
        ]
    )


def test_job_error_from_job_middleware_replaces_the_whole_response() -> None:
    server = server_with_job_middleware_raising('job_error')

    assert server.process_job(job_request()) == JobResponse(errors=[Error(code='NOPE', message='Not allowed')])


def test_exception_in_job_middleware_becomes_a_job_server_error() -> None:
    server = server_with_job_middleware_raising('key_error')

    response = server.process_job(job_request())

    assert response.actions == []
    assert response.context == {}
    [error] = response.errors
    assert (error.code, error.message, error.is_caller_error) == (
        'SERVER_ERROR',
        "Internal server error: 'missing'",
        False,
    )
    assert error.traceback is not None and "KeyError: 'missing'" in error.traceback


def test_action_error_from_job_middleware_is_an_unexpected_exception() -> None:
    server = server_with_job_middleware_raising('action_error')

    [error] = server.process_job(job_request()).errors

    assert error.code == 'SERVER_ERROR'


# Job middleware -------------------------------------------------------------------------------------------------------


def recording_middleware(*names: str) -> List[Dict[str, Any]]:
    return [{'path': MIDDLEWARE_PATH, 'kwargs': {'name': name}} for name in names]


def test_middleware_instances_are_built_from_settings_in_configured_order() -> None:
    server = make_server(middleware=recording_middleware('outer', 'inner'))

    assert [type(m) for m in server.middleware] == [RecordingMiddleware, RecordingMiddleware]
    assert [m.name for m in server.middleware] == ['outer', 'inner']  # type: ignore[attr-defined]


def test_first_configured_job_middleware_is_outermost() -> None:
    server = make_server(middleware=recording_middleware('outer', 'inner'))
    log = shared_log(server)

    server.process_job(job_request())

    assert [entry for entry in log if ' job ' in entry] == [
        'outer job in, request marked by []',
        "inner job in, request marked by ['outer']",
        'inner job out, response marked by []',
        "outer job out, response marked by ['inner']",
    ]


def test_job_middleware_changes_to_the_request_reach_the_actions() -> None:
    seen: List[Any] = []

    class ContextAction(Action):
        def run(self, request: EnrichedActionRequest) -> None:
            seen.append(request.context.get('marks'))

    server = make_server({'context': ContextAction}, middleware=recording_middleware('outer', 'inner'))
    server.process_job(job_request(action('context')))

    assert seen == [['outer', 'inner']]


class CapturingJobMiddleware(ServerMiddleware):
    """Keeps every job request it sees in ``received``."""

    def __init__(self) -> None:
        self.received: List[EnrichedJobRequest] = []

    def job(self, process_job: ServerMiddlewareJobTask) -> ServerMiddlewareJobTask:
        def handle(request: EnrichedJobRequest) -> JobResponse:
            self.received.append(request)
            return process_job(request)

        return handle


class AnsweringJobMiddleware(ServerMiddleware):
    """Answers every job itself."""

    def job(self, process_job: ServerMiddlewareJobTask) -> ServerMiddlewareJobTask:
        return lambda request: JobResponse(context={'answered_by': 'middleware'})


def test_job_middleware_receives_an_enriched_job_request() -> None:
    server = make_server(middleware=[{'path': f'{THIS_MODULE}:CapturingJobMiddleware'}])
    server.process_job(job_request(action('echo', a=1), switches=[4]))

    [request] = server.middleware[0].received  # type: ignore[attr-defined]
    assert isinstance(request, EnrichedJobRequest)
    assert request.control == {'continue_on_error': False}
    assert request.context == {'correlation_id': 'correlation-1', 'switches': [4]}
    assert [(a.action, a.body) for a in request.actions] == [('echo', {'a': 1})]
    assert request.client is not None
    assert request.run_coroutine is not None


def test_job_middleware_can_answer_without_running_the_actions(ran: List[Dict[str, Any]]) -> None:
    server = make_server({'record': RecordingAction}, middleware=[{'path': f'{THIS_MODULE}:AnsweringJobMiddleware'}])

    response = server.process_job(job_request(action('record')))

    assert response == JobResponse(context={'answered_by': 'middleware', 'correlation_id': 'correlation-1'})
    assert ran == []


def test_make_middleware_stack_puts_the_first_wrapper_outermost() -> None:
    def wrapper(name: str) -> Callable[[Callable[[str], str]], Callable[[str], str]]:
        return lambda inner: lambda value: f'{name}({inner(value)})'

    stack = Server.make_middleware_stack([wrapper('a'), wrapper('b')], lambda value: value)

    assert stack('x') == 'a(b(x))'


def test_middleware_kwargs_are_validated_against_the_middleware_schema() -> None:
    with pytest.raises(Settings.ImproperlyConfigured):
        make_server(middleware=[{'path': MIDDLEWARE_PATH, 'kwargs': {'name': 5}}])
    with pytest.raises(Settings.ImproperlyConfigured):
        make_server(middleware=[{'path': MIDDLEWARE_PATH, 'kwargs': {}}])


def test_base_middleware_accepts_no_kwargs() -> None:
    with pytest.raises(Settings.ImproperlyConfigured):
        make_server(middleware=[{'path': 'pysoa.server.middleware:ServerMiddleware', 'kwargs': {'x': 1}}])


def test_base_middleware_passes_jobs_and_actions_through_unchanged() -> None:
    def process(request: Any) -> Any:
        return request

    middleware = ServerMiddleware()

    assert middleware.job(process) is process
    assert middleware.action(process) is process
