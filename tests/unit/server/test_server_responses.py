"""
The server request loop step, ``handle_next_request``: receiving a request from the transport, sending its response in
the form the client understands, coping with responses the transport cannot send and requests it cannot read, idle
polls, and the hooks around every request.
"""

import logging
from typing import (
    Any,
    Callable,
    Dict,
    List,
)

import pytest

from pysoa.common.serializer.errors import InvalidField
from pysoa.common.transport.base import ReceivedMessage
from pysoa.common.transport.errors import (
    InvalidMessageError,
    MessageReceiveTimeout,
    MessageSendError,
    MessageTooLarge,
)
from pysoa.common.types import ActionResponse
from pysoa.server.action import Action
from pysoa.server.server import Server
from pysoa.server.types import EnrichedActionRequest
from tests.unit.server.services import (
    FailingAction,
    action,
    job_request,
    make_server,
    metrics_of,
    run_job,
    transport_of,
)


class HookRecordingServer(Server):
    """Records the hooks it runs, and the actions it runs (``echo``), in ``events``."""

    service_name = 'hooks'

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.events: List[str] = []
        server = self

        class EventAction(Action):
            def run(self, request: EnrichedActionRequest) -> None:
                server.events.append(f'action {request.body.get("n")}')

        self.action_class_map = {'event': EventAction}  # type: ignore[misc]

    def perform_pre_request_actions(self) -> None:
        super().perform_pre_request_actions()
        self.events.append('pre')

    def perform_post_request_actions(self) -> None:
        super().perform_post_request_actions()
        self.events.append('post')

    def perform_idle_actions(self) -> None:
        super().perform_idle_actions()
        self.events.append('idle')


def hook_server() -> HookRecordingServer:
    server = make_server(server_class=HookRecordingServer)
    assert isinstance(server, HookRecordingServer)
    return server


# Sending the response -------------------------------------------------------------------------------------------------


def test_response_is_sent_with_the_request_id_and_meta_of_the_request() -> None:
    server = make_server()
    meta = {'client_version': [1, 4, 9], 'reply_to': 'somewhere', '__expiry__': 123.0}
    transport_of(server).queue_request(job_request(action('echo', x=1)), request_id=42, meta=meta)

    server.handle_next_request()

    assert transport_of(server).responses == [
        ReceivedMessage(
            42,
            meta,
            {
                'errors': [],
                'context': {'correlation_id': 'correlation-1'},
                'actions': [{'action': 'echo', 'errors': [], 'body': {'x': 1}}],
            },
        )
    ]
    assert transport_of(server).responses[0].meta is meta


def test_response_context_echoes_the_correlation_id() -> None:
    response = run_job(make_server(), job_request(correlation_id='the-correlation-id'))

    assert response['context'] == {'correlation_id': 'the-correlation-id'}


def test_response_is_a_plain_dict_tree() -> None:
    response = run_job(make_server({'fail': FailingAction}), job_request(action('fail')))

    assert isinstance(response, dict)
    assert isinstance(response['actions'][0], dict)
    assert isinstance(response['actions'][0]['errors'][0], dict)


def error_dict_keys(meta: Dict[str, Any]) -> List[str]:
    response = run_job(make_server({'fail': FailingAction}), job_request(action('fail')), meta=meta)
    return list(response['actions'][0]['errors'][0])


ALL_ERROR_KEYS = ['code', 'message', 'field', 'traceback', 'variables', 'denied_permissions', 'is_caller_error']


def test_errors_carry_is_caller_error_for_clients_announcing_at_least_0_70_0() -> None:
    assert error_dict_keys({'client_version': [0, 70, 0]}) == ALL_ERROR_KEYS
    assert error_dict_keys({'client_version': [1, 4, 9]}) == ALL_ERROR_KEYS


def test_errors_omit_is_caller_error_for_clients_older_than_0_70_0() -> None:
    assert error_dict_keys({'client_version': [0, 69, 9]}) == ALL_ERROR_KEYS[:-1]


def test_errors_omit_is_caller_error_for_clients_announcing_no_version() -> None:
    # KEEP (spec 17.15)
    assert error_dict_keys({}) == ALL_ERROR_KEYS[:-1]


def test_job_errors_omit_is_caller_error_for_old_clients_too() -> None:
    job = job_request()
    job['actions'] = []

    response = run_job(make_server(), job, meta={'client_version': [0, 60, 0]})

    assert response['errors'] == [
        {
            'code': 'INVALID',
            'message': 'List is shorter than 1',
            'field': 'actions',
            'traceback': None,
            'variables': None,
            'denied_permissions': None,
        }
    ]


def test_suppressed_response_is_not_sent_but_the_job_still_runs() -> None:
    server = hook_server()
    transport_of(server).queue_request(job_request(action('event', n=1), control={'suppress_response': True}))

    server.handle_next_request()

    assert transport_of(server).responses == []
    assert 'action 1' in server.events


def test_response_is_sent_when_suppress_response_is_false() -> None:
    response = run_job(make_server(), job_request(control={'suppress_response': False}))

    assert response['errors'] == []


# Responses the transport cannot send ----------------------------------------------------------------------------------


def sent_after_send_failure(exception: Exception) -> Dict[str, Any]:
    server = make_server()
    transport_of(server).fail_next_send(exception)
    return run_job(server, job_request(action('echo', big='x' * 100)))


def test_too_large_response_is_replaced_by_a_response_too_large_job_error() -> None:
    response = sent_after_send_failure(MessageTooLarge(300000, 'Message too large'))

    assert response == {
        'errors': [
            {
                'code': 'RESPONSE_TOO_LARGE',
                'message': 'Could not send the response because it was too large',
                'field': None,
                'traceback': None,
                'variables': None,
                'denied_permissions': None,
                'is_caller_error': False,
            }
        ],
        'context': {},
        'actions': [],
    }


def test_unserializable_response_is_replaced_by_a_response_not_serializable_job_error() -> None:
    response = sent_after_send_failure(InvalidField('Cannot serialize object'))

    assert [(e['code'], e['message'], e['is_caller_error']) for e in response['errors']] == [
        (
            'RESPONSE_NOT_SERIALIZABLE',
            'Could not send the response because it failed to serialize',
            False,
        )
    ]
    assert response['actions'] == []


def test_too_large_response_is_logged_with_request_response_and_size(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger='pysoa.server')

    sent_after_send_failure(MessageTooLarge(300000, 'Message too large'))

    [record] = [r for r in caplog.records if r.name == 'pysoa.server']
    assert record.levelno == logging.ERROR
    assert record.getMessage() == 'Could not send the response because it was too large'
    assert record.exc_info is not None and isinstance(record.exc_info[1], MessageTooLarge)
    data = record.data  # type: ignore[attr-defined]
    assert data['serialized_length_in_bytes'] == 300000
    assert "'big': '" + 'x' * 100 in str(data['request'])
    assert "'big': '" + 'x' * 100 in str(data['response'])


def test_response_the_transport_rejects_as_invalid_is_logged_and_dropped(caplog: pytest.LogCaptureFixture) -> None:
    server = make_server()
    transport_of(server).fail_next_send(InvalidMessageError('No reply_to'))
    transport_of(server).queue_request(job_request(), request_id=7)

    server.handle_next_request()

    assert transport_of(server).responses == []
    [record] = [r for r in caplog.records if r.name == 'pysoa.server' and r.levelno >= logging.ERROR]
    assert record.getMessage() == 'Could not send the response to request 7; dropping it'
    assert record.exc_info is not None and isinstance(record.exc_info[1], InvalidMessageError)


def test_server_serves_the_next_request_after_dropping_an_unsendable_response() -> None:
    server = make_server()
    transport_of(server).fail_next_send(InvalidMessageError('No reply_to'))
    transport_of(server).queue_request(job_request(), request_id=1)
    server.handle_next_request()

    response = run_job(server, job_request(action('echo', second=True)), request_id=2)

    assert response['actions'][0]['body'] == {'second': True}


@pytest.mark.parametrize(
    'second_failure',
    [
        MessageTooLarge(300000, 'Meta too large'),
        InvalidField('Cannot serialize meta'),
        InvalidMessageError('Bad meta'),
    ],
)
def test_response_whose_error_replacement_cannot_be_sent_either_is_dropped(second_failure: Exception) -> None:
    server = make_server()
    transport_of(server).fail_next_send(InvalidField('Cannot serialize object'))
    transport_of(server).fail_next_send(second_failure)
    transport_of(server).queue_request(job_request(), request_id=1)

    server.handle_next_request()

    assert transport_of(server).responses == []
    assert metrics_of(server).counter('server.error.response_not_sent').value == 1
    assert run_job(server, job_request(action('echo', second=True)))['actions'][0]['body'] == {'second': True}


def test_other_send_errors_propagate_after_the_post_request_hook() -> None:
    server = hook_server()
    transport_of(server).fail_next_send(MessageSendError('Queue full'))
    transport_of(server).queue_request(job_request(action('event', n=1)))

    with pytest.raises(MessageSendError):
        server.handle_next_request()

    assert server.events == ['pre', 'action 1', 'post']


# Requests the transport cannot read -----------------------------------------------------------------------------------


def test_unreadable_request_is_logged_and_dropped(caplog: pytest.LogCaptureFixture) -> None:
    server = hook_server()
    transport_of(server).fail_next_receive(InvalidMessageError('Garbage on the queue'))

    server.handle_next_request()

    assert transport_of(server).responses == []
    assert server.events == []
    [record] = [r for r in caplog.records if r.name == 'pysoa.server' and r.levelno >= logging.ERROR]
    assert record.getMessage() == 'Dropping a request the transport could not read'
    assert record.exc_info is not None and isinstance(record.exc_info[1], InvalidMessageError)


def test_request_too_large_to_receive_is_logged_and_dropped(caplog: pytest.LogCaptureFixture) -> None:
    server = hook_server()
    transport_of(server).fail_next_receive(MessageTooLarge(999999, 'Request too large'))

    server.handle_next_request()

    assert transport_of(server).responses == []
    assert server.events == []
    [record] = [r for r in caplog.records if r.name == 'pysoa.server' and r.levelno >= logging.ERROR]
    assert record.exc_info is not None and isinstance(record.exc_info[1], MessageTooLarge)


def test_server_serves_the_next_request_after_dropping_an_unreadable_one() -> None:
    server = make_server()
    transport_of(server).fail_next_receive(InvalidMessageError('Garbage on the queue'))
    server.handle_next_request()

    response = run_job(server, job_request(action('echo', after=True)))

    assert response['actions'][0]['body'] == {'after': True}


# Idle polls -----------------------------------------------------------------------------------------------------------


def test_idle_poll_performs_idle_actions_only() -> None:
    server = hook_server()

    server.handle_next_request()  # nothing queued: the transport raises MessageReceiveTimeout

    assert server.events == ['idle']
    assert transport_of(server).responses == []


def test_receive_timeout_raised_by_the_transport_is_an_idle_poll() -> None:
    server = hook_server()
    transport_of(server).fail_next_receive(MessageReceiveTimeout('Nothing in 5 seconds'))

    server.handle_next_request()

    assert server.events == ['idle']


def test_incomplete_request_message_is_an_idle_poll_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    server = hook_server()
    transport_of(server).requests.append(ReceivedMessage(None, None, None))

    server.handle_next_request()

    assert server.events == ['idle']
    assert [(r.name, r.levelno) for r in caplog.records] == [('pysoa.server', logging.WARNING)]


def test_idle_poll_leaves_the_worker_running_and_not_busy() -> None:
    server = make_server()

    server.handle_next_request()

    assert metrics_of(server).gauge_value('server.worker.running') == 1
    assert metrics_of(server).gauge_value('server.worker.busy') == 0


# Hooks ----------------------------------------------------------------------------------------------------------------


def test_pre_and_post_request_hooks_run_around_each_request() -> None:
    server = hook_server()
    transport_of(server).queue_request(job_request(action('event', n=1)), request_id=1)
    transport_of(server).queue_request(job_request(action('event', n=2)), request_id=2)

    server.handle_next_request()
    server.handle_next_request()

    assert server.events == ['pre', 'action 1', 'post', 'pre', 'action 2', 'post']


def test_post_request_hook_runs_after_the_response_is_sent() -> None:
    sent_when_post_ran: List[int] = []

    class CheckingServer(HookRecordingServer):
        def perform_post_request_actions(self) -> None:
            super().perform_post_request_actions()
            sent_when_post_ran.append(len(transport_of(self).responses))

    server = make_server(server_class=CheckingServer)
    run_job(server, job_request(action('event')))

    assert sent_when_post_ran == [1]


def test_hooks_run_for_invalid_job_requests_too() -> None:
    server = hook_server()

    run_job(server, {'not': 'a job'})

    assert server.events == ['pre', 'post']


def test_worker_is_busy_while_processing_and_not_busy_after() -> None:
    busy_during: List[Any] = []
    holder: List[Server] = []

    class BusyAction(Action):
        def run(self, request: EnrichedActionRequest) -> None:
            busy_during.append(metrics_of(holder[0]).gauge_value('server.worker.busy'))

    server = make_server({'busy': BusyAction})
    holder.append(server)
    run_job(server, job_request(action('busy')))

    assert busy_during == [1]
    assert metrics_of(server).gauge_value('server.worker.busy') == 0
    assert metrics_of(server).gauge_value('server.worker.running') == 1


# Response conversion --------------------------------------------------------------------------------------------------


class UnconvertibleBody(Dict[str, Any]):
    """A dict whose items cannot be listed, so the response cannot be turned into its wire form."""

    def items(self) -> Any:
        raise RuntimeError('cannot list items')


def unconvertible_action(settings: Any) -> Callable[[EnrichedActionRequest], ActionResponse]:
    return lambda request: ActionResponse(action=request.action, body=UnconvertibleBody(a=1))


def test_response_that_cannot_be_converted_becomes_a_server_error() -> None:
    server = make_server({'unconvertible': unconvertible_action})

    response = run_job(server, job_request(action('unconvertible')))

    [error] = response['errors']
    assert (error['code'], error['message'], error['is_caller_error']) == (
        'SERVER_ERROR',
        'Internal server error: cannot list items',
        False,
    )
    assert set(error['variables']) == {'job_response'}
    assert error['variables']['job_response'].startswith('JobResponse(')
    assert response['actions'] == []
    assert metrics_of(server).counter_value('server.error.response_conversion_failure') == 1
