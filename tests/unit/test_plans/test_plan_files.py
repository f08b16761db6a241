"""
The plan files of ``plans/``, covering every directive, data type and path form, run against
:class:`tests.unit.test_plans.service.PlansServer`.
"""

import os
from typing import (
    Any,
    Dict,
)

from pysoa.test.plan import ServicePlanTestCase
from tests.unit.test_plans.service import PlansServer


class TestPlanFiles(ServicePlanTestCase):
    server_class = PlansServer
    server_settings = {}
    fixture_path = os.path.join(os.path.dirname(__file__), 'plans')
    model_constants = {'COLOR': 'blue', 'limits': {'max': 10}, 'USER': {'name': 'Grace'}}

    def _process_stub_action_compute(self, body: Dict[str, Any]) -> Dict[str, Any]:
        return {'doubled': body['x'] * 2}

    def test_a_regular_test_method_runs_too(self) -> None:
        assert self.client.call_action('plans', 'echo', {'a': 1}).body == {'a': 1}
