"""
``pysoa.cli.main`` in this process: a server class run locally (``--local``), client settings found in a settings
module (``--settings``), and the usage errors (exit status 2) of options that cannot be used together or at all.
"""

import pathlib
import sys
from typing import (
    Any,
    Dict,
    List,
    Tuple,
)

import pytest
from conformity import fields

from pysoa.cli import main
from pysoa.server.action.base import Action
from pysoa.server.server import Server
from pysoa.server.types import EnrichedActionRequest


class EchoAction(Action):
    """Echoes its body."""

    request_schema = fields.Dictionary({'text': fields.UnicodeString()})

    def run(self, request: EnrichedActionRequest) -> Dict[str, Any]:
        redacted = sorted(self.settings['extra_fields_to_redact']) if self.settings else None
        return {'text': request.body['text'], 'settings_value': redacted}


class EchoServer(Server):
    """Echoes."""

    service_name = 'echo'
    action_class_map = {'echo': EchoAction}


LOCAL = f'{__name__}:EchoServer'
ECHO_SERVER_SETTINGS = {'extra_fields_to_redact': {'secret'}}


def run(capsys: pytest.CaptureFixture[str], *arguments: str) -> Tuple[int, str, str]:
    status = main(list(arguments))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.fixture
def settings_module(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Any:
    """``settings_module(text)`` writes a module of that text in the current folder and returns its name."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    names: List[str] = []

    def write(text: str) -> str:
        name = f'cli_settings_{request.node.name[:40].replace("[", "_").replace("]", "_")}_{len(names)}'
        (tmp_path / f'{name}.py').write_text(text)
        names.append(name)
        return name

    yield write
    for name in names:
        sys.modules.pop(name, None)


def test_local_runs_the_server_class_in_this_process(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, 'call', 'echo', 'echo', '{"text": "hi"}', '--local', LOCAL) == (
        0,
        '{\n  "text": "hi",\n  "settings_value": []\n}\n',
        '',
    )


def test_local_takes_the_server_settings_from_the_settings_module(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(
        capsys,
        'call',
        'echo',
        'echo',
        '{"text": "hi"}',
        '--local',
        LOCAL,
        '--settings',
        f'{__name__}:ECHO_SERVER_SETTINGS',
    )

    assert (status, '"secret"' in out) == (0, True)


def test_local_accepts_a_dotted_class_path(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, 'call', 'echo', 'echo', '{"text": "x"}', '--local', f'{__name__}.EchoServer')[0] == 0


@pytest.mark.parametrize(
    ('arguments', 'message'),
    [
        (['--local', f'{__name__}:EchoAction'], f'--local {__name__}:EchoAction is not a Server class'),
        (['--local', 'no_such_module:Server'], 'cannot import the server module no_such_module'),
        (['--local', f'{__name__}:Missing'], f'--local {__name__}:Missing is not a Server class'),
        (['--local', LOCAL, '--redis', 'redis://localhost'], '--local runs the service in this process'),
        (['--local', LOCAL, '--settings', f'{__name__}:LOCAL'], f'{__name__}:LOCAL has no server settings'),
        (['--redis', 'redis://localhost', '--settings', 'x'], 'give either --redis or --settings, not both'),
        (['--redis', 'http://localhost'], 'Unsupported Redis URL scheme "http://"'),
    ],
)
def test_unusable_options_are_usage_errors(
    capsys: pytest.CaptureFixture[str],
    arguments: List[str],
    message: str,
) -> None:
    status, out, err = run(capsys, 'call', 'echo', 'echo', *arguments)

    assert (status, out) == (2, '')
    assert err.startswith('pysoa call: error: ')
    assert message in err


def test_local_server_of_another_service_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, 'status', 'other', '--local', LOCAL)

    assert (status, err) == (2, f'pysoa status: error: --local {LOCAL} is service echo, not other\n')


def test_local_server_settings_that_are_not_valid_are_a_usage_error(
    capsys: pytest.CaptureFixture[str],
    settings_module: Any,
) -> None:
    module = settings_module('SOA_SERVER_SETTINGS = {"harakiri": "soon"}\n')

    status, _, err = run(capsys, 'status', 'echo', '--local', LOCAL, '--settings', module)

    assert status == 2
    assert err.startswith(f'pysoa status: error: the server settings of {LOCAL} are not valid: ')


def test_settings_take_the_client_settings_of_the_service_from_soa_client_settings(
    capsys: pytest.CaptureFixture[str],
    settings_module: Any,
) -> None:
    module = settings_module(
        f'SOA_CLIENT_SETTINGS = {{"echo": {{"transport": {{"path": "pysoa.common.transport.local:LocalClientTransport",'
        f' "kwargs": {{"server_class": "{LOCAL}", "server_settings": {{}}}}}}}}}}\n',
    )

    assert run(capsys, 'call', 'echo', 'echo', '{"text": "via settings"}', '--settings', module)[0] == 0


def test_settings_take_the_client_routing_of_soa_server_settings(
    capsys: pytest.CaptureFixture[str],
    settings_module: Any,
) -> None:
    module = settings_module(
        f'SOA_SERVER_SETTINGS = {{"client_routing": {{"echo": {{"transport": {{'
        f'"path": "pysoa.common.transport.local:LocalClientTransport",'
        f' "kwargs": {{"server_class": "{LOCAL}", "server_settings": {{}}}}}}}}}}}}\n',
    )

    assert run(capsys, 'call', 'echo', 'echo', '{"text": "routed"}', '--settings', module)[0] == 0


def test_settings_without_the_service_list_the_services_they_have(
    capsys: pytest.CaptureFixture[str],
    settings_module: Any,
) -> None:
    module = settings_module(
        'SOA_CLIENT_SETTINGS = {"users": {}, "billing": {}}\nSOA_SERVER_SETTINGS = {"client_routing": {}}\n',
    )

    status, _, err = run(capsys, 'call', 'echo', 'echo', '--settings', module)

    assert status == 2
    assert err == (
        f'pysoa call: error: no client settings for service echo in {module}.SOA_CLIENT_SETTINGS (it has: billing, '
        f'users); the client_routing of {module}.SOA_SERVER_SETTINGS (it has: no service)\n'
    )


def test_settings_module_without_any_settings_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
    settings_module: Any,
) -> None:
    module = settings_module('DEBUG = True\n')

    status, _, err = run(capsys, 'call', 'echo', 'echo', '--settings', module)

    assert status == 2
    assert 'has neither SOA_CLIENT_SETTINGS nor SOA_SERVER_SETTINGS' in err


def test_client_settings_that_are_not_valid_are_a_usage_error(
    capsys: pytest.CaptureFixture[str],
    settings_module: Any,
) -> None:
    module = settings_module('SOA_CLIENT_SETTINGS = {"echo": {"transport": {"path": "no.such:Transport"}}}\n')

    status, _, err = run(capsys, 'call', 'echo', 'echo', '--settings', module)

    assert status == 2
    assert err.startswith('pysoa call: error: the client settings of service echo are not valid: ')


def test_a_context_option_without_equals_sign_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, 'call', 'echo', 'echo', '--local', LOCAL, '--context', 'user_id')

    assert (status, err) == (2, 'pysoa call: error: --context user_id: write KEY=VALUE\n')


def test_a_body_that_is_not_json_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, 'call', 'echo', 'echo', '{text: hi}', '--local', LOCAL)

    assert status == 2
    assert err.startswith('pysoa call: error: BODY_JSON is not valid JSON (')


@pytest.mark.parametrize('timeout', ['0', '-1', 'soon', 'inf'])
def test_a_timeout_that_is_not_a_positive_number_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
    timeout: str,
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(['call', 'echo', 'echo', '--local', LOCAL, '--timeout', timeout])

    assert exit_info.value.code == 2
    assert 'argument --timeout: ' in capsys.readouterr().err


def test_a_command_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([])

    assert exit_info.value.code == 2
    assert 'the following arguments are required: COMMAND' in capsys.readouterr().err


def test_pysoa_logs_do_not_reach_the_output_but_are_restored_after(capsys: pytest.CaptureFixture[str]) -> None:
    import logging

    logger = logging.getLogger('pysoa')
    handlers, propagate = list(logger.handlers), logger.propagate

    run(capsys, 'call', 'echo', 'echo', '{"text": "x"}', '--local', LOCAL)

    assert (logger.handlers, logger.propagate) == (handlers, propagate)
