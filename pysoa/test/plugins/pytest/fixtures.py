"""
Pytest fixtures for testing a service, loaded automatically when PySOA's testing extra is installed. Provide a
``server_class`` fixture (module scope) and, unless the settings come from Django or the ``PYSOA_SETTINGS_MODULE``
environment variable, a ``server_settings`` fixture; then use ``service_client``::

    @pytest.fixture(scope='module')
    def server_class():
        return MyServer

    def test_square(service_client):
        assert service_client.call_action('square', {'number': 3}).body == {'square': 9}

    def test_with_stub(service_client, action_stubber):
        stub = action_stubber('users', 'get_user', body={'id': 1})
        ...
"""

import importlib
import os
from typing import (
    Any,
    Callable,
    Dict,
    Iterator,
    List,
    Optional,
    Type,
)

import pytest

from pysoa.client.client import Client
from pysoa.common.errors import Error
from pysoa.common.types import (
    ActionResponse,
    Body,
)
from pysoa.server.server import Server


__all__ = (
    'action_stubber',
    'server_settings',
    'service_client',
    'service_client_class',
    'service_client_settings',
)


@pytest.fixture(scope='module')
def server_settings(server_class: Type[Server]) -> Dict[str, Any]:
    """The settings of the server under test: Django's ``SOA_SERVER_SETTINGS``, or the module in
    ``PYSOA_SETTINGS_MODULE`` (its ``SOA_SERVER_SETTINGS`` or ``settings``)."""
    if server_class.use_django:
        from django.conf import settings

        return settings.SOA_SERVER_SETTINGS  # type: ignore[no-any-return]
    module_name = os.environ.get('PYSOA_SETTINGS_MODULE')
    assert module_name, 'Provide a `server_settings` fixture or set the PYSOA_SETTINGS_MODULE environment variable'
    module = importlib.import_module(module_name)
    for variable in ('SOA_SERVER_SETTINGS', 'settings'):
        if hasattr(module, variable):
            return getattr(module, variable)  # type: ignore[no-any-return]
    raise AssertionError(f'Settings module `{module_name}` has neither SOA_SERVER_SETTINGS nor settings')


@pytest.fixture(scope='module')
def service_client_settings(server_class: Type[Server], server_settings: Dict[str, Any]) -> Dict[str, Any]:
    """Client settings that run the server under test in-process (local transport)."""
    return {
        server_class.service_name: {  # type: ignore[dict-item]
            'transport': {
                'path': 'pysoa.common.transport.local:LocalClientTransport',
                'kwargs': {'server_class': server_class, 'server_settings': server_settings},
            },
        },
    }


@pytest.fixture(scope='module')
def service_client_class(server_class: Type[Server]) -> Type[Client]:
    """A ``Client`` subclass whose ``call_action`` calls the service under test unless told otherwise."""
    default_service_name = server_class.service_name or ''

    class ServiceClient(Client):
        def call_action(  # type: ignore[override]
            self,
            action: str,
            body: Optional[Body] = None,
            service_name: Optional[str] = None,
            **kwargs: Any,
        ) -> ActionResponse:
            return super().call_action(service_name or default_service_name, action, body=body, **kwargs)

    return ServiceClient


@pytest.fixture(scope='module')
def service_client(
    server_class: Type[Server],
    service_client_class: Type[Client],
    service_client_settings: Dict[str, Any],
) -> Client:
    """A client for the service under test (its server's Django database cleanup is off)."""
    client = service_client_class(service_client_settings)
    server = getattr(client._get_handler(server_class.service_name or '').transport, 'server', None)
    if server is not None:
        server._skip_django_database_cleanup = True
    return client


@pytest.fixture
def action_stubber() -> Iterator[Callable[..., Any]]:
    """``stub(service, action, body=None, errors=None, side_effect=None)`` stubs an action until the test ends."""
    from pysoa.test.stub_service import stub_action

    stubs: List[Any] = []

    def stub(
        service: str,
        action: str,
        body: Optional[Body] = None,
        errors: Optional[List[Error]] = None,
        side_effect: Any = None,
    ) -> Any:
        stubbed = stub_action(service, action, body=body, errors=errors, side_effect=side_effect)
        stubs.append(stubbed)
        return stubbed.__enter__()

    yield stub
    for stubbed in reversed(stubs):
        stubbed.__exit__(None, None, None)
