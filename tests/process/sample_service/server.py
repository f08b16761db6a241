import os
import time
from typing import (
    Any,
    Dict,
)

from conformity import fields

from pysoa.server.action.base import Action
from pysoa.server.server import Server
from pysoa.server.types import EnrichedActionRequest


class WhoAmIAction(Action):
    """Which worker process answered."""

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        return {'pid': os.getpid(), 'fork_id': self.settings.get('fork_id') if self.settings else None}


class SleepAction(Action):
    """Sleeps, to outlive signals and harakiri timeouts."""

    request_schema = fields.Dictionary({'seconds': fields.Float()})

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        started = time.time()
        time.sleep(request.body['seconds'])
        return {'slept': time.time() - started, 'pid': os.getpid()}


class StubbornSleepAction(Action):
    """Sleeps and swallows harakiri's interrupt, so only the forced exit can stop it."""

    request_schema = fields.Dictionary({'seconds': fields.Float()})

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        deadline = time.time() + request.body['seconds']
        while time.time() < deadline:
            try:
                time.sleep(0.1)
            except BaseException:  # deliberately swallows HarakiriInterrupt
                pass
        return {'pid': os.getpid()}


class SampleServer(Server):
    """The sample service. With ``SAMPLE_FAIL_WHEN_IDLE`` set, its idle hook fails (outside any job)."""

    service_name = 'sample'
    action_class_map = {
        'who_am_i': WhoAmIAction,
        'sleep': SleepAction,
        'stubborn_sleep': StubbornSleepAction,
    }

    def perform_idle_actions(self) -> None:
        super().perform_idle_actions()
        if os.environ.get('SAMPLE_FAIL_WHEN_IDLE'):
            raise RuntimeError('The sample idle hook failed')
