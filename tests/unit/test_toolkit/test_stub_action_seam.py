"""
How ``stub_action`` reaches clients: every client consults the process's stub registry while a stub is active. No
class of the library is changed, and clients created anywhere, at any time, in any thread, see the active stubs.
"""

import threading
from typing import (
    Any,
    Dict,
    List,
    Type,
)

from pysoa.client._stub_registry import stub_registry
from pysoa.client.client import Client
from pysoa.client.future import FutureSOAResponse
from pysoa.client.service_handler import ServiceHandler
from pysoa.common.types import ActionResponse
from pysoa.test.stub_service import (
    StubClient,
    stub_action,
)

from .stub_helpers import make_client


LIBRARY_CLASSES: List[Type[Any]] = [Client, ServiceHandler, FutureSOAResponse, StubClient]


def class_attributes() -> Dict[str, Dict[str, Any]]:
    return {cls.__qualname__: dict(vars(cls)) for cls in LIBRARY_CLASSES}


def test_starting_a_stub_changes_no_attribute_of_any_client_class() -> None:
    before = class_attributes()

    with stub_action('svc', 'get_user', body={'stub': True}):
        during = class_attributes()

    assert during == before
    assert class_attributes() == before


def test_stub_reaches_a_client_created_after_the_stub_started() -> None:
    with stub_action('svc', 'get_user', body={'stub': True}):
        client = make_client()

        assert client.call_action('svc', 'get_user').body == {'stub': True}


def test_stub_reaches_a_client_created_before_the_stub_started() -> None:
    client = make_client()

    with stub_action('svc', 'get_user', body={'stub': True}):
        assert client.call_action('svc', 'get_user').body == {'stub': True}


def test_stub_reaches_instances_of_client_subclasses() -> None:
    class CustomClient(Client):
        pass

    client = CustomClient({})

    with stub_action('ghost', 'get_user', body={'stub': True}):
        assert client.call_action('ghost', 'get_user').body == {'stub': True}


def test_stub_reaches_clients_in_other_threads() -> None:
    responses: List[ActionResponse] = []

    def call() -> None:
        responses.append(Client({}).call_action('ghost', 'get_user'))

    with stub_action('ghost', 'get_user', body={'stub': True}):
        thread = threading.Thread(target=call)
        thread.start()
        thread.join(timeout=10)

    assert not thread.is_alive()
    assert [response.body for response in responses] == [{'stub': True}]


def test_clients_consult_the_registry_only_while_a_stub_is_active() -> None:
    assert not stub_registry.active

    with stub_action('svc', 'get_user'):
        with stub_action('svc', 'echo'):
            assert stub_registry.active
        assert stub_registry.active

    assert not stub_registry.active
