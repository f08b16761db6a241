"""
This project's interop service: the twin of ``original/interop_service.py`` (written for PySOA 1.4.9), action for
action, so that each test can expect the same answers from either server.
"""

import itertools
from typing import Any, Dict

from pysoa.common.errors import Error
from pysoa.server.action.base import Action
from pysoa.server.errors import (
    ActionError,
    JobError,
)
from pysoa.server.server import Server
from pysoa.server.types import EnrichedActionRequest
from tests.redis.interop.original import wire_values


class EchoAction(Action):
    """Returns the request body."""

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        return dict(request.body)


class DescribeAction(Action):
    """Returns the tagged JSON form of ``body['value']``, exactly as this server decoded it."""

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        return {'described': wire_values.to_json(request.body['value'])}


class MakeValueAction(Action):
    """Returns ``{'value': MSGPACK_ONLY_VALUES[body['name']]}``, for the client to decode."""

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        return {'value': wire_values.MSGPACK_ONLY_VALUES[request.body['name']]}


class BigAction(Action):
    """Returns ``big_body(body['rows'])``: large enough to be chunked."""

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        return wire_values.big_body(request.body['rows'])  # type: ignore[no-any-return]


class FailActionAction(Action):
    """Fails this action with two errors, one of them on a field."""

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        raise ActionError(
            [
                Error(code='OUT_OF_STOCK', message='No more red widgets', field='item.color'),
                Error(code='LIMIT', message='At most 3 per order', variables={'limit': '3'}),
            ]
        )


class FailJobAction(Action):
    """Fails the whole job."""

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        raise JobError([Error(code='MAINTENANCE', message='Down for maintenance until 03:00', is_caller_error=False)])


_count_runs = itertools.count(1)


class CountAction(Action):
    """Returns how many times this action has run in this server process, this time included."""

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        return {'runs': next(_count_runs)}


class InteropServer(Server):
    service_name = 'interop'
    action_class_map = {
        'echo': EchoAction,
        'describe': DescribeAction,
        'make_value': MakeValueAction,
        'big': BigAction,
        'fail_action': FailActionAction,
        'fail_job': FailJobAction,
        'count': CountAction,
    }


class LateInteropServer(InteropServer):
    """The same service under another name, for tests that start a server after their requests are queued."""

    service_name = 'interop_late'
