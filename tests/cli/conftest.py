"""
The ``pysoa`` command end to end: its console script, run as a process, against a real ``redis-server`` and a real
service process (``tests/cli/cli_service``) configured by ``PYSOA_REDIS_URL`` alone.
"""

import pathlib
import subprocess
import sys
from typing import (
    Iterator,
    Mapping,
    NamedTuple,
    Optional,
)

import pytest

from tests.process.helpers import (
    ServiceProcess,
    process_environment,
)
from tests.redis.conftest import (  # noqa: F401  (fixtures for the URL form tests, shared this way)
    sentinel_cluster,
    tls_acl_redis_server,
    tls_files,
)
from tests.support.redis_processes import RedisServer


class CliService(NamedTuple):
    """The running ``cli`` service: its Redis URL, and the file whose existence fails its health check."""

    url: str
    unhealthy_file: pathlib.Path
    process: ServiceProcess


class Run(NamedTuple):
    """What one run of the ``pysoa`` command did."""

    status: int
    stdout: str
    stderr: str


PYSOA_SCRIPT = pathlib.Path(sys.executable).parent / 'pysoa'


def run_pysoa(
    *arguments: str,
    env: Optional[Mapping[str, str]] = None,
    cwd: Optional[pathlib.Path] = None,
    stdin: Optional[str] = None,
) -> Run:
    """Run the ``pysoa`` console script with ``arguments`` (``PYSOA_REDIS_URL`` unset unless ``env`` sets it)."""
    if not PYSOA_SCRIPT.exists():
        pytest.fail(f'{PYSOA_SCRIPT} is missing: reinstall the project (pip install -e .) to get its console script')
    environment = process_environment(env)
    if 'PYSOA_REDIS_URL' not in (env or {}):
        environment.pop('PYSOA_REDIS_URL', None)  # the test run's own must not leak in
    result = subprocess.run(
        [str(PYSOA_SCRIPT), *arguments],
        env=environment,
        cwd=str(cwd or '/'),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return Run(result.returncode, result.stdout, result.stderr)


@pytest.fixture(scope='module')
def cli_service(redis_session_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CliService]:
    """The ``cli`` service, one process for the module, taking requests from database 0 of the session's Redis."""
    directory = tmp_path_factory.mktemp('cli-service')
    url = f'redis://127.0.0.1:{redis_session_server.port}/0'
    unhealthy_file = directory / 'unhealthy'
    process = ServiceProcess(
        ['-m', 'tests.cli.cli_service', '-s', 'tests.cli.cli_service.settings'],
        directory / 'service.out',
        env={'PYSOA_REDIS_URL': url, 'CLI_SERVICE_UNHEALTHY_FILE': str(unhealthy_file)},
    )
    process.start()
    try:
        process.wait_until_serving()
        yield CliService(url, unhealthy_file, process)
    finally:
        process.cleanup()
