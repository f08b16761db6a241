"""
The example service's test plans: the ``plans/*.pysoa`` files, run by PySOA's pytest plugin (``pytest
example_service/tests``), each test case a test named ``<fixture>::<test name>``.
"""

import os

from example_service.server import ExampleServer
from example_service.settings import SOA_SERVER_SETTINGS
from pysoa.test.plan import ServicePlanTestCase


class TestExampleServicePlans(ServicePlanTestCase):
    server_class = ExampleServer
    server_settings = SOA_SERVER_SETTINGS  # the test case runs the server in-process: its transport is replaced
    fixture_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'plans')
