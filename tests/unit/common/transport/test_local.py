"""
The local transport: a client transport that builds the service's server itself and runs every request in the
calling thread, passing messages by reference.
"""

import copy
from typing import (
    Any,
    Dict,
    List,
    Type,
)

import pytest
from conformity import fields
from conformity.settings import Settings
from pymetrics.recorders.noop import noop_metrics

from pysoa.client.client import Client
from pysoa.common.errors import Error
from pysoa.common.transport.base import (
    ClientTransport,
    ReceivedMessage,
    ServerTransport,
)
from pysoa.common.transport.local import (
    LocalClientTransport,
    LocalClientTransportSchema,
    LocalServerTransport,
    LocalServerTransportSchema,
)
from pysoa.server.action import Action
from pysoa.server.errors import ActionError
from pysoa.server.server import Server
from pysoa.server.settings import ServerSettings
from pysoa.server.types import EnrichedActionRequest


THIS_MODULE = 'tests.unit.common.transport.test_local'
LOCAL_TRANSPORT_PATH = 'pysoa.common.transport.local:LocalClientTransport'


class EchoAction(Action):
    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        return dict(request.body)


class IdentityAction(Action):
    """Returns the object it received, and whether it is the one the module holds."""

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        return {'thing': request.body['thing'], 'is_module_thing': request.body['thing'] is THING}


THING = object()


class FailingAction(Action):
    def run(self, request: EnrichedActionRequest) -> None:
        raise ActionError([Error(code='FAILED', message='It failed')])


class LocalService(Server):
    """A service run by the local transport; records its setup calls."""

    service_name = 'local'
    action_class_map = {'echo': EchoAction, 'identity': IdentityAction, 'fail': FailingAction}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.setup_calls = 0

    def setup(self) -> None:
        super().setup()
        self.setup_calls += 1


class ReceivingTwiceService(LocalService):
    """Tries to receive a second request before processing the first."""

    second_receive_errors: List[Exception] = []

    def perform_pre_request_actions(self) -> None:
        super().perform_pre_request_actions()
        try:
            self.transport.receive_request_message()
        except RuntimeError as e:
            self.second_receive_errors.append(e)


class NotAServer:
    service_name = 'local'


SETTINGS_BY_PATH: Dict[str, Any] = {'request_log_success_level': 'DEBUG', 'extra_fields_to_redact': {'token'}}
NOT_A_DICT = ['request_log_success_level', 'DEBUG']


def make_transport(server_class: Any = LocalService, server_settings: Any = None) -> LocalClientTransport:
    if server_settings is None:
        server_settings = {}
    return LocalClientTransport('local', noop_metrics, server_class=server_class, server_settings=server_settings)


def local_client(server_class: Any = LocalService, server_settings: Any = None) -> Client:
    return Client(
        {
            'local': {
                'transport': {
                    'path': LOCAL_TRANSPORT_PATH,
                    'kwargs': {
                        'server_class': server_class,
                        'server_settings': {} if server_settings is None else server_settings,
                    },
                }
            }
        }
    )


def job(*actions: Dict[str, Any]) -> Dict[str, Any]:
    return {
        'control': {'continue_on_error': False},
        'context': {'correlation_id': 'corr', 'switches': []},
        'actions': list(actions),
    }


# Calling a service ----------------------------------------------------------------------------------------------------


def test_client_calls_the_service_through_the_local_transport() -> None:
    response = local_client().call_action('local', 'echo', body={'value': 1})

    assert response.body == {'value': 1}


def test_server_class_can_be_given_by_import_path() -> None:
    response = local_client(server_class=f'{THIS_MODULE}:LocalService').call_action('local', 'echo', body={'a': 1})

    assert response.body == {'a': 1}


def test_server_settings_can_be_given_by_import_path() -> None:
    transport = make_transport(server_settings=f'{THIS_MODULE}:SETTINGS_BY_PATH')

    assert transport.server.request_log_success_level == 10
    assert transport.server_settings['extra_fields_to_redact'] == {'token'}


def test_action_errors_reach_the_client_with_the_caller_error_flag() -> None:
    client = local_client()

    with pytest.raises(Client.CallActionError) as exc_info:
        client.call_action('local', 'fail')

    assert exc_info.value.actions[0].errors == [Error(code='FAILED', message='It failed', is_caller_error=True)]


def test_transport_is_both_client_and_server_transport() -> None:
    transport = make_transport()

    assert isinstance(transport, ClientTransport)
    assert isinstance(transport, ServerTransport)
    assert transport.service_name == 'local'


def test_server_is_built_with_its_settings_class_and_uses_the_transport() -> None:
    transport = make_transport(server_settings={'request_log_error_level': 'ERROR'})

    assert type(transport.server) is LocalService
    assert transport.server_class is LocalService
    assert isinstance(transport.server_settings, ServerSettings)
    assert transport.server.settings is transport.server_settings
    assert transport.server.request_log_error_level == 40
    assert transport.server.transport is transport


def test_server_settings_transport_is_replaced_by_the_local_stub() -> None:
    transport = make_transport(server_settings={'transport': {'path': 'some.other:Transport'}})

    assert transport.server_settings['transport']['path'] == 'pysoa.common.transport.local:LocalServerTransport'


def test_the_callers_settings_dict_is_not_changed() -> None:
    # FIX (spec 17.4)
    with_transport = {'transport': {'path': 'some.other:Transport', 'kwargs': {'x': 1}}, 'harakiri': {'timeout': 1}}
    without_transport = {'harakiri': {'timeout': 1}}
    originals = copy.deepcopy([with_transport, without_transport])

    make_transport(server_settings=with_transport)
    make_transport(server_settings=without_transport)

    assert [with_transport, without_transport] == originals


def test_server_setup_is_called_once_when_the_transport_is_created() -> None:
    transport = make_transport()
    assert isinstance(transport.server, LocalService)
    assert transport.server.setup_calls == 1

    transport.send_request_message(1, {}, job({'action': 'echo'}))
    transport.send_request_message(2, {}, job({'action': 'echo'}))

    assert transport.server.setup_calls == 1


def test_expiry_and_receive_timeout_are_ignored() -> None:
    transport = make_transport()

    transport.send_request_message(5, {}, job({'action': 'echo', 'body': {'x': 1}}), message_expiry_in_seconds=0)
    request_id, _meta, body = transport.receive_response_message(receive_timeout_in_seconds=0)

    assert request_id == 5
    assert body is not None and body['actions'][0]['body'] == {'x': 1}


def test_response_carries_the_request_id_and_meta_of_the_request() -> None:
    transport = make_transport()
    meta = {'client_version': [1, 4, 9], 'anything': object()}

    transport.send_request_message(17, meta, job({'action': 'echo'}))
    response = transport.receive_response_message()

    assert response.request_id == 17
    assert response.meta is meta


# Passing by reference -------------------------------------------------------------------------------------------------


def test_objects_reach_the_action_and_the_caller_untouched() -> None:
    response = local_client().call_action('local', 'identity', body={'thing': THING})

    assert response.body['is_module_thing'] is True
    assert response.body['thing'] is THING


def test_response_messages_are_passed_back_as_they_are() -> None:
    transport = make_transport()
    body = {'pair': (1, 2), 'thing': THING}

    transport.send_response_message(1, {}, body)

    assert transport.receive_response_message().body is body


def test_request_body_is_handed_to_the_server_as_is() -> None:
    received: List[Any] = []

    class CapturingService(LocalService):
        def process_job(self, job_request: Dict[str, Any]) -> Any:
            received.append(job_request)
            return super().process_job(job_request)

    transport = make_transport(server_class=CapturingService)
    body = job({'action': 'echo', 'body': {'pair': (1, 2)}})

    transport.send_request_message(1, {}, body)

    assert received == [body]
    assert received[0] is body


# Messages -------------------------------------------------------------------------------------------------------------


def test_responses_are_received_oldest_first() -> None:
    transport = make_transport()
    transport.send_response_message(1, {'n': 1}, {'first': True})
    transport.send_response_message(2, {'n': 2}, {'second': True})

    assert transport.receive_response_message() == ReceivedMessage(1, {'n': 1}, {'first': True})
    assert transport.receive_response_message() == ReceivedMessage(2, {'n': 2}, {'second': True})


def test_receiving_with_no_response_waiting_returns_nothing_at_once() -> None:
    assert make_transport().receive_response_message() == ReceivedMessage(None, None, None)


def test_suppressed_response_leaves_nothing_to_receive() -> None:
    transport = make_transport()
    body = job({'action': 'echo'})
    body['control']['suppress_response'] = True

    transport.send_request_message(1, {}, body)

    assert transport.receive_response_message() == ReceivedMessage(None, None, None)


def test_server_can_receive_the_request_being_sent_only_once() -> None:
    ReceivingTwiceService.second_receive_errors = []
    transport = make_transport(server_class=ReceivingTwiceService)

    transport.send_request_message(1, {}, job({'action': 'echo', 'body': {'ok': True}}))

    [error] = ReceivingTwiceService.second_receive_errors
    assert str(error) == 'Local server tried to receive message more than once'
    assert transport.receive_response_message().body['actions'][0]['body'] == {'ok': True}  # type: ignore[index]


def test_each_request_goes_to_the_servers_handle_message_without_its_receive_loop() -> None:
    class NoReceiveLoopService(LocalService):
        def handle_next_request(self) -> None:
            raise AssertionError('the local transport must not go through the receive loop')

    transport = make_transport(server_class=NoReceiveLoopService)

    transport.send_request_message(7, {}, job({'action': 'echo', 'body': {'direct': True}}))

    response = transport.receive_response_message()
    assert response.request_id == 7
    assert response.body['actions'][0]['body'] == {'direct': True}  # type: ignore[index]


def test_server_cannot_receive_when_no_request_is_being_sent() -> None:
    transport = make_transport()
    transport.send_request_message(1, {}, job({'action': 'echo'}))

    with pytest.raises(RuntimeError, match='Local server tried to receive message more than once'):
        transport.receive_request_message()


def test_request_is_forgotten_even_when_the_server_fails() -> None:
    class CrashingService(LocalService):
        def perform_pre_request_actions(self) -> None:
            raise RuntimeError('hook failed')

    transport = make_transport(server_class=CrashingService)

    with pytest.raises(RuntimeError, match='hook failed'):
        transport.send_request_message(1, {}, job({'action': 'echo'}))

    with pytest.raises(RuntimeError, match='more than once'):
        transport.receive_request_message()


# Configuration errors -------------------------------------------------------------------------------------------------


def test_unimportable_server_class_module_is_reported_with_the_path() -> None:
    with pytest.raises(ImportError, match=r'^Could not resolve server class path no_such_module:Server'):
        make_transport(server_class='no_such_module:Server')


def test_missing_server_class_attribute_is_reported_with_the_path() -> None:
    with pytest.raises(AttributeError, match=f'^Could not resolve server class path {THIS_MODULE}:NoSuchServer'):
        make_transport(server_class=f'{THIS_MODULE}:NoSuchServer')


def test_server_class_must_extend_server() -> None:
    with pytest.raises(TypeError, match=r'^server_class must be or extend Server$'):
        make_transport(server_class=NotAServer)


def test_server_class_path_must_name_a_server() -> None:
    with pytest.raises(TypeError, match=r'^server_class must be or extend Server$'):
        make_transport(server_class=f'{THIS_MODULE}:NotAServer')


def test_server_class_must_not_be_an_instance() -> None:
    with pytest.raises(TypeError, match=r'^server_class must be or extend Server$'):
        make_transport(server_class=EchoAction())


def test_server_service_name_must_match_the_called_service() -> None:
    with pytest.raises(Exception, match=r'service name "local" does not match "other"') as exc_info:
        LocalClientTransport('other', noop_metrics, server_class=LocalService, server_settings={})

    assert str(exc_info.value) == f'Server {LocalService!r} service name "local" does not match "other"'


def test_server_settings_must_be_a_dict() -> None:
    with pytest.raises(TypeError):
        make_transport(server_settings=f'{THIS_MODULE}:NOT_A_DICT')


def test_invalid_server_settings_are_rejected() -> None:
    with pytest.raises(Settings.ImproperlyConfigured):
        make_transport(server_settings={'harakiri': {'timeout': -1}})


def test_client_settings_need_both_server_class_and_server_settings() -> None:
    with pytest.raises(Settings.ImproperlyConfigured):
        Client({'local': {'transport': {'path': LOCAL_TRANSPORT_PATH, 'kwargs': {'server_class': LocalService}}}})
    with pytest.raises(Settings.ImproperlyConfigured):
        Client({'local': {'transport': {'path': LOCAL_TRANSPORT_PATH, 'kwargs': {'server_settings': {}}}}})


@pytest.mark.parametrize('server_class', [NotAServer, f'{THIS_MODULE}:NotAServer'], ids=['class', 'path'])
def test_client_settings_reject_a_server_class_that_does_not_extend_server(server_class: Any) -> None:
    with pytest.raises(Settings.ImproperlyConfigured) as exc_info:
        local_client(server_class=server_class)

    assert f'kwargs.server_class: Type {NotAServer!r} is not one of or a subclass of one of: {Server!r}' in str(
        exc_info.value,
    )


def test_schema_accepts_a_class_or_a_path_and_a_dict_or_a_path() -> None:
    schema = LocalClientTransportSchema()

    assert schema.errors({'server_class': LocalService, 'server_settings': {}}) == []
    assert (
        schema.errors(
            {
                'server_class': f'{THIS_MODULE}:LocalService',
                'server_settings': f'{THIS_MODULE}:SETTINGS_BY_PATH',
            }
        )
        == []
    )
    assert schema.errors({'server_class': LocalService}) != []


@pytest.mark.parametrize(
    ('transport_class', 'schema_class'),
    [
        (LocalClientTransport, LocalClientTransportSchema),
        (LocalServerTransport, LocalServerTransportSchema),
    ],
    ids=['client', 'server'],
)
def test_transport_settings_schema_is_a_conformity_dictionary_class(
    transport_class: type,
    schema_class: Type[fields.Dictionary],
) -> None:
    assert issubclass(schema_class, fields.Dictionary)
    assert type(transport_class._conformity_initialization_schema) is schema_class  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    'schema_class',
    [LocalClientTransportSchema, LocalServerTransportSchema],
    ids=['client', 'server'],
)
def test_transport_settings_schema_class_can_be_subclassed_to_change_its_description(
    schema_class: Type[fields.Dictionary],
) -> None:
    class DescribedSchema(schema_class):  # type: ignore[valid-type,misc]
        description = 'Described again'

    schema = DescribedSchema()

    assert schema.description == 'Described again'
    assert schema.contents == schema_class().contents


# The server-side stub -------------------------------------------------------------------------------------------------


STUB_MESSAGE = r'^The LocalServerTransport cannot be used directly; it is a stub\.$'


def test_local_server_transport_cannot_receive() -> None:
    with pytest.raises(TypeError, match=STUB_MESSAGE):
        LocalServerTransport('local').receive_request_message()


def test_local_server_transport_cannot_send() -> None:
    with pytest.raises(TypeError, match=STUB_MESSAGE):
        LocalServerTransport('local').send_response_message(1, {}, {})


def test_local_server_transport_takes_no_settings() -> None:
    assert LocalServerTransportSchema().errors({}) == []
    assert LocalServerTransportSchema().errors({'anything': 1}) != []
