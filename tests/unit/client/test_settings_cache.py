"""Validated client settings are reused for equal configs, and never for a config that changed."""

from typing import Any

import pytest

from pysoa.client.settings import (
    ClientSettings,
    get_validated_settings,
)


def local_config() -> Any:
    return {
        'transport': {
            'path': 'pysoa.common.transport.local:LocalClientTransport',
            'kwargs': {'server_class': 'tests.integration.test_in_process_rpc:UsersServer', 'server_settings': {}},
        },
    }


def test_same_unchanged_config_reuses_the_validated_settings() -> None:
    config = local_config()
    assert get_validated_settings(ClientSettings, config) is get_validated_settings(ClientSettings, config)


def test_changed_config_is_validated_again() -> None:
    config = local_config()
    first = get_validated_settings(ClientSettings, config)
    config['transport']['kwargs']['server_settings'] = {'harakiri': {'timeout': 5}}

    second = get_validated_settings(ClientSettings, config)

    assert second is not first
    assert second['transport']['kwargs']['server_settings'] == {'harakiri': {'timeout': 5}}


def test_config_changed_into_an_invalid_one_raises() -> None:
    config = local_config()
    get_validated_settings(ClientSettings, config)
    config['transport']['path'] = 'tests.does_not_exist:Transport'

    with pytest.raises(ClientSettings.ImproperlyConfigured):
        get_validated_settings(ClientSettings, config)


def test_validation_does_not_modify_the_config() -> None:
    config = local_config()
    get_validated_settings(ClientSettings, config)
    assert config == local_config()
