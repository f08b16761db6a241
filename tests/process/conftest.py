"""
Fixtures for tests that run real service processes against a real ``redis-server`` (never the one on port 6379).
"""

import json
import pathlib
from typing import (
    Any,
    Dict,
    Iterator,
    List,
    Optional,
)

import pytest

from pysoa.client.client import Client
from tests.process.helpers import (
    SAMPLE_MODULE,
    SAMPLE_SETTINGS,
    ServiceProcess,
    StartService,
    make_client,
)
from tests.support.redis_processes import (
    RedisServer,
)


@pytest.fixture
def start_service(tmp_path: pathlib.Path) -> Iterator[StartService]:
    """
    ``start_service(*python_arguments, env=..., python_path=..., cwd=...)`` starts ``python <python_arguments>``
    (e.g. ``'-m', 'my_service', '-s', 'my_service.settings'``; see :class:`ServiceProcess`). Whatever the test did,
    every process each one started is killed afterwards, and the test fails if any survives.
    """
    services: List[ServiceProcess] = []

    def start(*python_arguments: str, **kwargs: Any) -> ServiceProcess:
        output_file = tmp_path / f'service-{len(services) + 1}.out'
        service = ServiceProcess(python_arguments, output_file, **kwargs)
        services.append(service)
        return service.start()

    yield start

    for service in services:
        service.cleanup()


@pytest.fixture
def start_sample_service(start_service: StartService, redis_server: RedisServer) -> StartService:
    """
    ``start_sample_service(*arguments, heartbeat_file=None, harakiri=None, env=None)`` runs the sample service
    (``python -m tests.process.sample_service -s tests.process.sample_service.settings <arguments>``) on the test's
    Redis.
    """

    def start(
        *arguments: str,
        heartbeat_file: Optional[str] = None,
        harakiri: Optional[Dict[str, int]] = None,
        env: Optional[Dict[str, str]] = None,
    ) -> ServiceProcess:
        environment = {'SAMPLE_REDIS_PORT': str(redis_server.port)}
        if heartbeat_file:
            environment['SAMPLE_HEARTBEAT_FILE'] = heartbeat_file
        if harakiri:
            environment['SAMPLE_HARAKIRI'] = json.dumps(harakiri)
        environment.update(env or {})
        return start_service('-m', SAMPLE_MODULE, '-s', SAMPLE_SETTINGS, *arguments, env=environment)

    return start


@pytest.fixture
def client(redis_server: RedisServer) -> Client:
    """A client of the sample service (``sample``) on the test's Redis."""
    return make_client(redis_server.port, 'sample')
