"""
The command line of a service (``pysoa.server.standalone`` and ``Server.main``): the double-import guard, the
settings option, ``--help``, unknown options (a usage error), and ``--daemon``.
"""

import os
import pathlib
import signal

from pysoa.client.client import Client
from tests.process.helpers import (
    SAMPLE_MODULE,
    StartService,
    call,
    handles_signal,
    parse_pid_line,
    wait_for,
    wait_until_gone,
)
from tests.support.redis_processes import RedisServer


def test_service_script_run_by_path_exits_99_from_the_double_import_guard(
    start_service: StartService,
    tmp_path: pathlib.Path,
) -> None:
    script = tmp_path / 'standalone.py'
    script.write_text('from pysoa.server import standalone  # noqa: F401\nprint("guard passed")\n')

    service = start_service(str(script), '-s', 'whatever')

    assert service.wait(30) == 99
    assert 'ERROR: You have triggered a double-import trap' in service.output()
    assert 'guard passed' not in service.output()


def test_code_run_with_dash_c_passes_the_double_import_guard(start_service: StartService) -> None:
    service = start_service('-c', 'from pysoa.server import standalone; print("guard passed")')

    assert service.wait(30) == 0
    assert 'guard passed' in service.output()


def test_missing_settings_option_is_a_usage_error(start_service: StartService) -> None:
    service = start_service('-m', SAMPLE_MODULE)

    assert service.wait(30) == 2
    assert 'the following arguments are required: -s/--settings' in service.output()


def test_unimportable_settings_module_is_reported(start_service: StartService) -> None:
    service = start_service('-m', SAMPLE_MODULE, '-s', 'no_such_settings_module')

    assert service.wait(30) == 1
    assert 'ValueError: Cannot import settings module `no_such_settings_module`' in service.output()


def test_settings_module_without_settings_variable_is_reported(
    start_service: StartService,
    tmp_path: pathlib.Path,
) -> None:
    (tmp_path / 'empty_settings.py').write_text('OTHER_THING = 1\n')

    service = start_service('-m', SAMPLE_MODULE, '-s', 'empty_settings', python_path=[tmp_path])

    assert service.wait(30) == 1
    assert (
        'ValueError: Cannot find `SOA_SERVER_SETTINGS` or `settings` variable in settings module `empty_settings`.'
    ) in service.output()


def test_settings_module_may_name_its_variable_settings(
    start_service: StartService,
    redis_server: RedisServer,
    client: Client,
    tmp_path: pathlib.Path,
) -> None:
    (tmp_path / 'lower_settings.py').write_text(
        'from tests.process.sample_service.settings import SOA_SERVER_SETTINGS as settings  # noqa: F401\n',
    )

    service = start_service(
        '-m',
        SAMPLE_MODULE,
        '-s',
        'lower_settings',
        python_path=[tmp_path],
        env={'SAMPLE_REDIS_PORT': str(redis_server.port)},
    )
    service.wait_until_serving()

    assert call(client, 'sample', 'who_am_i').body['pid'] == service.pid


def test_unknown_option_is_a_usage_error_naming_the_program(start_sample_service: StartService) -> None:
    service = start_sample_service('--not-a-pysoa-option')

    assert service.wait(30) == 2
    assert f'python -m {SAMPLE_MODULE}: error: unrecognized arguments: --not-a-pysoa-option' in service.output()


def test_help_lists_every_option_of_the_service_command_line(start_service: StartService) -> None:
    service = start_service('-m', SAMPLE_MODULE, '--help')

    assert service.wait(30) == 0
    output = service.output()
    assert f'usage: python -m {SAMPLE_MODULE}' in output
    for option in (
        '-s MODULE, --settings MODULE',
        '-d, --daemon',
        '--fork N',
        '--no-respawn',
        '--hung-worker-timeout SECONDS',
        '--startup-timeout SECONDS',
        '--shutdown-timeout SECONDS',
        '--metrics-port [HOST:]PORT',
        '--use-file-watcher',
    ):
        assert option in output


def test_daemon_option_prints_the_pid_of_the_serving_background_process(
    start_sample_service: StartService,
    client: Client,
) -> None:
    service = start_sample_service('--daemon')

    assert service.wait(30) == 0
    daemon_pid = parse_pid_line(service.output())
    assert daemon_pid != service.pid
    wait_for(lambda: handles_signal(daemon_pid, signal.SIGTERM), 15, 'the daemon to be serving')
    assert call(client, 'sample', 'who_am_i').body['pid'] == daemon_pid

    os.kill(daemon_pid, signal.SIGTERM)
    wait_until_gone([daemon_pid], 10, 'the daemon to stop')
