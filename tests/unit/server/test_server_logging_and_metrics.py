"""
What the server logs for every request (censored ``Job request:`` / ``Job response:`` lines on ``pysoa.server.job``),
the logging context it provides to actions, and the metrics it records for errors.
"""

import logging
from typing import (
    Any,
    Dict,
    List,
    Tuple,
)

import pytest

from pysoa.common.errors import Error
from pysoa.common.logging import PySOALogContextFilter
from pysoa.common.serializer.errors import InvalidField
from pysoa.common.transport.errors import MessageTooLarge
from pysoa.common.types import (
    ActionResponse,
    JobResponse,
)
from pysoa.server.action import Action
from pysoa.server.errors import (
    JobError,
)
from pysoa.server.middleware import (
    ServerMiddleware,
    ServerMiddlewareJobTask,
)
from pysoa.server.server import HarakiriInterrupt
from pysoa.server.types import (
    EnrichedActionRequest,
    EnrichedJobRequest,
)
from tests.unit.server.services import (
    FailingAction,
    action,
    job_request,
    make_server,
    metrics_of,
    raising,
    run_job,
    transport_of,
)


CENSORED = "'**********'"


def job_log(caplog: pytest.LogCaptureFixture) -> List[Tuple[int, str]]:
    """The (level, first word pair) of every line logged on the job logger."""
    return [
        (r.levelno, ' '.join(r.getMessage().split(' ')[:2])) for r in caplog.records if r.name == 'pysoa.server.job'
    ]


def job_log_messages(caplog: pytest.LogCaptureFixture) -> List[str]:
    return [r.getMessage() for r in caplog.records if r.name == 'pysoa.server.job']


# Request and response lines -------------------------------------------------------------------------------------------


def test_request_and_successful_response_are_logged_at_the_success_level(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger='pysoa.server.job')
    server = make_server(request_log_success_level='DEBUG', request_log_error_level='WARNING')

    run_job(server, job_request(action('echo', greeting='hello')))

    assert job_log(caplog) == [(logging.DEBUG, 'Job request:'), (logging.DEBUG, 'Job response:')]
    request_line, response_line = job_log_messages(caplog)
    assert request_line == 'Job request: ' + repr(job_request(action('echo', greeting='hello')))
    assert response_line == 'Job response: ' + repr(
        {
            'errors': [],
            'context': {'correlation_id': 'correlation-1'},
            'actions': [{'action': 'echo', 'errors': [], 'body': {'greeting': 'hello'}}],
        }
    )


def test_request_and_response_are_logged_at_info_by_default(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger='pysoa.server.job')

    run_job(make_server({'fail': FailingAction}), job_request(action('echo')))
    run_job(make_server({'fail': FailingAction}), job_request(action('fail')))

    assert job_log(caplog) == [(logging.INFO, 'Job request:'), (logging.INFO, 'Job response:')] * 2


def test_response_with_action_errors_is_logged_at_the_error_level(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger='pysoa.server.job')
    server = make_server({'fail': FailingAction}, request_log_success_level='DEBUG', request_log_error_level='ERROR')

    run_job(server, job_request(action('fail')))

    assert job_log(caplog) == [(logging.DEBUG, 'Job request:'), (logging.ERROR, 'Job response:')]
    assert "'code': 'FAILED'" in job_log_messages(caplog)[1]


def test_response_with_job_errors_is_logged_at_the_error_level(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger='pysoa.server.job')
    server = make_server(request_log_success_level='DEBUG', request_log_error_level='ERROR')

    run_job(server, {'invalid': 'job'})

    assert job_log(caplog) == [(logging.DEBUG, 'Job request:'), (logging.ERROR, 'Job response:')]


def test_request_is_relogged_at_the_error_level_when_the_success_level_is_hidden(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger='pysoa.server.job')
    server = make_server({'fail': FailingAction}, request_log_success_level='DEBUG', request_log_error_level='WARNING')

    run_job(server, job_request(action('fail', attempt=1)))

    assert job_log(caplog) == [(logging.WARNING, 'Job request:'), (logging.WARNING, 'Job response:')]
    assert "'attempt': 1" in job_log_messages(caplog)[0]


def test_request_is_logged_once_when_the_success_level_is_visible(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger='pysoa.server.job')
    server = make_server({'fail': FailingAction}, request_log_success_level='DEBUG', request_log_error_level='WARNING')

    run_job(server, job_request(action('fail')))

    assert job_log(caplog) == [(logging.DEBUG, 'Job request:'), (logging.WARNING, 'Job response:')]


def test_successful_job_is_not_logged_when_the_success_level_is_hidden(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger='pysoa.server.job')
    server = make_server(request_log_success_level='DEBUG', request_log_error_level='WARNING')

    run_job(server, job_request())

    assert job_log(caplog) == []


def test_non_dict_request_is_logged_with_its_repr(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger='pysoa.server.job')

    run_job(make_server(), ['not', 'a', 'dict'])

    assert job_log_messages(caplog)[0] == "Job request: ['not', 'a', 'dict']"


# Censoring ------------------------------------------------------------------------------------------------------------


def test_sensitive_values_are_censored_in_request_and_response_lines(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger='pysoa.server.job')

    run_job(make_server(), job_request(action('echo', username='ann', password='hunter2')))

    request_line, response_line = job_log_messages(caplog)
    for line in (request_line, response_line):
        assert f"'password': {CENSORED}" in line
        assert "'username': 'ann'" in line
        assert 'hunter2' not in line


def test_censoring_applies_to_the_log_lines_only(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger='pysoa.server.job')
    server = make_server()
    job = job_request(action('echo', password='hunter2'))

    response = run_job(server, job)

    assert response['actions'][0]['body'] == {'password': 'hunter2'}
    assert job['actions'][0]['body'] == {'password': 'hunter2'}
    assert all('hunter2' not in line for line in job_log_messages(caplog))


def test_extra_fields_to_redact_are_censored_too(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger='pysoa.server.job')
    server = make_server(extra_fields_to_redact={'favorite_color'})

    run_job(server, job_request(action('echo', favorite_color='blue', password='hunter2', size='L')))

    request_line, response_line = job_log_messages(caplog)
    for line in (request_line, response_line):
        assert f"'favorite_color': {CENSORED}" in line
        assert f"'password': {CENSORED}" in line
        assert "'size': 'L'" in line


def test_fields_are_not_censored_unless_sensitive_or_configured(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger='pysoa.server.job')

    run_job(make_server(), job_request(action('echo', favorite_color='blue')))

    assert all("'favorite_color': 'blue'" in line for line in job_log_messages(caplog))


def test_request_relogged_at_the_error_level_is_censored_too(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger='pysoa.server.job')
    server = make_server({'fail': FailingAction}, request_log_success_level='DEBUG', request_log_error_level='WARNING')

    run_job(server, job_request(action('fail', password='hunter2')))

    assert f"'password': {CENSORED}" in job_log_messages(caplog)[0]


def test_logging_wrapper_class_censors_the_extra_fields() -> None:
    server = make_server(extra_fields_to_redact={'pin_code'})

    assert str(server.logging_dict_wrapper_class({'pin_code': '1234', 'other': 'x'})) == str(
        {'pin_code': '**********', 'other': 'x'},
    )


# Logging context ------------------------------------------------------------------------------------------------------


class LogContextAction(Action):
    """Returns the logging context attributes a record logged inside the action gets."""

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        record = logging.LogRecord('test', logging.INFO, __file__, 1, 'inside', None, None)
        PySOALogContextFilter().filter(record)
        return {
            'correlation_id': record.correlation_id,  # type: ignore[attr-defined]
            'request_id': record.request_id,  # type: ignore[attr-defined]
            'action_name': record.action_name,  # type: ignore[attr-defined]
            'context': PySOALogContextFilter.get_logging_request_context(),
        }


def test_records_logged_in_an_action_carry_correlation_id_request_id_and_action_name() -> None:
    server = make_server({'log_context': LogContextAction})

    response = run_job(server, job_request(action('log_context'), correlation_id='corr-9'), request_id=1234)

    body = response['actions'][0]['body']
    assert (body['correlation_id'], body['request_id'], body['action_name']) == ('corr-9', 1234, 'log_context')


def test_logging_context_holds_the_request_id_and_every_job_context_key() -> None:
    server = make_server({'log_context': LogContextAction})

    response = run_job(server, job_request(action('log_context'), switches=[5], context={'caller': 'x'}), request_id=8)

    assert response['actions'][0]['body']['context'] == {
        'request_id': 8,
        'correlation_id': 'correlation-1',
        'switches': [5],
        'caller': 'x',
    }


def test_logging_context_and_action_name_are_cleared_after_the_request() -> None:
    server = make_server({'log_context': LogContextAction})

    run_job(server, job_request(action('log_context')))

    assert PySOALogContextFilter.get_logging_request_context() is None
    assert PySOALogContextFilter.get_logging_action_name() is None


def test_logging_context_is_cleared_even_when_sending_fails() -> None:
    server = make_server()
    transport_of(server).fail_next_send(RuntimeError('transport exploded'))
    transport_of(server).queue_request(job_request())

    with pytest.raises(RuntimeError):
        server.handle_next_request()

    assert PySOALogContextFilter.get_logging_request_context() is None


def test_each_action_of_a_job_logs_under_its_own_name() -> None:
    server = make_server({'first': LogContextAction, 'second': LogContextAction})

    response = run_job(server, job_request(action('first'), action('second')))

    assert [a['body']['action_name'] for a in response['actions']] == ['first', 'second']


def test_unexpected_exception_is_logged_with_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    server = make_server({'crash': raising(ValueError('bad value'))})

    server.process_job(job_request(action('crash')))

    [record] = [r for r in caplog.records if r.name == 'pysoa.server']
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None and isinstance(record.exc_info[1], ValueError)


# Error metrics --------------------------------------------------------------------------------------------------------


def test_each_unexpected_action_exception_counts_an_unhandled_error() -> None:
    server = make_server({'crash': raising(ValueError('bad value'))})

    server.process_job(job_request(action('crash'), action('crash'), continue_on_error=True))

    assert metrics_of(server).counter_names() == ['server.error.unhandled_error']
    assert metrics_of(server).counter_value('server.error.unhandled_error') == 2


def test_action_errors_count_nothing() -> None:
    server = make_server({'fail': FailingAction})

    server.process_job(job_request(action('fail'), action('missing'), continue_on_error=True))

    assert metrics_of(server).counter_names() == []


def test_job_error_counts_a_job_error() -> None:
    server = make_server({'job_error': raising(JobError([Error(code='X', message='Y')]))})

    server.process_job(job_request(action('job_error')))

    assert metrics_of(server).counter_names() == ['server.error.job_error']
    assert metrics_of(server).counter_value('server.error.job_error') == 1


def test_harakiri_in_an_action_counts_an_action_level_harakiri() -> None:
    server = make_server({'slow': raising(HarakiriInterrupt())})

    server.process_job(job_request(action('slow')))

    assert metrics_of(server).counter_names() == ['server.error.harakiri']
    assert metrics_of(server).counter_value('server.error.harakiri', harakiri_level='action') == 1


class SlowJobMiddleware(ServerMiddleware):
    def job(self, process_job: ServerMiddlewareJobTask) -> ServerMiddlewareJobTask:
        def handle(request: EnrichedJobRequest) -> JobResponse:
            raise HarakiriInterrupt()

        return handle


class CrashingJobMiddleware(ServerMiddleware):
    def job(self, process_job: ServerMiddlewareJobTask) -> ServerMiddlewareJobTask:
        def handle(request: EnrichedJobRequest) -> JobResponse:
            raise ValueError('middleware bug')

        return handle


THIS_MODULE = 'tests.unit.server.test_server_logging_and_metrics'


def test_harakiri_in_job_middleware_counts_a_job_level_harakiri() -> None:
    server = make_server(middleware=[{'path': f'{THIS_MODULE}:SlowJobMiddleware'}])

    server.process_job(job_request())

    assert metrics_of(server).counter_names() == ['server.error.harakiri']
    assert metrics_of(server).counter_value('server.error.harakiri', harakiri_level='job') == 1
    assert metrics_of(server).counter_value('server.error.harakiri', harakiri_level='action') == 0


def test_unexpected_exception_in_job_middleware_counts_an_unhandled_error() -> None:
    server = make_server(middleware=[{'path': f'{THIS_MODULE}:CrashingJobMiddleware'}])

    server.process_job(job_request())

    assert metrics_of(server).counter_names() == ['server.error.unhandled_error']


def test_too_large_response_counts_a_response_too_large() -> None:
    server = make_server()
    transport_of(server).fail_next_send(MessageTooLarge(500000))

    run_job(server, job_request())

    assert metrics_of(server).counter_names() == ['server.error.response_too_large']


def test_unserializable_response_counts_a_response_not_serializable() -> None:
    server = make_server()
    transport_of(server).fail_next_send(InvalidField('Cannot serialize'))

    run_job(server, job_request())

    assert metrics_of(server).counter_names() == ['server.error.response_not_serializable']


class UnprintableError(Exception):
    def __str__(self) -> str:
        raise RuntimeError('cannot print')


def test_exception_that_cannot_be_printed_counts_an_error_formatting_failure() -> None:
    server = make_server({'crash': raising(UnprintableError())})

    response = server.process_job(job_request(action('crash')))

    assert response.actions[0].errors[0].message == 'Internal server error: Error formatting error'
    assert metrics_of(server).counter_value('server.error.error_formatting_failure') == 1


class Unrepresentable:
    def __repr__(self) -> str:
        raise RuntimeError('cannot repr')


def test_variables_that_cannot_be_represented_count_a_variable_formatting_failure() -> None:
    server = make_server()

    try:
        raise ValueError('boom')
    except ValueError as e:
        response = server.handle_unhandled_exception(e, JobResponse, variables={'good': [1], 'bad': Unrepresentable()})

    assert response.errors[0].variables == {'good': '[1]', 'bad': 'Error formatting variables'}
    assert metrics_of(server).counter_value('server.error.variable_formatting_failure') == 1


def test_handle_unhandled_exception_passes_extra_keyword_arguments_to_the_response() -> None:
    server = make_server()

    try:
        raise ValueError('boom')
    except ValueError as e:
        response = server.handle_unhandled_exception(e, ActionResponse, action='the_action')

    assert response.action == 'the_action'
    [error] = response.errors
    assert (error.code, error.message, error.is_caller_error) == ('SERVER_ERROR', 'Internal server error: boom', False)
    assert error.traceback is not None and 'ValueError: boom' in error.traceback


def test_handle_job_error_code_logs_and_returns_a_job_error(caplog: pytest.LogCaptureFixture) -> None:
    server = make_server()

    response = server.handle_job_error_code('SOME_CODE', 'Some message', {'req': 1}, {'resp': 2}, extra={'n': 3})

    assert response == JobResponse(errors=[Error(code='SOME_CODE', message='Some message', is_caller_error=False)])
    [record] = caplog.records
    assert (record.name, record.levelno, record.getMessage()) == ('pysoa.server', logging.ERROR, 'Some message')
    assert record.data == {'request': {'req': 1}, 'response': {'resp': 2}, 'n': 3}  # type: ignore[attr-defined]


def test_metrics_are_published_before_each_request() -> None:
    server = make_server()
    published_before = metrics_of(server).publish_count

    run_job(server, job_request())

    assert metrics_of(server).publish_count > published_before


def test_idle_time_is_timed() -> None:
    server = make_server()

    server.handle_next_request()
    run_job(server, job_request())

    assert 'server.idle_time' in [m.name for m in metrics_of(server).get_all_metrics() if type(m).__name__ == 'Timer']
