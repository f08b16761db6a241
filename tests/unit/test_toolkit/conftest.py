"""
Shared by the toolkit tests: pytest's ``pytester`` and a small service, ``toolkit``, that generated test projects (and
the in-process tests) use.
"""

import importlib
import importlib.util
from types import ModuleType

import pytest


TOOLKIT_SERVICE = '''
from conformity import fields

from pysoa.common.errors import Error
from pysoa.server.action.base import Action
from pysoa.server.errors import ActionError
from pysoa.server.server import Server


class SquareAction(Action):
    request_schema = fields.Dictionary({'number': fields.Integer()})
    response_schema = fields.Dictionary({'square': fields.Integer()})

    def run(self, request):
        return {'square': request.body['number'] ** 2}


class FailAction(Action):
    """Fails with the errors listed in the request: ``{'errors': [{'code': ..., 'field': ...}, ...]}``."""

    def run(self, request):
        raise ActionError([
            Error(code=e['code'], message=e.get('message', 'It failed'), field=e.get('field'))
            for e in request.body['errors']
        ])


class SettingsAction(Action):
    """Tells which settings the server got: its ``extra_fields_to_redact``."""

    def run(self, request):
        return {'extra_fields_to_redact': sorted(self.settings['extra_fields_to_redact'])}


class GreetAction(Action):
    """Greets a user whose name comes from the ``users`` service."""

    request_schema = fields.Dictionary({'user_id': fields.Integer()})

    def run(self, request):
        user = request.client.call_action('users', 'get_user', {'id': request.body['user_id']})
        return {'greeting': 'Hello, {}!'.format(user.body['name'])}


class ToolkitServer(Server):
    service_name = 'toolkit'
    action_class_map = {
        'square': SquareAction,
        'fail': FailAction,
        'settings': SettingsAction,
        'greet': GreetAction,
    }
'''

TOOLKIT_SETTINGS = """
SOA_SERVER_SETTINGS = {'extra_fields_to_redact': {'from_soa_server_settings'}}
"""


def pytest_configure(config: pytest.Config) -> None:
    # `pytest_plugins = ['pytester']` is only allowed in a conftest at the rootdir, so register the plugin here.
    config.pluginmanager.import_plugin('pytester')
    if (
        config.pluginmanager.has_plugin('hypothesispytest')
        and importlib.util.find_spec('hypothesis.internal.observability') is not None
    ):  # not in the Hypothesis of Python 3.9 (6.91)
        # An in-process pytester run forgets the modules imported during it, and Hypothesis's plugin imports
        # Hypothesis at the end of every run: imported once here, it stays, which saves a second or two per run.
        importlib.import_module('hypothesis.internal.observability')


@pytest.fixture
def toolkit_service(pytester: pytest.Pytester) -> ModuleType:
    """
    Writes the modules ``toolkit_service`` (``ToolkitServer``) and ``toolkit_settings`` (``SOA_SERVER_SETTINGS``) into
    the pytester directory, makes them importable, and returns ``toolkit_service``.
    """
    pytester.makepyfile(toolkit_service=TOOLKIT_SERVICE, toolkit_settings=TOOLKIT_SETTINGS)
    pytester.syspathinsert()
    return importlib.import_module('toolkit_service')
