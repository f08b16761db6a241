"""
Real services for the ``stub_action`` tests, run in-process through the local transport, so that stubbed and real
actions can be mixed in one job. Every real action run is recorded in :data:`REAL_CALLS`.
"""

from typing import (
    Any,
    Dict,
    List,
    Tuple,
    Type,
)

from pysoa.client.client import Client
from pysoa.common.errors import Error
from pysoa.server.action.base import Action
from pysoa.server.errors import ActionError
from pysoa.server.server import Server
from pysoa.server.types import EnrichedActionRequest


REAL_CALLS: List[Tuple[str, str, Dict[str, Any]]] = []
"""``(service, action, body)`` of every real action run, oldest first."""

REAL_ERROR = Error(code='REAL_FAILURE', message='The real action failed', is_caller_error=True)


class _RecordingAction(Action):
    service = 'unknown'

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        REAL_CALLS.append((self.service, request.action, dict(request.body)))
        return self.respond(request)

    def respond(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        return {'real': self.service, **request.body}


class SvcEchoAction(_RecordingAction):
    """Returns its body with ``real: 'svc'``."""

    service = 'svc'


class OtherEchoAction(_RecordingAction):
    """Returns its body with ``real: 'other'``."""

    service = 'other'


class FailAction(_RecordingAction):
    """Always fails with :data:`REAL_ERROR`."""

    service = 'svc'

    def respond(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        raise ActionError([REAL_ERROR])


class CallGhostAction(_RecordingAction):
    """Calls ``ghost.get_user`` (a service no client is configured for) with its body and returns that response."""

    service = 'svc'

    def respond(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        assert request.client is not None
        return {'ghost_said': request.client.call_action('ghost', 'get_user', dict(request.body)).body}


class SvcServer(Server):
    """The service ``svc``: ``echo``, ``fail``, ``call_ghost`` and ``get_user`` (which tests usually stub) are real."""

    service_name = 'svc'
    action_class_map = {
        'echo': SvcEchoAction,
        'fail': FailAction,
        'call_ghost': CallGhostAction,
        'get_user': SvcEchoAction,
    }


class OtherServer(Server):
    """The service ``other``: ``echo`` and ``get_user`` are real."""

    service_name = 'other'
    action_class_map = {'echo': OtherEchoAction, 'get_user': OtherEchoAction}


def local_service(server_class: Type[Server]) -> Dict[str, Any]:
    return {
        'transport': {
            'path': 'pysoa.common.transport.local:LocalClientTransport',
            'kwargs': {'server_class': server_class, 'server_settings': {}},
        },
    }


def make_client(**kwargs: Any) -> Client:
    """A client for the real services ``svc`` and ``other``; ``ghost`` and any other service are unconfigured."""
    REAL_CALLS.clear()
    return Client({'svc': local_service(SvcServer), 'other': local_service(OtherServer)}, **kwargs)


def actions(*names: str) -> List[Dict[str, Any]]:
    """Action requests for ``names``, each with the body ``{'n': <position>}``."""
    return [{'action': name, 'body': {'n': position}} for position, name in enumerate(names)]


def weather() -> str:
    """Something for tests to ``mock.patch`` next to their stubs."""
    return 'sunny'


def temperature() -> int:
    """Something else for tests to ``mock.patch`` next to their stubs."""
    return 20


HELPERS = 'tests.unit.test_toolkit.stub_helpers'
"""The import path of this module, for ``mock.patch`` targets."""

ORIGINAL_CLIENT_METHODS = {
    name: Client.__dict__[name] for name in ('send_request', 'get_all_responses', '_get_handler')
}


def assert_client_restored(client: Client) -> None:
    """Check that no stub is active any more: the ``Client`` methods are the real ones and ``get_user`` is real."""
    assert {name: Client.__dict__[name] for name in ORIGINAL_CLIENT_METHODS} == ORIGINAL_CLIENT_METHODS
    assert client.call_action('svc', 'get_user', {'id': 1}).body == {'real': 'svc', 'id': 1}
