"""Client construction, configuration validation, service handlers and the metrics they record."""

from typing import (
    Any,
    Dict,
)

import pytest
from pymetrics.recorders.default import DefaultMetricsRecorder

from pysoa.client import errors as client_errors
from pysoa.client.client import (
    Client,
    FutureSOAResponse,
    ServiceHandler,
)
from pysoa.client.expander import (
    ExpansionConverter,
    ExpansionSettings,
)
from pysoa.client.settings import ClientSettings
from pysoa.common.transport.local import LocalClientTransport
from pysoa.version import __version_info__

from .conftest import make_config
from .services import (
    EXPANSION_CONFIG,
    MODULE,
    MainServer,
    RecordingMetricsRecorder,
    local_service,
    transport_of,
)


# Class attributes ---------------------------------------------------------------------------------------------------


def test_exception_aliases_are_the_client_error_classes() -> None:
    assert Client.ImproperlyConfigured is client_errors.ImproperlyConfigured
    assert Client.InvalidExpansionKey is client_errors.InvalidExpansionKey
    assert Client.JobError is client_errors.CallJobError
    assert Client.CallJobError is client_errors.CallJobError
    assert Client.CallActionError is client_errors.CallActionError


def test_default_collaborator_classes() -> None:
    assert Client.settings_class is ClientSettings
    assert Client.handler_class is ServiceHandler
    assert Client.FutureResponse is FutureSOAResponse


# Construction -------------------------------------------------------------------------------------------------------


def test_construction_validates_every_service_configuration_eagerly() -> None:
    config = make_config()
    config['other']['transport']['kwargs'] = {}  # missing server_class and server_settings

    with pytest.raises(ClientSettings.ImproperlyConfigured) as exc_info:
        Client(config)

    assert 'server_class' in str(exc_info.value)


def test_construction_rejects_a_transport_that_is_not_a_client_transport() -> None:
    with pytest.raises(ClientSettings.ImproperlyConfigured):
        Client({'svc': {'transport': {'path': f'{MODULE}:MainServer'}}})


def test_construction_stores_config_settings_and_context_without_creating_handlers() -> None:
    config = make_config()
    context = {'caller': 'tests'}

    client = Client(config, context=context)

    assert client.config is config
    assert sorted(client.settings) == ['other', 'svc']
    assert all(isinstance(settings, ClientSettings) for settings in client.settings.values())
    assert client.settings['svc']['transport']['object'] is not None
    assert client.context == {'caller': 'tests'}
    assert client.handlers == {}
    assert client.expansion_converter is None


def test_missing_config_and_context_default_to_empty_dicts() -> None:
    client = Client(None)

    assert client.config == {}
    assert client.settings == {}
    assert client.context == {}


def test_expansion_config_is_validated_at_construction() -> None:
    with pytest.raises(ExpansionSettings.ImproperlyConfigured):
        Client(make_config(), expansion_config={'type_routes': {}})


def test_expansion_config_gives_the_client_an_expansion_converter() -> None:
    client = Client(make_config(), expansion_config=EXPANSION_CONFIG)

    assert isinstance(client.expansion_converter, ExpansionConverter)


def test_settings_class_argument_replaces_the_default_settings_class() -> None:
    class InProcessSettings(ClientSettings):
        defaults = {'transport': local_service(MainServer)['transport']}

    client = Client({'svc': {}}, settings_class=InProcessSettings)

    assert client.settings_class is InProcessSettings
    assert isinstance(client.settings['svc'], InProcessSettings)
    assert client.call_action('svc', 'echo', {'a': 1}).body == {'a': 1}


def test_settings_class_argument_does_not_change_the_class_default() -> None:
    class InProcessSettings(ClientSettings):
        defaults = {'transport': local_service(MainServer)['transport']}

    Client({'svc': {}}, settings_class=InProcessSettings)

    assert Client.settings_class is ClientSettings
    assert Client({'svc': make_config()['svc']}).settings_class is ClientSettings


def test_default_transport_is_the_redis_gateway_client_transport() -> None:
    assert ClientSettings.defaults['transport'] == {
        'path': 'pysoa.common.transport.redis_gateway.client:RedisClientTransport',
    }


def test_service_without_transport_settings_is_rejected_at_construction() -> None:
    # The default Redis transport needs at least `kwargs.backend_type`.
    with pytest.raises(ClientSettings.ImproperlyConfigured):
        Client({'svc': {}})


# Handlers -----------------------------------------------------------------------------------------------------------


def test_service_name_that_is_not_a_string_raises_value_error(client: Client) -> None:
    with pytest.raises(ValueError) as exc_info:
        client.call_action(b'svc', 'echo')  # type: ignore[arg-type]

    assert str(exc_info.value) == 'Called service name "b\'svc\'" must be unicode'


def test_unknown_service_name_raises_improperly_configured(client: Client) -> None:
    with pytest.raises(Client.ImproperlyConfigured) as exc_info:
        client.call_action('unknown', 'echo')

    assert str(exc_info.value).startswith('Unrecognized service name "unknown": this client has no settings for it')


def test_handler_is_created_on_first_call_to_its_service_only(client: Client) -> None:
    client.call_action('svc', 'echo')

    assert list(client.handlers) == ['svc']
    handler = client.handlers['svc']
    assert isinstance(handler, ServiceHandler)
    assert handler.service_name == 'svc'
    assert isinstance(handler.transport, LocalClientTransport)


def test_handler_and_transport_are_reused_by_later_calls(client: Client) -> None:
    client.call_action('svc', 'echo')
    handler = client.handlers['svc']
    transport = handler.transport

    client.call_actions('svc', [{'action': 'echo'}])
    client.call_action_future('svc', 'echo').result()

    assert client.handlers['svc'] is handler
    assert handler.transport is transport
    assert len(transport_of(client, 'svc').sent) == 3


def test_handler_class_attribute_chooses_the_handler_class() -> None:
    class CustomHandler(ServiceHandler):
        pass

    class CustomClient(Client):
        handler_class = CustomHandler

    client = CustomClient(make_config())
    client.call_action('svc', 'echo')

    assert type(client.handlers['svc']) is CustomHandler


def test_request_ids_of_one_service_increase_by_one(client: Client) -> None:
    first = client.send_request('svc', [{'action': 'echo'}])
    second = client.send_request('svc', [{'action': 'echo'}])

    assert second == first + 1


def test_requests_carry_the_client_version_in_their_meta(client: Client) -> None:
    client.call_action('svc', 'echo')

    [(_, meta, _, _)] = transport_of(client, 'svc').sent
    assert meta['client_version'] == list(__version_info__)


def test_caller_server_settings_are_not_modified_by_the_local_transport() -> None:
    server_settings: Dict[str, Any] = {}
    config = {
        'svc': {
            'transport': {
                'path': 'pysoa.common.transport.local:LocalClientTransport',
                'kwargs': {'server_class': MainServer, 'server_settings': server_settings},
            }
        }
    }

    Client(config).call_action('svc', 'echo')

    assert server_settings == {}


# Metrics ------------------------------------------------------------------------------------------------------------


def _metrics_config(path: str) -> Dict[str, Any]:
    config = make_config()
    config['svc']['metrics'] = {'path': path, 'kwargs': {'prefix': 'test'}}
    return config


def test_handler_builds_the_configured_metrics_recorder() -> None:
    client = Client(_metrics_config('pymetrics.recorders.default:DefaultMetricsRecorder'))

    client.call_action('svc', 'echo')

    metrics = client.handlers['svc'].metrics
    assert type(metrics) is DefaultMetricsRecorder
    assert metrics.prefix == 'test'
    assert client.handlers['svc'].transport.metrics is metrics


def test_metrics_recorder_kwargs_are_validated_against_its_schema() -> None:
    config = make_config()
    config['svc']['metrics'] = {'path': 'pymetrics.recorders.default:DefaultMetricsRecorder', 'kwargs': {}}

    with pytest.raises(ClientSettings.ImproperlyConfigured) as exc_info:
        Client(config)

    assert 'prefix' in str(exc_info.value)


def test_a_call_records_and_publishes_the_client_timers() -> None:
    client = Client(_metrics_config(f'{MODULE}:RecordingMetricsRecorder'))

    client.call_action('svc', 'echo')

    metrics = client.handlers['svc'].metrics
    assert isinstance(metrics, RecordingMetricsRecorder)
    assert {metric.name for metric in metrics.published} >= {
        'test.client.transport.initialize',
        'test.client.middleware.initialize',
        'test.client.send.including_middleware',
        'test.client.send.excluding_middleware',
        'test.client.receive.including_middleware',
        'test.client.receive.excluding_middleware',
    }


def test_send_timers_are_recorded_per_request_and_initialization_timers_once() -> None:
    client = Client(_metrics_config(f'{MODULE}:RecordingMetricsRecorder'))

    client.call_action('svc', 'echo')
    client.call_action('svc', 'echo')

    metrics = client.handlers['svc'].metrics
    assert isinstance(metrics, RecordingMetricsRecorder)
    names = [metric.name for metric in metrics.published]
    assert names.count('test.client.send.including_middleware') == 2
    assert names.count('test.client.send.excluding_middleware') == 2
    assert names.count('test.client.transport.initialize') == 1
    assert names.count('test.client.middleware.initialize') == 1


def test_sending_alone_publishes_only_the_send_timers() -> None:
    client = Client(_metrics_config(f'{MODULE}:RecordingMetricsRecorder'))

    client.send_request('svc', [{'action': 'echo'}])

    metrics = client.handlers['svc'].metrics
    assert isinstance(metrics, RecordingMetricsRecorder)
    published = {metric.name for metric in metrics.published}
    assert 'test.client.send.including_middleware' in published
    assert 'test.client.send.excluding_middleware' in published
    assert not any('receive' in name for name in published)
