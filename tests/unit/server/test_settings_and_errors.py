"""
Server settings (``ServerSettings``), the exceptions actions and middleware raise (``pysoa.server.errors``), and the
fork-id templating of the metrics configuration done when a server is created.
"""

import copy
from typing import (
    Any,
    Dict,
    List,
)

import pytest
from conformity.error import Error as ConformityError
from conformity.settings import Settings
from pymetrics.recorders.noop import NonOperationalMetricsRecorder

from pysoa.common.errors import (
    Error,
    PySOAError,
)
from pysoa.common.settings import SOASettings
from pysoa.server.coroutine import DefaultCoroutineMiddleware
from pysoa.server.errors import (
    ActionError,
    JobError,
    PySOAServerError,
    ResponseValidationError,
)
from pysoa.server.internal._fork_templating import apply_fork_id_to_metrics_settings
from pysoa.server.server import (
    HarakiriInterrupt,
    Server,
)
from pysoa.server.settings import ServerSettings
from tests.unit.server.services import (
    METRICS_PATH,
    TRANSPORT_PATH,
    InMemoryServerTransport,
    RecordingMetrics,
    make_server,
    make_server_class,
    make_settings,
)


def settings(**data: Any) -> ServerSettings:
    return ServerSettings({'transport': {'path': TRANSPORT_PATH}, **data})


# ServerSettings -------------------------------------------------------------------------------------------------------


def test_server_settings_are_soa_settings_with_the_server_keys() -> None:
    assert issubclass(ServerSettings, SOASettings)
    assert set(ServerSettings.schema) == {
        'transport',
        'middleware',
        'metrics',
        'coroutine_middleware',
        'client_routing',
        'logging',
        'harakiri',
        'request_log_success_level',
        'request_log_error_level',
        'heartbeat_file',
        'extra_fields_to_redact',
    }


def test_default_transport_is_the_redis_gateway_server_transport() -> None:
    assert ServerSettings.defaults['transport'] == {
        'path': 'pysoa.common.transport.redis_gateway.server:RedisServerTransport',
    }


def test_defaults_of_the_simple_keys() -> None:
    defaults = settings()

    assert defaults['middleware'] == []
    assert defaults['client_routing'] == {}
    assert defaults['harakiri'] == {'timeout': 300, 'shutdown_grace': 30}
    assert defaults['request_log_success_level'] == 'INFO'
    assert defaults['request_log_error_level'] == 'INFO'
    assert defaults['heartbeat_file'] is None
    assert defaults['extra_fields_to_redact'] == set()


def test_default_metrics_recorder_does_nothing() -> None:
    assert settings()['metrics']['object'] is NonOperationalMetricsRecorder


def test_default_coroutine_middleware_logs_coroutine_exceptions() -> None:
    assert settings()['coroutine_middleware'] == [
        {'path': 'pysoa.server.coroutine:DefaultCoroutineMiddleware', 'object': DefaultCoroutineMiddleware},
    ]


def test_default_logging_configuration() -> None:
    context_filter = ['pysoa_logging_context_filter']

    assert settings()['logging'] == {
        'version': 1,
        'formatters': {
            'console': {'format': '%(asctime)s %(levelname)7s %(correlation_id)s %(request_id)s: %(message)s'},
            'syslog': {
                'format': '%(service_name)s_service: %(name)s %(levelname)s %(module)s %(process)d correlation_id '
                '%(correlation_id)s request_id %(request_id)s %(message)s',
            },
        },
        'filters': {'pysoa_logging_context_filter': {'()': 'pysoa.common.logging.PySOALogContextFilter'}},
        'handlers': {
            'console': {
                'level': 'INFO',
                'class': 'logging.StreamHandler',
                'formatter': 'console',
                'filters': context_filter,
            },
            'syslog': {
                'level': 'INFO',
                'class': 'pysoa.common.logging.SyslogHandler',
                'facility': 23,
                'address': ('localhost', 514),
                'formatter': 'syslog',
                'filters': context_filter,
            },
        },
        'loggers': {},
        'root': {'handlers': ['console'], 'level': 'INFO'},
        'disable_existing_loggers': False,
    }


def test_harakiri_settings_are_merged_over_the_defaults() -> None:
    assert settings(harakiri={'timeout': 5})['harakiri'] == {'timeout': 5, 'shutdown_grace': 30}
    assert settings(harakiri={'shutdown_grace': 2})['harakiri'] == {'timeout': 300, 'shutdown_grace': 2}


def test_harakiri_timeout_zero_is_allowed() -> None:
    assert settings(harakiri={'timeout': 0})['harakiri']['timeout'] == 0


def test_given_values_replace_the_defaults() -> None:
    custom = settings(
        request_log_success_level='DEBUG',
        request_log_error_level='WARNING',
        heartbeat_file='/tmp/heartbeat-{{pid}}',
        extra_fields_to_redact={'ssn'},
        client_routing={'other': {'transport': {'path': 'x:Y'}}},
    )

    assert custom['request_log_success_level'] == 'DEBUG'
    assert custom['request_log_error_level'] == 'WARNING'
    assert custom['heartbeat_file'] == '/tmp/heartbeat-{{pid}}'
    assert custom['extra_fields_to_redact'] == {'ssn'}
    assert custom['client_routing'] == {'other': {'transport': {'path': 'x:Y'}}}


def test_settings_do_not_change_the_given_data() -> None:
    data: Dict[str, Any] = {
        'transport': {'path': TRANSPORT_PATH},
        'harakiri': {'timeout': 5},
        'middleware': [{'path': 'pysoa.server.middleware:ServerMiddleware'}],
    }
    original = copy.deepcopy(data)

    ServerSettings(data)

    assert data == original


@pytest.mark.parametrize(
    'data',
    [
        {'harakiri': {'timeout': -1}},
        {'harakiri': {'shutdown_grace': 0}},
        {'harakiri': {'timeout': '300'}},
        {'harakiri': {'timeout': 1, 'unknown': 2}},
        {'request_log_success_level': 'LOUD'},
        {'request_log_error_level': 20},
        {'heartbeat_file': 5},
        {'extra_fields_to_redact': ['a', 'list']},
        {'extra_fields_to_redact': {1}},
        {'client_routing': {'other': 'not a dict'}},
        {'middleware': [{'path': 'pysoa.server.coroutine:DefaultCoroutineMiddleware'}]},
        {'coroutine_middleware': [{'path': 'pysoa.server.middleware:ServerMiddleware'}]},
        {'transport': {'path': 'pysoa.server.middleware:ServerMiddleware'}},
        {'metrics': {'path': 'pysoa.server.middleware:ServerMiddleware'}},
        {'unknown_key': True},
    ],
    ids=repr,
)
def test_invalid_settings_are_rejected(data: Dict[str, Any]) -> None:
    with pytest.raises(Settings.ImproperlyConfigured):
        settings(**data)


def test_server_reads_its_request_log_levels_as_numbers() -> None:
    server = make_server(request_log_success_level='DEBUG', request_log_error_level='ERROR')

    assert (server.request_log_success_level, server.request_log_error_level) == (10, 40)


def test_server_builds_transport_and_metrics_from_settings() -> None:
    server = make_server(server_class=make_server_class(service_name='built'))

    assert isinstance(server.metrics, RecordingMetrics)
    assert isinstance(server.transport, InMemoryServerTransport)
    assert server.transport.service_name == 'built'
    assert server.transport.metrics is server.metrics
    assert server.transport.instance_index == 1


def test_server_gives_the_transport_its_fork_number() -> None:
    server_class = make_server_class()

    server = server_class(make_settings(server_class), forked_process_id=3)

    assert server.transport.instance_index == 3
    assert server.forked_process_id == 3


def test_server_without_service_name_cannot_be_created() -> None:
    with pytest.raises(AttributeError, match='Server subclass must set service_name'):
        Server(make_settings())


def test_server_loggers() -> None:
    server = make_server()

    assert (server.logger.name, server.job_logger.name) == ('pysoa.server', 'pysoa.server.job')


def test_server_class_defaults() -> None:
    from pysoa.client.client import Client
    from pysoa.server.types import EnrichedActionRequest

    assert Server.settings_class is ServerSettings
    assert Server.request_class is EnrichedActionRequest
    assert Server.client_class is Client
    assert Server.use_django is False
    assert Server.service_name is None
    assert dict(Server.action_class_map) == {}
    assert Server.introspection_action is None


def test_server_starts_not_shutting_down() -> None:
    assert make_server().shutting_down is False


# Errors ---------------------------------------------------------------------------------------------------------------


def test_server_errors_are_pysoa_errors() -> None:
    for error_class in (ActionError, JobError, ResponseValidationError):
        assert issubclass(error_class, PySOAServerError)
    assert issubclass(PySOAServerError, PySOAError)


def test_harakiri_interrupt_is_not_an_exception() -> None:
    assert issubclass(HarakiriInterrupt, BaseException)
    assert not issubclass(HarakiriInterrupt, Exception)


def test_action_errors_are_caller_errors_by_default() -> None:
    error = ActionError([Error(code='A', message='a'), Error(code='B', message='b', is_caller_error=True)])

    assert error.errors == [
        Error(code='A', message='a', is_caller_error=True),
        Error(code='B', message='b', is_caller_error=True),
    ]


def test_action_error_can_set_every_error_to_not_a_caller_error() -> None:
    error = ActionError([Error(code='A', message='a', is_caller_error=True)], set_is_caller_error_to=False)

    assert error.errors == [Error(code='A', message='a', is_caller_error=False)]


def test_action_error_leaves_the_flags_alone_when_told_none() -> None:
    errors = [Error(code='A', message='a'), Error(code='B', message='b', is_caller_error=True)]

    assert ActionError(errors, set_is_caller_error_to=None).errors == errors


def test_job_errors_are_not_caller_errors_by_default() -> None:
    error = JobError([Error(code='A', message='a', is_caller_error=True), Error(code='B', message='b')])

    assert error.errors == [Error(code='A', message='a'), Error(code='B', message='b')]


def test_job_error_can_set_every_error_to_a_caller_error() -> None:
    assert JobError([Error(code='A', message='a')], set_is_caller_error_to=True).errors == [
        Error(code='A', message='a', is_caller_error=True),
    ]


def test_job_error_leaves_the_flags_alone_when_told_none() -> None:
    errors = [Error(code='A', message='a', is_caller_error=True)]

    assert JobError(errors, set_is_caller_error_to=None).errors == errors


def test_rewriting_the_caller_flag_keeps_every_other_error_field() -> None:
    original = Error(
        code='A',
        message='a',
        field='f',
        traceback='tb',
        variables={'v': '1'},
        denied_permissions=['p'],
    )

    [rewritten] = ActionError([original]).errors

    assert rewritten == Error(
        code='A',
        message='a',
        field='f',
        traceback='tb',
        variables={'v': '1'},
        denied_permissions=['p'],
        is_caller_error=True,
    )
    assert original.is_caller_error is False


def test_errors_are_stored_as_a_list() -> None:
    errors = iter([Error(code='A', message='a', is_caller_error=True)])

    assert ActionError(errors).errors == [Error(code='A', message='a', is_caller_error=True)]
    assert JobError(iter([Error(code='A', message='a')])).errors == [Error(code='A', message='a')]


def test_response_validation_error_describes_each_problem() -> None:
    error = ResponseValidationError(
        'my_action',
        [
            ConformityError('Not an integer', code='INVALID', pointer='count'),
            ConformityError('Missing key: name', code='MISSING', pointer='items.0.name'),
        ],
    )

    assert error.action == 'my_action'
    assert [e.pointer for e in error.errors] == ['count', 'items.0.name']
    assert str(error) == (
        'my_action had an invalid response:\n\tcount INVALID: Not an integer\n\titems.0.name MISSING: Missing key: name'
    )


# Fork-id templating of the metrics configuration ----------------------------------------------------------------------


def test_fork_id_replaces_every_marker_in_publisher_kwargs() -> None:
    metrics = {
        'kwargs': {
            'config': {
                'version': 2,
                'publishers': [
                    {
                        'path': 'p:{{fid}}',
                        'kwargs': {'a': 'x-{{fid}}', 'b': '[[fid]]/%%fid%%', 'c': 5, 'nested': {'d': '{{fid}}'}},
                    },
                ],
            }
        }
    }

    apply_fork_id_to_metrics_settings(metrics, '3')

    assert metrics['kwargs']['config']['publishers'] == [
        {'path': 'p:{{fid}}', 'kwargs': {'a': 'x-3', 'b': '3/3', 'c': 5, 'nested': {'d': '3'}}},
    ]


def test_fork_id_replaces_markers_in_whole_publishers_of_a_version_1_config() -> None:
    metrics = {
        'kwargs': {
            'config': {
                'version': 1,
                'publishers': [
                    {'path': 'p', 'file': '/var/{{fid}}.log', 'options': {'prefix': 'worker-[[fid]]'}},
                ],
            }
        }
    }

    apply_fork_id_to_metrics_settings(metrics, '2')

    assert metrics['kwargs']['config']['publishers'] == [
        {'path': 'p', 'file': '/var/2.log', 'options': {'prefix': 'worker-2'}},
    ]


def test_fork_id_templating_ignores_metrics_without_publishers() -> None:
    settings_without_publishers: List[Dict[str, Any]] = [
        {},
        {'kwargs': {}},
        {'kwargs': {'config': {}}},
        {'kwargs': {'config': None}},
    ]
    for metrics in settings_without_publishers:
        original = copy.deepcopy(metrics)
        apply_fork_id_to_metrics_settings(metrics, '1')
        assert metrics == original


def test_fork_id_is_main_when_the_server_is_not_forked() -> None:
    config = {'version': 2, 'publishers': [{'path': 'p', 'kwargs': {'file': '/var/{{fid}}.log'}}]}
    server_class = make_server_class()

    server = server_class(make_settings(server_class, metrics={'path': METRICS_PATH, 'kwargs': {'config': config}}))

    assert isinstance(server.metrics, RecordingMetrics)
    assert server.metrics.config['publishers'][0]['kwargs'] == {'file': '/var/main.log'}


def test_fork_id_is_the_forked_process_id() -> None:
    config = {'version': 1, 'publishers': [{'path': 'p', 'file': '/var/%%fid%%.log'}]}
    server_class = make_server_class()

    server = server_class(
        make_settings(server_class, metrics={'path': METRICS_PATH, 'kwargs': {'config': config}}),
        forked_process_id=4,
    )

    assert isinstance(server.metrics, RecordingMetrics)
    assert server.metrics.config['publishers'] == [{'path': 'p', 'file': '/var/4.log'}]
    assert config['publishers'] == [{'path': 'p', 'file': '/var/%%fid%%.log'}]
