"""SOASettings: the class-configuration schema shared by client and server settings."""

from typing import Any

import pytest
from conformity import fields
from pymetrics.recorders.noop import NonOperationalMetricsRecorder

from pysoa.common.settings import SOASettings


@fields.ClassConfigurationSchema.provider(
    fields.Dictionary({'host': fields.UnicodeString(), 'port': fields.Integer()}, optional_keys=('port',)),
)
class ConfiguredThing:
    def __init__(self, host: str, port: int = 1) -> None:
        self.host = host
        self.port = port


@fields.ClassConfigurationSchema.provider(fields.Dictionary({}))
class PlainMiddleware:
    pass


THING_PATH = 'tests.unit.common.test_settings:ConfiguredThing'
MIDDLEWARE_PATH = 'tests.unit.common.test_settings:PlainMiddleware'


def test_defaults_fill_in_metrics_and_middleware() -> None:
    settings = SOASettings({'transport': {'path': THING_PATH, 'kwargs': {'host': 'h'}}})
    assert settings['middleware'] == []
    assert settings['metrics']['path'] == 'pymetrics.recorders.noop:NonOperationalMetricsRecorder'
    assert settings['metrics']['object'] is NonOperationalMetricsRecorder


def test_class_configuration_gains_the_imported_class() -> None:
    settings = SOASettings(
        {
            'transport': {'path': THING_PATH, 'kwargs': {'host': 'h', 'port': 2}},
            'middleware': [{'path': MIDDLEWARE_PATH}],
        }
    )
    assert settings['transport']['object'] is ConfiguredThing
    assert settings['transport']['kwargs'] == {'host': 'h', 'port': 2}
    assert settings['middleware'][0]['object'] is PlainMiddleware


def test_missing_transport_is_improperly_configured() -> None:
    with pytest.raises(SOASettings.ImproperlyConfigured, match='transport'):
        SOASettings({})


def test_kwargs_are_validated_against_the_schema_the_class_provides() -> None:
    with pytest.raises(SOASettings.ImproperlyConfigured, match='port'):
        SOASettings({'transport': {'path': THING_PATH, 'kwargs': {'host': 'h', 'port': 'not a number'}}})


def test_unimportable_path_is_improperly_configured() -> None:
    with pytest.raises(SOASettings.ImproperlyConfigured):
        SOASettings({'transport': {'path': 'tests.does_not_exist:Nothing'}})


def test_metrics_class_must_be_a_metrics_recorder() -> None:
    with pytest.raises(SOASettings.ImproperlyConfigured, match='MetricsRecorder'):
        SOASettings({'transport': {'path': THING_PATH, 'kwargs': {'host': 'h'}}, 'metrics': {'path': THING_PATH}})


def test_unknown_setting_is_improperly_configured() -> None:
    with pytest.raises(SOASettings.ImproperlyConfigured, match='Unknown setting'):
        SOASettings({'transport': {'path': THING_PATH, 'kwargs': {'host': 'h'}}, 'colour': 'blue'})


class NestedSettings(SOASettings):
    schema = {
        'limits': fields.Dictionary({'timeout': fields.Integer(), 'grace': fields.Integer()}),
    }
    defaults = {
        'limits': {'timeout': 300, 'grace': 30},
        'transport': {'path': THING_PATH, 'kwargs': {'host': 'default'}},
    }


def test_subclass_merges_schema_and_defaults_over_its_parent() -> None:
    assert set(NestedSettings.schema) == {'transport', 'middleware', 'metrics', 'limits'}
    assert NestedSettings.defaults['middleware'] == []
    assert NestedSettings({})['transport']['kwargs'] == {'host': 'default'}


def test_user_values_are_deep_merged_over_defaults() -> None:
    settings = NestedSettings({'limits': {'timeout': 5}})
    assert settings['limits'] == {'timeout': 5, 'grace': 30}


def test_user_data_is_not_modified() -> None:
    data: Any = {'transport': {'path': THING_PATH, 'kwargs': {'host': 'h'}}}
    SOASettings(data)
    assert data == {'transport': {'path': THING_PATH, 'kwargs': {'host': 'h'}}}
