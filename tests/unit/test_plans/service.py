"""
The small service the test plans of this directory run against (``plans``), and the helpers its actions use (which
the plans mock).
"""

import datetime
from typing import (
    Any,
    Dict,
)

from pysoa.common.errors import Error
from pysoa.server.action.base import Action
from pysoa.server.errors import (
    ActionError,
    JobError,
)
from pysoa.server.server import Server
from pysoa.server.types import EnrichedActionRequest


class LookupFailed(Exception):
    """Raised by :func:`lookup` (when the plans mock it to)."""


def lookup(key: str) -> str:
    """A module-level function the plans mock."""
    return f'real {key}'


class Catalog:
    """A class the plans mock (an upper-case mock target)."""

    def __init__(self, name: str = 'default') -> None:
        self.name = name

    def get(self, key: str) -> str:
        return f'{self.name}: {key}'


class EchoAction(Action):
    """Returns the request body as it is."""

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        return dict(request.body)


class HeadersAction(Action):
    """Tells what the job's headers carried: the ``custom`` values of the context and control headers, and switches."""

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        return {
            'context_custom': request.context.get('custom'),
            'control_custom': request.control.get('custom'),
            'switch_7_active': request.switches.is_active(7),
        }


class FailAction(Action):
    """Fails with the errors listed in the request: ``{'errors': [{'code': ..., 'field': ..., 'message': ...}]}``."""

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        raise ActionError(
            [
                Error(code=e['code'], message=e.get('message', 'It failed'), field=e.get('field'))
                for e in request.body['errors']
            ]
        )


class FailJobAction(Action):
    """Fails the whole job with one error of the requested code."""

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        raise JobError([Error(code=request.body.get('code', 'JOB_FAILED'), message='The job failed')])


class CrashAction(Action):
    """Raises an unexpected exception (the client gets a SERVER_ERROR)."""

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        raise ValueError('Something broke')


class UseHelpersAction(Action):
    """Calls :func:`lookup` and :class:`Catalog` (which the plans mock) and returns what they returned."""

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        key = request.body.get('key', 'k')
        result: Dict[str, Any] = {}
        try:
            result['lookup'] = lookup(key)
        except LookupFailed:
            result['lookup_failed'] = True
        catalog = Catalog('books')
        result['catalog'] = catalog.get(key)
        result['catalog_name'] = getattr(catalog, 'name', '(deleted)')
        if request.body.get('twice'):
            result['lookup_again'] = lookup(key + '2')
        return result


class CallUsersAction(Action):
    """Calls ``users.get_user`` (which the plans stub) and returns its response body, or its errors."""

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        assert request.client is not None
        response = request.client.call_actions(
            'users',
            [{'action': 'get_user', 'body': request.body}],
            raise_action_errors=False,
        ).actions[0]
        if response.errors:
            return {'errors': [{'code': e.code, 'field': e.field, 'message': e.message} for e in response.errors]}
        return {'user': response.body}


class NowAction(Action):
    """The current date and time, as the server sees them (the plans freeze them)."""

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        return {'now': now, 'year': now.year, 'today': datetime.date.today()}


class PlansServer(Server):
    """The service under test."""

    service_name = 'plans'
    action_class_map = {
        'echo': EchoAction,
        'input_echo': EchoAction,  # action names starting with `input` and `expect` work (SPEC §17 #13)
        'expect_echo': EchoAction,
        'headers': HeadersAction,
        'fail': FailAction,
        'fail_job': FailJobAction,
        'crash': CrashAction,
        'use_helpers': UseHelpersAction,
        'call_users': CallUsersAction,
        'now': NowAction,
    }


SERVER_SETTINGS: Dict[str, Any] = {}
