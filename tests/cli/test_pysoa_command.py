"""
``pysoa call``, ``pysoa status`` and ``pysoa introspect`` against a real service process over a real Redis: what
they print and the exit status a script or a probe gets (0 success, 1 errors, 2 usage error, 3 no answer).
"""

import json
import pathlib
from typing import Iterator

import pytest

from tests.cli.conftest import (
    CliService,
    run_pysoa,
)
from tests.support.redis_processes import free_port


@pytest.fixture
def healthy(cli_service: CliService) -> Iterator[CliService]:
    cli_service.unhealthy_file.unlink(missing_ok=True)
    yield cli_service
    cli_service.unhealthy_file.unlink(missing_ok=True)


# pysoa call -----------------------------------------------------------------------------------------------------------


def test_call_prints_the_response_body_as_pretty_json(cli_service: CliService) -> None:
    run = run_pysoa('call', 'cli', 'square', '{"number": 7}', '--redis', cli_service.url)

    assert run.status == 0, run.stderr
    assert run.stdout == '{\n  "square": 49\n}\n'


def test_call_finds_the_redis_in_pysoa_redis_url(cli_service: CliService) -> None:
    run = run_pysoa('call', 'cli', 'square', '{"number": 3}', env={'PYSOA_REDIS_URL': cli_service.url})

    assert (run.status, json.loads(run.stdout)) == (0, {'square': 9})


def test_call_reads_the_body_from_standard_input_given_a_dash(cli_service: CliService) -> None:
    run = run_pysoa('call', 'cli', 'square', '-', '--redis', cli_service.url, stdin='{"number": 4}')

    assert json.loads(run.stdout) == {'square': 16}


def test_call_prints_the_errors_one_per_line_and_exits_1(cli_service: CliService) -> None:
    run = run_pysoa('call', 'cli', 'refuse', '--redis', cli_service.url)

    assert run.status == 1
    assert run.stdout == ''
    assert run.stderr.splitlines() == ['NOT_FOUND\tuser_id\tNo such user', 'FORBIDDEN\t-\tNot yours to see']


def test_call_of_an_invalid_request_prints_the_field_errors(cli_service: CliService) -> None:
    run = run_pysoa('call', 'cli', 'square', '{"number": "seven"}', '--redis', cli_service.url)

    assert run.status == 1
    assert run.stderr.startswith('INVALID\tnumber\t')


def test_call_of_an_unknown_action_exits_1(cli_service: CliService) -> None:
    run = run_pysoa('call', 'cli', 'cube', '--redis', cli_service.url)

    assert run.status == 1
    assert run.stderr.startswith('UNKNOWN\taction\t')


def test_call_with_json_prints_the_whole_job_response(cli_service: CliService) -> None:
    run = run_pysoa('call', 'cli', 'square', '{"number": 2}', '--json', '--redis', cli_service.url)

    response = json.loads(run.stdout)
    assert run.status == 0
    assert response['errors'] == []
    assert response['actions'] == [{'action': 'square', 'errors': [], 'body': {'square': 4}}]
    assert 'correlation_id' in response['context']


def test_call_with_json_of_a_failed_action_prints_the_response_and_exits_1(cli_service: CliService) -> None:
    run = run_pysoa('call', 'cli', 'refuse', '--json', '--redis', cli_service.url)

    assert run.status == 1
    assert [error['code'] for error in json.loads(run.stdout)['actions'][0]['errors']] == ['NOT_FOUND', 'FORBIDDEN']


def test_call_sends_context_values_and_switches(cli_service: CliService) -> None:
    run = run_pysoa(
        'call',
        'cli',
        'headers',
        '--redis',
        cli_service.url,
        '--context',
        'user_id=42',
        '--context',
        'label=blue',
        '--switch',
        '5',
        '--switch',
        '7',
    )

    assert json.loads(run.stdout) == {'context': {'user_id': 42, 'label': 'blue'}, 'switches': [5, 7]}


def test_call_takes_the_client_settings_from_a_settings_module_in_the_current_folder(
    cli_service: CliService,
    tmp_path: pathlib.Path,
) -> None:
    (tmp_path / 'callers_settings.py').write_text(
        'from pysoa.common.transport.redis_gateway.url_settings import client_transport_settings\n'
        f'SOA_CLIENT_SETTINGS = {{"cli": {{"transport": client_transport_settings({cli_service.url!r})}}}}\n',
    )

    run = run_pysoa('call', 'cli', 'square', '{"number": 5}', '--settings', 'callers_settings', cwd=tmp_path)

    assert (run.status, json.loads(run.stdout)) == (0, {'square': 25}), run.stderr


def test_call_with_the_settings_module_of_the_service_itself_uses_its_redis(cli_service: CliService) -> None:
    run = run_pysoa(
        'call',
        'cli',
        'square',
        '{"number": 6}',
        '--settings',
        'tests.cli.cli_service.settings',
        env={'PYSOA_REDIS_URL': cli_service.url},
    )

    assert (run.status, json.loads(run.stdout)) == (0, {'square': 36}), run.stderr


def test_call_nobody_answers_exits_3_saying_so(cli_service: CliService) -> None:
    run = run_pysoa('call', 'nobody', 'square', '--redis', cli_service.url, '--timeout', '1')

    assert run.status == 3
    assert run.stderr.startswith(
        'pysoa call: no answer from service nobody: No response from service nobody arrived within 1 seconds',
    )
    assert 'The request went to queue pysoa:service.nobody on Redis 127.0.0.1:' in run.stderr


def test_call_to_a_redis_nobody_listens_on_exits_3_with_the_transport_error() -> None:
    run = run_pysoa('call', 'cli', 'square', '--redis', f'redis://127.0.0.1:{free_port()}', '--timeout', '2')

    assert run.status == 3
    assert run.stderr.startswith('pysoa call: transport error calling service cli: MessageSendError: ')


def test_call_runs_a_local_server_class_without_redis() -> None:
    run = run_pysoa('call', 'cli', 'square', '{"number": 8}', '--local', 'tests.cli.cli_service.server:CliServer')

    assert (run.status, json.loads(run.stdout)) == (0, {'square': 64}), run.stderr


# pysoa status ---------------------------------------------------------------------------------------------------------


def test_status_of_a_healthy_service_prints_its_versions_and_exits_0(healthy: CliService) -> None:
    run = run_pysoa('status', 'cli', '--redis', healthy.url)

    lines = run.stdout.splitlines()
    assert run.status == 0
    assert lines[0] == 'cli 3.1.4'
    assert lines[1].startswith('  pysoa 2.0.0, conformity ')
    assert lines[2] == 'healthy'


def test_status_of_a_service_whose_health_check_fails_exits_1_naming_the_problems(healthy: CliService) -> None:
    healthy.unhealthy_file.touch()

    run = run_pysoa('status', 'cli', '--redis', healthy.url)

    assert run.status == 1
    assert run.stdout.splitlines()[2:] == [
        'unhealthy: 1 error, 1 warning',
        '  error FLAGGED: The flag file exists',
        '  warning SLOW_DISK: The disk is slow',
    ]


def test_status_verbose_prints_the_diagnostics(healthy: CliService) -> None:
    run = run_pysoa('status', 'cli', '--verbose', '--redis', healthy.url)

    assert run.stdout.splitlines()[3] == 'diagnostics:'
    assert json.loads(run.stdout.split('diagnostics:\n', 1)[1]) == {'flag_file': str(healthy.unhealthy_file)}


def test_status_json_prints_the_status_body(healthy: CliService) -> None:
    run = run_pysoa('status', 'cli', '--json', '--redis', healthy.url)

    body = json.loads(run.stdout)
    assert (body['version'], body['healthcheck']['errors']) == ('3.1.4', [])


def test_status_of_a_service_nobody_serves_exits_3(cli_service: CliService) -> None:
    run = run_pysoa('status', 'nobody', '--redis', cli_service.url, '--timeout', '1')

    assert run.status == 3
    assert run.stderr.startswith('pysoa status: no answer from service nobody: ')


# pysoa introspect -----------------------------------------------------------------------------------------------------


def test_introspect_prints_every_action_with_its_documentation_and_schemas(cli_service: CliService) -> None:
    run = run_pysoa('introspect', 'cli', '--redis', cli_service.url)

    assert run.status == 0
    assert run.stdout.startswith("Service cli\n    The service the pysoa command's tests call.\n\n")
    assert (
        'square\n'
        '    Squares a number.\n'
        '    request:\n'
        '        number: integer - The number to square\n'
        '    response:\n'
        '        square: integer\n'
    ) in run.stdout
    assert [line for line in run.stdout.splitlines() if line and not line.startswith(' ')][1:] == [
        'headers',
        'introspect',
        'refuse',
        'square',
        'status',
    ]


def test_introspect_of_one_action_prints_only_that_action(cli_service: CliService) -> None:
    run = run_pysoa('introspect', 'cli', 'refuse', '--redis', cli_service.url)

    assert run.stdout == (
        'refuse\n'
        '    Always fails, with two errors.\n'
        '    request:\n'
        '        (no schema)\n'
        '    response:\n'
        '        (no schema)\n'
        '\n'
    )


def test_introspect_of_an_unknown_action_exits_1(cli_service: CliService) -> None:
    run = run_pysoa('introspect', 'cli', 'cube', '--redis', cli_service.url)

    assert run.status == 1
    assert run.stderr == 'INVALID\taction_name\tAction not defined in service\n'


def test_introspect_json_prints_the_introspect_body(cli_service: CliService) -> None:
    run = run_pysoa('introspect', 'cli', 'square', '--json', '--redis', cli_service.url)

    body = json.loads(run.stdout)
    assert body['action_names'] == ['square']
    assert body['actions']['square']['request_schema']['contents']['number']['type'] == 'integer'


# Usage errors ---------------------------------------------------------------------------------------------------------


def test_a_call_without_a_place_to_find_the_service_is_a_usage_error() -> None:
    run = run_pysoa('call', 'cli', 'square')

    assert run.status == 2
    assert run.stderr == (
        'pysoa call: error: say where service cli is: --redis URL (or the PYSOA_REDIS_URL environment variable), '
        '--settings MODULE (with SOA_CLIENT_SETTINGS) or --local SERVER_CLASS_PATH\n'
    )


def test_an_unreadable_redis_url_is_a_usage_error_that_hides_the_password() -> None:
    run = run_pysoa('call', 'cli', 'square', '--redis', 'redis://:hunter2@redis.internal:63x9')

    assert run.status == 2
    assert 'invalid port "63x9"' in run.stderr
    assert 'hunter2' not in run.stderr


def test_a_body_that_is_not_a_json_object_is_a_usage_error(cli_service: CliService) -> None:
    run = run_pysoa('call', 'cli', 'square', '[1, 2]', '--redis', cli_service.url)

    assert (run.status, run.stderr) == (2, 'pysoa call: error: BODY_JSON must be a JSON object ({...}), not list\n')


def test_an_unknown_option_is_a_usage_error() -> None:
    run = run_pysoa('status', 'cli', '--colour')

    assert run.status == 2
    assert 'unrecognized arguments: --colour' in run.stderr


def test_version_prints_the_pysoa_version() -> None:
    run = run_pysoa('--version')

    assert (run.status, run.stdout) == (0, 'PySOA 2.0.0\n')
