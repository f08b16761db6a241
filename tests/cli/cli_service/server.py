"""The ``cli`` service: actions that succeed, fail and report what they received, and a health check to fail."""

import os
from typing import (
    Any,
    Dict,
)

from conformity import fields

from pysoa.common.errors import Error
from pysoa.server.action.base import Action
from pysoa.server.action.status import (
    BaseStatusAction,
    CheckMethodReturn,
    CheckMethodStatus,
)
from pysoa.server.errors import ActionError
from pysoa.server.server import Server
from pysoa.server.types import EnrichedActionRequest


UNHEALTHY_FILE_VARIABLE = 'CLI_SERVICE_UNHEALTHY_FILE'


class SquareAction(Action):
    """Squares a number."""

    request_schema = fields.Dictionary({'number': fields.Integer(description='The number to square')})
    response_schema = fields.Dictionary({'square': fields.Integer()})

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        return {'square': request.body['number'] ** 2}


class HeadersAction(Action):
    """Returns the context and switches of its request."""

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        return {
            'context': {key: request.context.get(key) for key in ('user_id', 'label')},
            'switches': sorted(request.switches),
        }


class RefuseAction(Action):
    """Always fails, with two errors."""

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        raise ActionError(
            [
                Error(code='NOT_FOUND', message='No such user', field='user_id'),
                Error(code='FORBIDDEN', message='Not yours\nto see'),
            ]
        )


class StatusAction(BaseStatusAction):
    """Healthy, unless the file named by ``CLI_SERVICE_UNHEALTHY_FILE`` exists."""

    _version = '3.1.4'

    def check_flag_file(self, request: EnrichedActionRequest) -> CheckMethodReturn:
        path = os.environ.get(UNHEALTHY_FILE_VARIABLE, '')
        self.diagnostics['flag_file'] = path
        if path and os.path.exists(path):
            return [
                CheckMethodStatus(True, 'FLAGGED', 'The flag file exists'),
                CheckMethodStatus(False, 'SLOW_DISK', 'The disk is slow'),
            ]
        return None


class CliServer(Server):
    """The service the pysoa command's tests call."""

    service_name = 'cli'
    action_class_map = {
        'square': SquareAction,
        'headers': HeadersAction,
        'refuse': RefuseAction,
        'status': StatusAction,
    }
